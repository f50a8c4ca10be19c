"""The OpenAPI 3.1 document of /v1, generated from the route table and the types the
handlers use (issue 11, item 7): a route's response schema is its handler's return type
(``rest.schemas``), wrapped in the route's envelope; its request schema is the route's
``body`` type, else its ``request_fields`` typed by name (``FIELD_TYPES``); every query
parameter the handler reads is declared (``query_fields``, typed by ``QUERY_TYPES``).

The reference UI at ``/v1/docs`` is Swagger UI from vendored assets (``gateway.swagger``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, get_type_hints

from starlette.responses import Response

from domain.accounts.model import UserStatus
from domain.principal import Role
from rest.envelope import EncodedJson, Style
from rest.errors import CORRECTIONS
from rest.router import RawReply, Redirect, Route
from rest.schemas import EnumOf, Example, Schemas

_Requirement = list[dict[str, list[str]]]
_SESSION: _Requirement = [
    {"sessionCookie": []},
    {"sessionHeader": []},
    {"bearer": []},
    {"apiKey": []},
]
_ADMIN: _Requirement = [
    {"adminKey": []},
    {"sessionCookie": []},
    {"sessionHeader": []},
    {"bearer": []},
]
_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "public": [],
    "session": _SESSION,
    "admin": _ADMIN,
    "superadmin": _ADMIN,
}
_STYLE_NOTE = {
    Style.GIN: 'Envelope `{code:200,message:"success",data}`; errors `{code:<biz>,message}`.',
    Style.GRPC: "Bare camelCase JSON; errors `{code:<grpc>,message,details:[]}`.",
}

Cents = Annotated[int, Example(1999)]
Limit = Annotated[int, Example(50)]
FIELD_TYPES: dict[str, Any] = {
    # The body fields of routes without a ``body`` type, by name: how their handlers read
    # them (``RestRequest.text`` a string, ``integer`` an integer, ``strings`` a list…).
    "amount": str | int | float,
    "amountCents": Cents,
    "autoRenew": bool,
    "capabilities": list[str],
    "capability": str,
    "channels": list[dict[str, Any]],
    "currency": Annotated[str, Example("USD")],
    "dailyLimit": int,
    "defaultCurrency": Annotated[str, Example("USD")],
    "description": str,
    "email": Annotated[str, Example("ada@example.com")],
    "enabled": bool,
    "idempotencyKey": str,
    "label": str,
    "maxConcurrency": int,
    "monthlyCapCents": Cents,
    "monthlyLimit": int,
    "name": str,
    "newPassword": str,
    "notifyThresholdPct": Annotated[int, Example(80)],
    "oldPassword": str,
    "operation": Annotated[str, Example("credit")],
    "overagePricePer_1k": Cents,
    "payAsYouGo": bool,
    "payload": str,
    "paymentProvider": Annotated[str, Example("mock")],
    "period": Annotated[str, Example("monthly")],
    "planCode": Annotated[str, Example("pro")],
    "planId": Annotated[str, Example("pro")],
    "priceCents": Cents,
    "provider": str,
    "purpose": Annotated[str, Example("register")],
    "qps": int,
    "rates": list[dict[str, Any]],
    "reason": str,
    "reference": str,
    "refundType": Annotated[str, Example("full")],
    "requestsPerSecond": int,
    "role": Annotated[str, EnumOf(Role)],
    "softLimitPct": Annotated[int, Example(80)],
    "sortOrder": int,
    "status": str,
    "successUrl": str,
    "token": str,
    "userId": str,
    # -- upstreams (issue 15): admin QR logins and NetEase logins --
    "captcha": Annotated[str, Example("2468")],
    "countryCode": Annotated[str, Example("86")],
    "ctcode": Annotated[str, Example("86")],
    "key": str,
    "md5Password": str,
    "password": str,
    "phone": Annotated[str, Example("13800000000")],
    "platform": Annotated[str, Example("qq")],
    "qrimg": bool,
    "store": bool,
}
QUERY_TYPES: dict[str, Any] = {
    # Every query parameter of the table, by name, as its handler parses it
    # (``RestRequest.query_int`` an integer, ``query_instant`` an RFC 3339 time).
    "action": str,
    "actor": str,
    "amount": str,
    "code": str,
    "currency": Annotated[str, Example("USD")],
    "days": Annotated[int, Example(30)],
    "email": str,
    "error": str,
    "error_description": str,
    "intent": Annotated[str, Example("login")],
    "limit": Limit,
    "month": Annotated[str, Example("2026-01")],
    "next": Annotated[str, Example("/settings")],
    "offset": int,
    "orderId": str,
    "order_id": str,
    "page": Annotated[int, Example(1)],
    "page_size": Annotated[int, Example(20)],
    "provider": str,
    "q": Annotated[str, Example("love")],
    "quality": Annotated[str, Example("MP3_128")],
    "refused": bool,
    "role": Annotated[str, EnumOf(Role)],
    "since": datetime,
    "state": str,
    "status": Annotated[str, EnumOf(UserStatus)],
    "statusFilter": str,
    "until": datetime,
    "userId": str,
    # -- upstreams (issue 15): a NetEase login (refresh, status), a QR login's pool label --
    "cookie": str,
    "label": str,
}


def _operation_id(route: Route) -> str:
    words = re.findall(r"[A-Za-z0-9]+", f"{route.method} {route.path.replace('/v1/', ' ')}")
    return str(words[0]).lower() + "".join(str(w).capitalize() for w in words[1:])


def _error_schema(style: Style) -> dict[str, Any]:
    """What ``rest.envelope`` answers on an error: a quota refusal uses the gin envelope
    (with ``data``) on every route, and a 503 names the dependency (``reason`` or an
    ``ErrorInfo`` detail)."""
    props: dict[str, Any] = {
        "code": {"type": "integer", "description": "gin: the business code; grpc: the gRPC code"},
        "message": {"type": "string"},
    }
    if style is Style.GRPC:
        props["details"] = {"type": "array", "items": {"type": "object"}}
    else:
        props["reason"] = {"type": "string", "examples": ["REDIS_UNAVAILABLE"]}
    props["data"] = {"description": "A quota refusal's limits"}
    return {"type": "object", "properties": props, "required": ["code", "message"]}


def _corrections() -> str:
    notes = [f"- `{cls.code}` → {cls.http_status}: {note}" for cls, note in CORRECTIONS.items()]
    return "\n".join(notes)


def response_type(route: Route) -> Any:
    """The handler's return annotation: the route's data type."""
    return get_type_hints(route.handler, include_extras=True).get("return", Any)


def _success(route: Route, schemas: Schemas) -> dict[str, Any]:
    returned = response_type(route)
    if returned is Redirect:
        return {"description": "Redirect (see Location)", "headers": {
            "Location": {"schema": {"type": "string"}, "description": "Where to go"}}}  # fmt: skip
    if returned is RawReply:
        text = {"schema": {"type": "string"}}
        return {"description": "Not JSON: the provider's acknowledgement, or a page",
                "content": {"text/plain": text, "text/html": text}}  # fmt: skip
    if returned is Response:
        binary = {"schema": {"type": "string", "format": "binary"}}
        return {"description": "A file (audio honours Range: 206)",
                "content": {"audio/*": binary, "image/*": binary,
                            "application/octet-stream": binary}}  # fmt: skip
    if returned is EncodedJson:
        raise TypeError(f"{route.path}: annotate EncodedJson with its type (Annotated)")
    data = schemas.of(returned)
    if route.style is Style.GIN:
        body: dict[str, Any] = {
            "type": "object",
            "properties": {
                "code": {"type": "integer", "const": 200},
                "message": {"type": "string", "const": "success"},
                "data": data,
            },
            "required": ["code", "message", "data"],
        }
    else:  # grpc-gateway: the bare message (no data: ``{}``)
        body = data if returned is not type(None) else {"type": "object", "maxProperties": 0}
    return {"description": "Success", "content": {"application/json": {"schema": body}}}


def _request_body(route: Route, schemas: Schemas) -> dict[str, Any] | None:
    if route.body is not None:
        schema = schemas.of(route.body)
    elif route.request_fields:
        schema = {"type": "object", "properties": {
            name: schemas.of(FIELD_TYPES[name]) for name in route.request_fields}}  # fmt: skip
    else:
        return None
    return {"required": False, "content": {"application/json": {"schema": schema}}}


def _parameters(route: Route, schemas: Schemas) -> list[dict[str, Any]]:
    path = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", route.path)
    ]
    query = [
        {"name": name, "in": "query", "required": False, "schema": schemas.of(QUERY_TYPES[name])}
        for name in route.query_fields
    ]
    return path + query


def openapi_document(routes: list[Route], *, server_url: str) -> dict[str, Any]:
    components: dict[str, Any] = {}
    schemas = Schemas(components)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        error_ref = {"$ref": f"#/components/schemas/{route.style.value.capitalize()}Error"}
        op: dict[str, Any] = {
            "operationId": _operation_id(route),
            "summary": route.summary,
            "description": _STYLE_NOTE[route.style]
            + (f" GraphQL twin: `{route.twin}`." if route.twin else "")
            + f" Access: {route.auth}.",
            "tags": [route.path.split("/")[2]],
            "security": _SECURITY[route.auth],
            "responses": {
                str(route.status): _success(route, schemas),
                "default": {
                    "description": "Error (status from the domain error table)",
                    "content": {"application/json": {"schema": error_ref}},
                },
            },
        }
        params = _parameters(route, schemas)
        if params:
            op["parameters"] = params
        body = _request_body(route, schemas)
        if body is not None:
            op["requestBody"] = body
        paths.setdefault(route.path, {})[route.method.lower()] = op
    components["GinError"] = _error_schema(Style.GIN)
    components["GrpcError"] = _error_schema(Style.GRPC)
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
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "sid",
                    "description": "Set by sign-in; unsafe methods also need "
                    "X-CSRF-Token equal to the csrf_token cookie",
                },
                "sessionHeader": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Session-Id",
                    "description": "The sid from sign-in",
                },
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The sid from sign-in, or an API key",
                },
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-API-Key",
                    "description": "An API key's secret (plaintext, shown once)",
                },
                "adminKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Admin-Key",
                    "description": "An operator token (KARPOV_ADMIN_TOKENS)",
                },
            },
        },
    }
