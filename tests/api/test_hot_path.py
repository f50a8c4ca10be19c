"""The hot path's shortcuts answer exactly what the general path answers: the lighter JSON
reply, and the direct dispatch of /v1 routes that skips Starlette's exception middleware
and routing scan."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route as StarletteRoute
from starlette.types import Message, Receive, Scope, Send

from gateway.routing import IndexedRouter
from rest.envelope import JsonReply
from tests.api.harness import Api
from tests.api.test_edge import sign_in


async def sent_by(response: Response) -> list[Message]:
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        messages.append(message)

    await response({"type": "http", "method": "GET", "path": "/"}, receive, send)
    return messages


CONTENTS: list[Any] = [
    {"id": "x", "ünïcode": "日本", "n": 1, "f": 1.5, "ok": True, "none": None, "list": [1, {}]},
    {},
    [],
    None,
    "text",
]


@pytest.mark.parametrize("content", CONTENTS)
@pytest.mark.parametrize("status", [200, 201, 204, 304, 400, 503])
async def test_json_reply_sends_what_json_response_sends(content: Any, status: int) -> None:
    expected, reply = JSONResponse(content, status), JsonReply(content, status)
    assert await sent_by(reply) == await sent_by(expected)
    for response in (expected, reply):
        response.set_cookie("sid", "v", max_age=5, httponly=True, samesite="lax")
        response.headers["WWW-Authenticate"] = "Bearer"
    assert reply.raw_headers == expected.raw_headers


def test_json_reply_refuses_what_json_response_refuses() -> None:
    for content in ({"x": float("nan")}, {"x": object()}):
        with pytest.raises((ValueError, TypeError)):
            JSONResponse(content)
        with pytest.raises((ValueError, TypeError)):
            JsonReply(content)


# -- direct dispatch -------------------------------------------------------------------------


class Raw:
    """A raw ASGI endpoint, like the /v1 ``RouteEndpoint``."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse(self.text)(scope, receive, send)


async def plain(request: Request) -> Response:
    return PlainTextResponse("plain")


def http_scope(method: str, path: str, **extra: Any) -> Scope:
    return {"type": "http", "method": method, "path": path, "root_path": "", **extra}


def test_direct_endpoints_are_the_routes_routing_would_call() -> None:
    me, other, later = Raw("me"), Raw("other"), Raw("later")
    router = IndexedRouter(
        [
            StarletteRoute("/me", me, methods=["GET"]),
            StarletteRoute("/me", later, methods=["GET", "POST"]),  # GET: shadowed by /me
            StarletteRoute("/plain", plain, methods=["GET"]),  # not direct
            StarletteRoute("/items/{id}", other, methods=["GET"]),  # has parameters
            StarletteRoute("/any", other),  # every method: left to the scan
            StarletteRoute("/any", later, methods=["POST"]),
        ],
        direct=lambda endpoint: isinstance(endpoint, Raw),
    )
    scope = http_scope("GET", "/me")
    assert router.direct_endpoint(scope) is me
    assert scope["route"] is router.routes[0]
    assert scope["endpoint"] is me
    assert scope["path_params"] == {}
    assert scope["router"] is router
    assert router.direct_endpoint(http_scope("HEAD", "/me")) is me
    assert router.direct_endpoint(http_scope("POST", "/me")) is later
    assert router.direct_endpoint(http_scope("PUT", "/me")) is None  # 405: the scan says so
    assert router.direct_endpoint(http_scope("GET", "/me/")) is None  # redirect: the scan
    assert router.direct_endpoint(http_scope("GET", "/plain")) is None
    assert router.direct_endpoint(http_scope("GET", "/items/1")) is None
    assert router.direct_endpoint(http_scope("GET", "/any")) is None
    assert router.direct_endpoint(http_scope("POST", "/any")) is None
    assert router.direct_endpoint(http_scope("GET", "/me", root_path="/mounted")) is None


async def test_directly_dispatched_routes_are_counted_by_their_template(sqlite_api: Api) -> None:
    await sign_in(sqlite_api)
    for _ in range(2):
        assert (await sqlite_api.get("/v1/auth/me")).status_code == 200
    assert (await sqlite_api.http.head("/v1/auth/me")).status_code == 200
    assert (await sqlite_api.request("PUT", "/v1/auth/me")).status_code == 405
    metrics = (await sqlite_api.http.get("/metrics")).text
    assert 'karpov_http_requests_total{method="GET",route="/v1/auth/me",status="200"} 2.0' in (
        metrics
    )
    assert 'karpov_http_requests_total{method="HEAD",route="/v1/auth/me",status="200"} 1.0' in (
        metrics
    )
    assert 'karpov_http_requests_total{method="PUT",route="/v1/auth/me",status="405"} 1.0' in (
        metrics
    )
    assert (
        'karpov_http_request_duration_seconds_count{method="GET",route="/v1/auth/me"} 2.0'
        in metrics
    )
