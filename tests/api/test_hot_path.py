"""The hot path's shortcuts answer exactly what the general path answers: the lighter JSON
reply, pre-encoded results, the memoised ``/v1/auth/me`` view, the direct dispatch of /v1
routes that skips Starlette's exception middleware and routing scan, and random values
read from the OS in blocks."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route as StarletteRoute
from starlette.types import Message, Receive, Scope, Send

from domain.accounts.model import Role, User, UserStatus
from gateway.middleware import RandomBytes
from gateway.routing import IndexedRouter
from rest.envelope import JsonReply, Style, encode_json, success
from rest.views import user_proto, user_proto_json
from tests.api.harness import ADMIN_TOKEN, Api
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


@pytest.mark.parametrize("style", list(Style))
@pytest.mark.parametrize("content", CONTENTS)
async def test_an_encoded_result_gives_the_same_envelope(style: Style, content: Any) -> None:
    # (A GRPC-style route that returns None answers {}.)
    data = {} if content is None and style is Style.GRPC else content
    plain, encoded = success(style, content, 200), success(style, encode_json(data), 200)
    assert await sent_by(encoded) == await sent_by(plain)


def a_user(**changes: Any) -> User:
    now = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    user = User(
        id="0123456789abcdef0123456789abcdef",
        email="alice@example.com",
        password_hash="x",
        status=UserStatus.ACTIVE,
        role=Role.USER,
        created_at=now,
        updated_at=now,
        last_login_at=None,
    )
    return replace(user, **changes)


def test_the_memoised_me_view_is_the_view() -> None:
    user = a_user()
    view = user_proto_json(user)
    assert json.loads(view.text) == user_proto(user)
    assert view.text == encode_json(user_proto(user)).text
    assert user_proto_json(user) is view  # memoised per record


def test_a_changed_record_gets_its_own_view() -> None:
    user = a_user()
    before = user_proto_json(user)
    changed = user.with_changes(role=Role.ADMIN, last_login_at=datetime.now(UTC))
    after = user_proto_json(changed)
    assert json.loads(after.text)["role"] == "admin"
    assert json.loads(after.text)["lastLoginAt"] is not None
    assert json.loads(before.text)["role"] == "user"
    other = user_proto_json(replace(user, email="bob@example.com"))
    assert json.loads(other.text)["email"] == "bob@example.com"
    assert user_proto_json(user) is before


async def test_me_reflects_a_change_made_through_this_process(api: Api) -> None:
    await sign_in(api)
    first = await api.get("/v1/auth/me")
    assert first.status_code == 200
    assert first.json()["role"] == "user"
    assert (await api.get("/v1/auth/me")).json() == first.json()
    promoted = await api.patch(
        f"/v1/admin/users/{first.json()['id']}",
        json={"role": "admin"},
        headers={"X-Admin-Key": ADMIN_TOKEN},
    )
    assert promoted.status_code == 200, promoted.text
    again = await api.get("/v1/auth/me")
    assert again.json() == {**first.json(), "role": "admin"}
    await api.post("/v1/auth/logout", json={})
    assert (await api.get("/v1/auth/me")).status_code == 401


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
    assert router.direct_endpoint(http_scope("GET", "/items/1")) is other  # perf (issue 18)
    assert router.direct_endpoint(http_scope("GET", "/any")) is None
    assert router.direct_endpoint(http_scope("POST", "/any")) is None
    assert router.direct_endpoint(http_scope("GET", "/me", root_path="/mounted")) is None


def test_direct_endpoints_with_parameters_are_the_routes_the_scan_would_pick() -> None:
    """perf (issue 18): a path with parameters is dispatched directly only to the route the
    router's scan picks (the first full match in table order), with its parameters."""
    first, second, third, fourth = Raw("first"), Raw("second"), Raw("third"), Raw("fourth")
    router = IndexedRouter(
        [
            StarletteRoute("/v1/local/songs/top", plain, methods=["GET"]),  # not direct
            StarletteRoute("/v1/{provider}/songs/{id}", first, methods=["GET"]),
            StarletteRoute("/v1/{provider}/songs/{id}", second, methods=["DELETE"]),
            StarletteRoute("/v1/{provider}/songs/{id}", third, methods=["GET", "POST"]),
            StarletteRoute("/files/{rest:path}", other_files, methods=["GET"]),
            StarletteRoute("/files/{name}/x", fourth, methods=["GET"]),  # after the path route
            StarletteRoute("/n/{id:int}", fourth, methods=["GET"]),
        ],
        direct=lambda endpoint: isinstance(endpoint, Raw),
    )
    scope = http_scope("GET", "/v1/qq/songs/42")
    assert router.direct_endpoint(scope) is first
    assert scope["route"] is router.routes[1]
    assert scope["path_params"] == {"provider": "qq", "id": "42"}
    assert router.direct_endpoint(http_scope("HEAD", "/v1/qq/songs/42")) is first
    assert router.direct_endpoint(http_scope("DELETE", "/v1/qq/songs/42")) is second
    assert router.direct_endpoint(http_scope("POST", "/v1/qq/songs/42")) is third
    assert router.direct_endpoint(http_scope("PUT", "/v1/qq/songs/42")) is None  # 405
    assert router.direct_endpoint(http_scope("GET", "/v1/local/songs/top")) is None  # static
    assert router.direct_endpoint(http_scope("GET", "/v1/qq/songs/42/x")) is None  # 404
    assert router.direct_endpoint(http_scope("GET", "/files/a/x")) is None  # the path route
    scope = http_scope("GET", "/n/7")
    assert router.direct_endpoint(scope) is fourth
    assert scope["path_params"] == {"id": 7}
    assert router.direct_endpoint(http_scope("GET", "/n/seven")) is None


async def other_files(request: Request) -> Response:
    return PlainTextResponse("files")


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


# -- random values -----------------------------------------------------------------------------


def test_random_values_have_the_secrets_formats_and_never_repeat() -> None:
    pool = RandomBytes(block=100)  # refilled every few values
    ids = [pool.token_hex(8) for _ in range(500)]
    tokens = [pool.token_urlsafe(32) for _ in range(500)]
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", t) for t in tokens)
    assert len(set(ids)) == len(ids)
    assert len(set(tokens)) == len(tokens)
    assert len(pool.take(1000)) == 1000  # more than a block: straight from the OS


def test_a_forked_child_does_not_repeat_its_parents_random_values() -> None:
    pool = RandomBytes()
    pool.take(8)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next value and leave at once
        os.write(write_end, pool.take(16))
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        child = pipe.read()
    assert len(child) == 16
    assert child != pool.take(16)


async def test_request_ids_and_csrf_tokens_differ_per_request(sqlite_api: Api) -> None:
    responses = [await sqlite_api.fresh().http.get("/v1/config/runtime") for _ in range(20)]
    ids = {r.headers["x-request-id"] for r in responses}
    tokens = {r.cookies["csrf_token"] for r in responses}
    assert len(ids) == len(tokens) == 20
