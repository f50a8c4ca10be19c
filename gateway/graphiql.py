"""GraphiQL served entirely from our own assets, so ``GET /graphql`` works with no network.

The vendored files live in ``gateway/static/graphiql/`` (see ``VERSIONS.txt`` there) and are
served by :func:`static_files_app`, which the composition root mounts at ``/static/graphiql``.
The page itself (:func:`graphiql_html`) contains no inline script or style, because the
platform sends ``Content-Security-Policy: default-src 'self'``: the bootstrap lives in
``init.js``, which reads the endpoint from the root element's ``data-endpoint`` attribute,
sends cookies (``credentials: 'same-origin'``) and echoes the ``csrf_token`` cookie in an
``X-CSRF-Token`` header (double-submit CSRF).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static" / "graphiql"

#: Stylesheets, in the order the page links them.
GRAPHIQL_STYLESHEETS: list[str] = [
    "graphiql.min.css",
    "graphiql-plugin-explorer.css",
    "page.css",
]
#: Scripts, in the order the page loads them (each needs the globals of those before it).
GRAPHIQL_SCRIPTS: list[str] = [
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql-plugin-explorer.umd.js",
    "init.js",
]
#: Every asset file the page loads from ``static_prefix``.
GRAPHIQL_ASSETS: list[str] = [*GRAPHIQL_STYLESHEETS, *GRAPHIQL_SCRIPTS]

#: An optional, page-only CSP under which GraphiQL looks exactly as designed. Its CSS embeds
#: its fonts (Roboto, Fira Code) and a few lint-marker images as ``data:`` URLs, which plain
#: ``default-src 'self'`` blocks (the page still works, in system fonts). Either policy also
#: blocks the one ``<style>`` element GraphiQL injects at run time (react-remove-scroll's
#: scroll lock, when a dialog opens): cosmetic only, the dialog still works.
GRAPHIQL_CSP = "default-src 'self'; img-src 'self' data:; font-src 'self' data:"


def _local_path(value: str, what: str) -> str:
    """Reject anything but an absolute path on this origin (no scheme, no ``//host``)."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value or ":" in value:
        raise ValueError(f"{what} must be a local absolute path like '/graphql', got {value!r}")
    return value


def graphiql_html(graphql_path: str = "/graphql", static_prefix: str = "/static/graphiql") -> str:
    """A self-contained GraphiQL page: every asset comes from ``static_prefix`` on this origin.

    No inline script or style and no external URL, so it renders under
    ``Content-Security-Policy: default-src 'self'`` with no network access.
    """
    endpoint = escape(_local_path(graphql_path, "graphql_path"), quote=True)
    prefix = _local_path(static_prefix, "static_prefix").rstrip("/")
    links = "\n".join(
        f'    <link rel="stylesheet" href="{escape(f"{prefix}/{name}", quote=True)}">'
        for name in GRAPHIQL_STYLESHEETS
    )
    scripts = "\n".join(
        f'    <script src="{escape(f"{prefix}/{name}", quote=True)}" defer></script>'
        for name in GRAPHIQL_SCRIPTS
    )
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="robots" content="noindex">
    <title>Karpov GraphiQL</title>
{links}
{scripts}
  </head>
  <body>
    <div id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL…</div>
    <noscript>GraphiQL needs JavaScript.</noscript>
  </body>
</html>
"""


def static_files_app() -> StaticFiles:
    """The vendored GraphiQL assets, to be mounted at ``/static/graphiql``."""
    return StaticFiles(directory=STATIC_DIR)
