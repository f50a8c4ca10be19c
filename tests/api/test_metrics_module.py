"""gateway.metrics: pure-ASGI HTTP metrics with low-cardinality route templates."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.metrics import (
    REQUEST_DURATION,
    REQUESTS_TOTAL,
    MetricsMiddleware,
    metrics_endpoint,
    route_template,
)


async def item(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["id"]})


async def boom(request: Request) -> Response:
    raise RuntimeError("boom")


async def report(request: Request) -> Response:
    return PlainTextResponse(request.path_params["name"])


async def preset_app(scope: Scope, receive: Receive, send: Send) -> None:
    scope["route_template"] = "/custom/{thing}"
    await PlainTextResponse("ok")(scope, receive, send)


def build_app(registry: CollectorRegistry, *, as_wrapper: bool = False) -> ASGIApp:
    routes = [
        Route("/items/{id}", item, methods=["GET"]),
        Route("/boom", boom),
        Mount("/admin", routes=[Route("/reports/{name}", report)]),
        Mount("/custom", app=preset_app),
        Route("/metrics", metrics_endpoint(registry)),
    ]
    if as_wrapper:
        return MetricsMiddleware(Starlette(routes=routes), registry)
    return Starlette(routes=routes, middleware=[Middleware(MetricsMiddleware, registry=registry)])


def client_for(app: ASGIApp) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    out: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                out[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def key(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


@pytest.mark.parametrize("as_wrapper", [False, True], ids=["inside-starlette", "wrapping"])
async def test_counts_requests_by_route_template_not_raw_path(as_wrapper: bool) -> None:
    registry = CollectorRegistry()
    async with client_for(build_app(registry, as_wrapper=as_wrapper)) as client:
        for item_id in ("1", "2", "31337"):
            assert (await client.get(f"/items/{item_id}")).status_code == 200
        assert (await client.post("/items/9")).status_code == 405
        assert (await client.get("/nowhere/42")).status_code == 404
        assert (await client.get("/boom")).status_code == 500
        assert (await client.get("/admin/reports/q3")).status_code == 200
        assert (await client.get("/custom/anything")).status_code == 200
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "version=" in response.headers["content-type"]
    text = response.text

    assert "karpov_http_requests_total{" in text
    assert 'route="/items/{id}"' in text
    for raw in ("/items/1", "/items/2", "/items/31337", "/nowhere/42", "/admin/reports/q3"):
        assert f'"{raw}"' not in text

    counts = samples(text, REQUESTS_TOTAL)
    assert counts[key(method="GET", route="/items/{id}", status="200")] == 3
    assert counts[key(method="POST", route="/items/{id}", status="405")] == 1
    assert counts[key(method="GET", route="unmatched", status="404")] == 1
    assert counts[key(method="GET", route="/boom", status="500")] == 1
    assert counts[key(method="GET", route="/admin/reports/{name}", status="200")] == 1
    assert counts[key(method="GET", route="/custom/{thing}", status="200")] == 1

    durations = samples(text, REQUEST_DURATION + "_count")
    assert durations[key(method="GET", route="/items/{id}")] == 3


async def test_two_apps_with_their_own_registries_do_not_clash() -> None:
    first, second = CollectorRegistry(), CollectorRegistry()
    async with client_for(build_app(first)) as a, client_for(build_app(second)) as b:
        await a.get("/items/1")
        await a.get("/items/2")
        await b.get("/items/3")
        text_a = (await a.get("/metrics")).text
        text_b = (await b.get("/metrics")).text
    assert (
        samples(text_a, REQUESTS_TOTAL)[key(method="GET", route="/items/{id}", status="200")] == 2
    )
    assert (
        samples(text_b, REQUESTS_TOTAL)[key(method="GET", route="/items/{id}", status="200")] == 1
    )


async def test_unknown_methods_are_bucketed() -> None:
    registry = CollectorRegistry()
    async with client_for(build_app(registry)) as client:
        await client.request("BREW", "/items/1")
        text = (await client.get("/metrics")).text
    assert 'method="OTHER"' in text
    assert "BREW" not in text


def test_route_template_function() -> None:
    app = Starlette(
        routes=[
            Route("/items/{id}", item),
            Mount("/admin", routes=[Route("/reports/{name}", report)]),
            Mount("/static/graphiql", app=preset_app),  # a plain ASGI app, like StaticFiles
        ]
    )

    def scope(path: str, **extra: object) -> Scope:
        return {"type": "http", "method": "GET", "path": path, "root_path": "", "app": app, **extra}

    assert route_template(scope("/items/7")) == "/items/{id}"
    assert route_template(scope("/admin/reports/x")) == "/admin/reports/{name}"
    assert route_template(scope("/static/graphiql/init.js")) == "/static/graphiql/{path}"
    assert route_template(scope("/zzz")) == "unmatched"
    assert route_template(scope("/zzz", route_template="/set/{upstream}")) == "/set/{upstream}"
    assert route_template({"type": "http", "path": "/items/7"}) == "unmatched"
