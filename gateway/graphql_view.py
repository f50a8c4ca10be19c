"""The strawberry ASGI view, wired to our context and our offline GraphiQL page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.graphiql import GRAPHIQL_CSP, graphiql_html
from gateway.request_context import request_context
from resolvers.context import Context, Services


class SubResponseCookies:
    """Cookie jar writing to strawberry's sub-response (merged into the final one)."""

    def __init__(self, response: Response, *, secure: bool) -> None:
        self._response = response
        self._secure = secure

    def set(
        self, name: str, value: str, *, max_age: int, http_only: bool = True, path: str = "/"
    ) -> None:
        self._response.set_cookie(
            name, value, max_age=max_age, path=path, httponly=http_only,
            secure=self._secure, samesite="lax",
        )  # fmt: skip

    def delete(self, name: str, *, path: str = "/") -> None:
        self._response.delete_cookie(name, path=path, samesite="lax", httponly=True)


class KarpovGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: Any,
        *,
        services: Callable[[], Services],
        secure_cookies: bool,
        graphiql: bool,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None)
        self._services = services
        self._secure = secure_cookies
        self._page = graphiql_html() if graphiql else ""

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        assert isinstance(response, Response)
        cookies = SubResponseCookies(response, secure=self._secure)
        return request_context(request.scope, self._services(), cookies, response.headers)

    async def render_graphql_ide(self, request: Request) -> Response:
        # GraphiQL's CSS embeds its fonts and icons as data: URLs; allow those here only.
        return HTMLResponse(self._page, headers={"Content-Security-Policy": GRAPHIQL_CSP})
