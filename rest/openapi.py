"""The OpenAPI 3.1 document of /v1, generated from the route table, and a plain docs page
(no scripts, no CDN: it renders offline and under ``default-src 'self'``)."""

from __future__ import annotations

import html
import re
from typing import Any

from rest.envelope import Style
from rest.errors import CORRECTIONS
from rest.router import Route

_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "public": [],
    "session": [{"sessionCookie": []}, {"sessionHeader": []}, {"bearer": []}],
    "admin": [{"adminToken": []}, {"sessionCookie": []}, {"bearer": []}],
    "superadmin": [{"adminToken": []}, {"sessionCookie": []}, {"bearer": []}],
}
_STYLE_NOTE = {
    Style.GIN: 'Envelope `{code:200,message:"success",data}`; errors `{code:<biz>,message}`.',
    Style.GRPC: "Bare camelCase JSON; errors `{code:<grpc>,message,details:[]}`.",
}


def _operation_id(route: Route) -> str:
    words = re.findall(r"[A-Za-z0-9]+", f"{route.method} {route.path.replace('/v1/', ' ')}")
    return str(words[0]).lower() + "".join(str(w).capitalize() for w in words[1:])


def _error_schema(style: Style) -> dict[str, Any]:
    props: dict[str, Any] = {"code": {"type": "integer"}, "message": {"type": "string"}}
    if style is Style.GRPC:
        props["details"] = {"type": "array", "items": {}}
    return {"type": "object", "properties": props, "required": ["code", "message"]}


def _corrections() -> str:
    notes = [f"- `{cls.code}` → {cls.http_status}: {note}" for cls, note in CORRECTIONS.items()]
    return "\n".join(notes)


def openapi_document(routes: list[Route], *, server_url: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        op: dict[str, Any] = {
            "operationId": _operation_id(route),
            "summary": route.summary,
            "description": _STYLE_NOTE[route.style]
            + (f" GraphQL twin: `{route.twin}`." if route.twin else "")
            + f" Access: {route.auth}.",
            "tags": [route.path.split("/")[2]],
            "security": _SECURITY[route.auth],
            "responses": {
                str(route.status): {
                    "description": "Redirect (see Location)" if route.status == 302 else "Success"
                },
                "default": {
                    "description": "Error (status from the domain error table)",
                    "content": {"application/json": {"schema": _error_schema(route.style)}},
                },
            },
        }
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", route.path)
        ] + [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
            for name in route.query_fields
        ]
        if params:
            op["parameters"] = params
        if route.request_fields:
            op["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {f: {"type": "string"} for f in route.request_fields},
                }}},
            }  # fmt: skip
        paths.setdefault(route.path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Karpov /v1 compatibility API",
            "version": "1.0.0",
            "description": "The legacy REST API of the Karpov Gateway, served by the same "
            "resolvers as GraphQL (`/graphql`). Unsafe methods with a cookie session need "
            "`X-CSRF-Token` equal to the `csrf_token` cookie.\n\nCorrections to the "
            "original's statuses:\n" + _corrections(),
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "sid"},
                "sessionHeader": {"type": "apiKey", "in": "header", "name": "X-Session-Id"},
                "bearer": {"type": "http", "scheme": "bearer"},
                "adminToken": {"type": "apiKey", "in": "header", "name": "X-Admin-Key"},
            }
        },
    }


def docs_html(document: dict[str, Any]) -> str:
    rows = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}"
                f"</code></td><td>{html.escape(op['summary'])}</td>"
                f"<td>{html.escape(op['description'])}</td></tr>"
            )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Karpov /v1 API</title>"
        "</head><body><h1>Karpov /v1 API</h1><p>Machine-readable: "
        "<a href='/v1/docs/openapi.json'>openapi.json</a>, "
        "<a href='/v1/docs/openapi.yaml'>openapi.yaml</a>. GraphQL and GraphiQL: "
        "<a href='/graphql'>/graphql</a>.</p><table border='1' cellpadding='4'>"
        "<tr><th>Method</th><th>Path</th><th>Summary</th><th>Details</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
