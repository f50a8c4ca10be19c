"""The /v1 reference (``/v1/docs``): Swagger UI served entirely from our own assets, so it
works with no network access, like GraphiQL (``gateway.graphiql``).

The vendored files live in ``gateway/static/swagger-ui/`` (see ``VERSIONS.txt`` there) and
are mounted at ``/static/swagger-ui``. The page has no inline script or style (the
platform sends ``Content-Security-Policy: default-src 'self'``): ``init.js`` starts Swagger
UI on the document named by the root element's ``data-url``. Without JavaScript the page
still lists every route (a ``<noscript>`` table).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static" / "swagger-ui"
STATIC_PREFIX = "/static/swagger-ui"
#: Every asset file the page loads from ``STATIC_PREFIX``, stylesheets first.
SWAGGER_ASSETS: list[str] = ["swagger-ui.css", "page.css", "swagger-ui-bundle.js", "init.js"]
#: The page's own CSP: Swagger UI's stylesheet draws its icons as ``data:`` SVGs.
SWAGGER_CSP = "default-src 'self'; img-src 'self' data:"


def swagger_html(document: dict[str, Any], document_url: str = "/v1/docs/openapi.json") -> str:
    rows = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}"
                f"</code></td><td>{html.escape(op['summary'])}</td></tr>"
            )
    links = "".join(
        f'<link rel="stylesheet" href="{STATIC_PREFIX}/{name}">'
        for name in SWAGGER_ASSETS
        if name.endswith(".css")
    )
    scripts = "".join(
        f'<script src="{STATIC_PREFIX}/{name}" defer></script>'
        for name in SWAGGER_ASSETS
        if name.endswith(".js")
    )
    title = html.escape(document["info"]["title"])
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>{links}{scripts}"
        "</head><body><div class='karpov-docs-header'><strong>Karpov /v1 API</strong> "
        "<a href='/v1/docs/openapi.json'>openapi.json</a>"
        "<a href='/v1/docs/openapi.yaml'>openapi.yaml</a>"
        "<a href='/graphql'>GraphQL (GraphiQL)</a></div>"
        f"<div id='swagger-ui' data-url='{html.escape(document_url, quote=True)}'>"
        "Loading the API reference…</div><noscript><table class='karpov-routes'>"
        "<tr><th>Method</th><th>Path</th><th>Summary</th></tr>"
        + "".join(rows)
        + "</table></noscript></body></html>"
    )


def static_files_app() -> StaticFiles:
    """The vendored Swagger UI assets, to be mounted at ``STATIC_PREFIX``."""
    return StaticFiles(directory=STATIC_DIR)
