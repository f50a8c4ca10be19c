"""The GraphQL view's sub-response (where resolvers set cookies and headers) starts as
strawberry's does: no status, no headers, an empty body, no background task (issue 18
builds it without Starlette's header setup)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from strawberry.asgi import GraphQL

from gateway.graphql_view import KarpovGraphQL


async def _sub_responses() -> tuple[Any, Any]:
    request = Request({"type": "http", "method": "POST", "headers": [], "path": "/graphql"})
    ours = await KarpovGraphQL.get_sub_response(None, request)  # type: ignore[arg-type]
    stock = await GraphQL.get_sub_response(None, request)  # type: ignore[arg-type]
    return ours, stock


async def test_it_starts_as_strawberrys_sub_response() -> None:
    ours, stock = await _sub_responses()
    for attribute in ("status_code", "background", "body", "raw_headers"):
        assert getattr(ours, attribute) == getattr(stock, attribute), attribute
    assert list(ours.headers.raw) == list(stock.headers.raw) == []


async def test_cookies_and_headers_set_on_it_land_in_its_raw_headers() -> None:
    ours, stock = await _sub_responses()
    for response in (ours, stock):
        response.set_cookie("sid", "v", max_age=60, httponly=True, samesite="lax")
        response.headers["X-Extra"] = "1"
    assert ours.raw_headers == stock.raw_headers and len(ours.raw_headers) == 2
