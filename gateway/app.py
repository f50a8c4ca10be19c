"""``create_app``: the Starlette application with both edges and the middleware pipeline."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import yaml
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from gateway.container import Container, build_container
from gateway.cors import CorsPolicy
from gateway.graphiql import static_files_app
from gateway.graphql_view import KarpovGraphQL
from gateway.heap import tune_for_serving
from gateway.metrics import DomainMetrics, HttpMetricsRecorder, job_metrics, metrics_endpoint
from gateway.middleware import AdminTokens, ClientIpResolver, EdgeMiddleware, PrincipalResolver
from gateway.request_context import request_context
from gateway.routing import IndexedRouter
from gateway.settings import Settings
from gateway.swagger import SWAGGER_CSP, swagger_html  # openapi (issue 11): /v1/docs
from gateway.swagger import static_files_app as swagger_static
from resolvers.context import Context, Services
from rest.openapi import openapi_document
from rest.router import ResponseCookies, RouteEndpoint, build_routes
from rest.router import Route as RestRoute
from rest.routes import ROUTES
from schema.build import build_schema

ContainerFactory = Callable[[Settings], Awaitable[Container]]
GRAPHQL_PATHS = ("/graphql",)
"""Not under the double-submit cookie: their CSRF rule is ``graphql_csrf_passes``."""
CSRF_EXEMPT = (
    "/healthz",
    "/readyz",
    # -- billing (issue 14): providers post their notifications server to server (the
    # original's CSRF check refused them, its bug §6.10); they are signed instead.
    *(f"/v1/billing/callback/{name}" for name in ("yipay", "hupijiao", "ldcpay", "mock")),
    *GRAPHQL_PATHS,  # issue 11
)


def _container(request_app: Any) -> Container:
    container = getattr(request_app.state, "container", None)
    if container is None:
        raise RuntimeError("the application is not started (lifespan did not run)")
    return container  # type: ignore[no-any-return]


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    container = _container(request.app)
    checks = await container.readiness()
    down = [name for name, ok in checks.items() if not ok]
    if down:
        text = "not ready: " + ", ".join(f"{d} down" for d in down)
        if "redis" in down:
            # Operators need to know what API-key and metered requests get meanwhile.
            policy = container.settings.quota_on_redis_error.value
            text += f" (quota gate: {policy})"
        return PlainTextResponse(text, 503)
    # -- worker (issue 17): a stale worker is named, without failing API readiness --
    worker = await container.worker_heartbeat()
    return PlainTextResponse("ready" if worker is None else f"ready (worker: {worker})")


LANDING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{name}</title></head>
<body>
<h1>{name}</h1>
<p>A GraphQL-first API. Where to go:</p>
<ul>
<li><a href="/graphql">GraphiQL</a>: explore and run the GraphQL API in this browser
(<code>POST /graphql</code> for clients)</li>
<li><a href="/v1/docs">/v1 reference</a> (<a href="/v1/docs/openapi.json">OpenAPI JSON</a>,
<a href="/v1/docs/openapi.yaml">YAML</a>): the REST compatibility API</li>
<li><a href="/healthz">/healthz</a> and <a href="/readyz">/readyz</a>: liveness and readiness</li>
</ul>
<p>Sign in with the <code>accountLogin</code> mutation (or <code>POST /v1/auth/login</code>),
then send <code>Authorization: Bearer &lt;sid&gt;</code> or an API key in
<code>X-API-Key</code>.</p>
</body></html>
"""


async def not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    if status == 405:
        headers = exc.headers if isinstance(exc, HTTPException) else None
        return JSONResponse({"code": 40500, "message": "method not allowed"}, 405, headers)
    return JSONResponse({"code": 40400, "message": "not found"}, 404)


def create_app(
    settings: Settings,
    *,
    container_factory: ContainerFactory | None = None,
    query: type | None = None,
    extra_routes: Sequence[RestRoute] = (),
    tune_gc_on_start: bool = False,
) -> Starlette:
    """``query`` and ``extra_routes`` let a test application add operations (for example
    a metered one) to both edges. ``tune_gc_on_start``: a serving process tunes the garbage
    collector once started (``gateway.heap``); tests, which start many applications in
    one process, leave it off."""
    factory = container_factory or build_container
    schema = build_schema(
        introspection=settings.introspection, field_suggestions=settings.env != "prod",
        query=query, max_cost=settings.graphql_max_cost,
    )  # fmt: skip
    registry = CollectorRegistry()
    app: Starlette
    started: list[Container] = []  # the running container, set by the lifespan

    def container() -> Container:
        if not started:
            raise RuntimeError("the application is not started (lifespan did not run)")
        return started[0]

    def services() -> Services:
        return container().services

    def make_context(request: Request, cookies: ResponseCookies) -> Context:
        return request_context(request.scope, services(), cookies)

    graphql = KarpovGraphQL(
        schema, services=services, secure_cookies=settings.secure_cookies,
        graphiql=settings.graphiql,
    )  # fmt: skip
    document = openapi_document(ROUTES, server_url=settings.public_base_url)
    document_json = json.dumps(document, indent=2)
    document_yaml = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)

    async def openapi_json(request: Request) -> Response:
        return Response(document_json, media_type="application/json",
                        headers={"Cache-Control": "public, max-age=60"})  # fmt: skip

    async def openapi_yaml(request: Request) -> Response:
        return Response(document_yaml, media_type="application/yaml",
                        headers={"Cache-Control": "public, max-age=60"})  # fmt: skip

    docs_page = swagger_html(document)

    async def docs(request: Request) -> Response:
        return HTMLResponse(docs_page, headers={"Content-Security-Policy": SWAGGER_CSP})

    landing_page = LANDING_PAGE.format(name=html.escape(settings.app_name))

    async def landing(request: Request) -> Response:  # issue 11: the newcomer's first page
        return HTMLResponse(landing_page)

    routes: list[BaseRoute] = [
        Route("/", landing, methods=["GET", "HEAD"]),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
        Route("/metrics", metrics_endpoint(registry), methods=["GET"]),
        Route("/graphql", graphql),  # every method: the view answers 405 as GraphQL
        Mount("/static/graphiql", app=static_files_app(), name="graphiql-static"),
        Mount("/static/swagger-ui", app=swagger_static(), name="swagger-static"),  # openapi
        Route("/v1/docs/openapi.json", openapi_json, methods=["GET"]),
        Route("/v1/docs/openapi.yaml", openapi_yaml, methods=["GET"]),
        Route("/v1/docs", docs, methods=["GET"]),
        *build_routes(
            [*ROUTES, *extra_routes], make_context, secure_cookies=settings.secure_cookies
        ),
    ]

    jobs_observed = job_metrics(registry)  # worker (issue 17): in-process job runs
    domain_observed = DomainMetrics(registry)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        running = await factory(settings)
        running.services.jobs.add_observer(jobs_observed.observe)  # worker (issue 17)
        running.services.observations.add(domain_observed)  # pool, payments, upstreams
        app.state.container = running
        started.append(running)
        if tune_gc_on_start:  # perf (issue 18): see gateway.heap
            tune_for_serving()
        try:
            yield
        finally:
            started.clear()
            await running.close()
            app.state.container = None

    app = Starlette(exception_handlers={404: not_found, 405: not_found})
    # /v1 endpoints map every error themselves, so the edge may call them directly,
    # skipping Starlette's exception middleware and the routing pass.
    router = IndexedRouter(
        routes, lifespan=lifespan, direct=lambda endpoint: isinstance(endpoint, RouteEndpoint)
    )
    app.router = router
    app.state.settings = settings
    app.state.container = None
    app.state.metrics_registry = registry
    app.add_middleware(
        EdgeMiddleware,
        recorder=HttpMetricsRecorder(registry),
        max_bytes=settings.max_body_bytes,
        secure_cookies=settings.secure_cookies,
        csrf_exempt_paths=CSRF_EXEMPT,
        principals=PrincipalResolver(
            accounts=lambda: container().services.accounts,
            api_keys=lambda: container().services.api_key_verifier,
            admin_tokens=AdminTokens(tuple(t.encode() for t in settings.admin_tokens)),
            client_ips=ClientIpResolver(settings.trusted_proxies),
        ),
        direct=router.direct_endpoint,
        # issue 11: CORS for /graphql and /v1; /graphql's own CSRF rule (Apollo's)
        cors=CorsPolicy(settings.cors_origins),
        graphql_paths=GRAPHQL_PATHS,
    )
    return app
