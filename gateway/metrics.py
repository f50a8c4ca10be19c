"""Prometheus HTTP metrics: a pure ASGI middleware and a ``/metrics`` endpoint.

Metrics are registered in a :class:`~prometheus_client.CollectorRegistry` that the caller
passes in (never the global default one), so several apps in one process do not clash.

``route`` labels are low-cardinality templates (``/items/{id}``), never raw paths: see
:func:`route_template`.
"""

from __future__ import annotations

import time
import weakref
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Host, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS_TOTAL = "karpov_http_requests_total"
REQUEST_DURATION = "karpov_http_request_duration_seconds"
UNMATCHED = "unmatched"

#: Seconds. Dense below 1 s where an API should live, with a tail for slow queries.
DURATION_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)


#: Methods kept as their own label value; anything else is counted as "OTHER".
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


_BOUNDS: tuple[float, ...] = (*DURATION_BUCKETS, float("inf"))


class _Unscraped:
    """perf (issue 18): the HTTP requests observed since the last scrape, as plain
    numbers per label set: ``[count, sum, per-bucket counts...]``. prometheus_client's
    ``inc`` and ``observe`` take a lock and walk the buckets on every request (≈ 2.5 µs);
    this adds three numbers (≈ 0.7 µs) and hands them to the Counter and Histogram when the
    registry is collected. Registered before them, so every collection (the ``/metrics``
    endpoint, ``get_sample_value``) sees every request. Used from the event loop's thread
    only, as the recorder is."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, int], tuple[Any, Any, list[float]]] = {}

    def describe(self) -> list[Any]:
        return []  # no metric of its own: it never clashes with a name

    def collect(self) -> list[Any]:
        for counter, histogram, counts in self.entries.values():
            observed = counts[0]
            if not observed:
                continue
            counter.inc(observed)
            # The Histogram's own values, as its observe() writes them (bucket i holds the
            # observations whose first upper bound at or above them is bound i).
            histogram._sum.inc(counts[1])
            for i, in_bucket in enumerate(counts[2:]):
                if in_bucket:
                    histogram._buckets[i].inc(in_bucket)
            counts[:] = [0] * len(counts)
        return []


@dataclass(frozen=True)
class HttpMetrics:
    requests: Counter
    duration: Histogram
    unscraped: _Unscraped


_BY_REGISTRY: weakref.WeakKeyDictionary[CollectorRegistry, HttpMetrics] = (
    weakref.WeakKeyDictionary()
)


def http_metrics(registry: CollectorRegistry) -> HttpMetrics:
    """The HTTP collectors of ``registry``, created and registered on first use."""
    metrics = _BY_REGISTRY.get(registry)
    if metrics is None:
        unscraped = _Unscraped()
        registry.register(unscraped)  # collected before the two below
        metrics = HttpMetrics(
            unscraped=unscraped,
            requests=Counter(
                REQUESTS_TOTAL,
                "HTTP requests handled, by method, route template and status code.",
                ("method", "route", "status"),
                registry=registry,
            ),
            duration=Histogram(
                REQUEST_DURATION,
                "HTTP request duration in seconds, by method and route template.",
                ("method", "route"),
                buckets=DURATION_BUCKETS,
                registry=registry,
            ),
        )
        _BY_REGISTRY[registry] = metrics
    return metrics


def _match_routes(routes: Iterable[BaseRoute], scope: Scope, prefix: str) -> str | None:
    """The template of the route Starlette's router would pick for ``scope``, or None."""
    partial: str | None = None
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.NONE:
            continue
        template: str | None
        if isinstance(route, Mount | Host):
            own = route.path if isinstance(route, Mount) else ""
            inner = (
                _match_routes(route.routes, {**scope, **child_scope}, prefix + own)
                if route.routes
                else None
            )
            # A mounted plain ASGI app (e.g. StaticFiles), or no inner match: "/static/{path}".
            template = inner if inner is not None else f"{prefix}{own}/{{path}}"
        else:
            path = getattr(route, "path", None)
            template = prefix + path if isinstance(path, str) else None
        if template is None:
            continue
        if match is Match.FULL:
            return template
        if partial is None:  # e.g. 405: the path matched, the method did not
            partial = template
    return partial


def route_template(scope: Scope) -> str:
    """A low-cardinality route label for ``scope``: never the raw path.

    ``scope["route_template"]`` wins if an upstream component set it; otherwise the scope
    is matched against ``scope["app"]``'s Starlette routes (descending into mounts);
    otherwise ``"unmatched"``.
    """
    preset = scope.get("route_template")
    if isinstance(preset, str) and preset:
        return preset
    if scope.get("type") not in ("http", "websocket"):
        return UNMATCHED
    app = scope.get("app")
    routes = getattr(app, "routes", None)
    if routes is None:
        routes = getattr(getattr(app, "router", None), "routes", None)
    if not routes:
        return UNMATCHED
    return _match_routes(routes, scope, "") or UNMATCHED


class HttpMetricsRecorder:
    """Counts and times finished HTTP requests into ``registry``: the bookkeeping of
    :class:`MetricsMiddleware`, shared with the gateway's merged edge middleware (which
    records from its own ASGI layer rather than adding one)."""

    def __init__(self, registry: CollectorRegistry, app: ASGIApp | None = None) -> None:
        self.registry = registry
        self.metrics = http_metrics(registry)
        self.app = app  # what to match routes against when the scope names no app
        self._unscraped = self.metrics.unscraped.entries

    @staticmethod
    def before(scope: Scope) -> tuple[str, Any]:
        """What route matching needs, taken before routers mutate the scope on the way
        down (root_path, path_params); components downstream may set "route_template"."""
        return scope.get("root_path", ""), scope.get("app")

    def observe(
        self, scope: Scope, before: tuple[str, Any], status_code: int, elapsed: float
    ) -> None:
        route = self._route_label(scope, before)
        method = str(scope.get("method", "")).upper()
        if method not in KNOWN_METHODS:
            method = "OTHER"
        key = (method, route, status_code)
        entry = self._unscraped.get(key)
        if entry is None:
            # labels() hashes and locks on every call; the children are stable, keep them
            # (made at the first request, so their _created stays the series' start).
            entry = self._unscraped[key] = (
                self.metrics.requests.labels(method=method, route=route, status=str(status_code)),
                self.metrics.duration.labels(method=method, route=route),
                [0, 0.0] + [0] * len(_BOUNDS),
            )
        counts = entry[2]
        counts[0] += 1
        counts[1] += elapsed
        counts[2 + bisect_left(_BOUNDS, elapsed)] += 1

    def _route_label(self, scope: Scope, before: tuple[str, Any]) -> str:
        preset = scope.get("route_template")
        if isinstance(preset, str) and preset:
            return preset
        # Starlette's router records the route it dispatched to: no second matching pass.
        # (Inside a mount its path is relative to the mount, so match in that case.)
        matched = scope.get("route")
        root_path, app = before
        if isinstance(matched, Route) and scope.get("root_path", "") == root_path:
            return matched.path
        # We may wrap the app from outside: then Starlette set scope["app"] on the way down.
        snapshot = {**scope, "root_path": root_path, "app": app or scope.get("app") or self.app}
        snapshot.pop("path_params", None)
        return route_template(snapshot)


class MetricsMiddleware:
    """Pure ASGI middleware counting and timing HTTP requests into ``registry``.

    Records ``karpov_http_requests_total{method,route,status}`` and
    ``karpov_http_request_duration_seconds{method,route}``. Use it either inside a
    Starlette app (``Middleware(MetricsMiddleware, registry=registry)``) or wrapped around
    one (``MetricsMiddleware(app, registry)``). Non-HTTP scopes pass straight through.
    """

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.registry = registry
        self.recorder = HttpMetricsRecorder(registry, app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        before = self.recorder.before(scope)
        status_code = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            self.recorder.observe(scope, before, status_code, elapsed)


def metrics_endpoint(registry: CollectorRegistry) -> Callable[[Request], Awaitable[Response]]:
    """An async Starlette endpoint serving ``registry`` in the Prometheus text format."""

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics


# -- worker (issue 17): the scheduled jobs ---------------------------------------------------

JOB_RUNS_TOTAL = "karpov_job_runs_total"
JOB_FAILURES_TOTAL = "karpov_job_failures_total"
JOB_DURATION = "karpov_job_duration_seconds"


@dataclass(frozen=True)
class JobMetrics:
    runs: Counter
    failures: Counter
    duration: Histogram

    def observe(self, run: Any) -> None:
        """A finished ``domain.jobs.model.JobRun``."""
        self.runs.labels(run.name, run.outcome.value).inc()
        if run.outcome.value != "ok":
            self.failures.labels(run.name).inc()
        self.duration.labels(run.name).observe(run.duration_ms / 1000)


def job_metrics(registry: CollectorRegistry) -> JobMetrics:
    return JobMetrics(
        runs=Counter(JOB_RUNS_TOTAL, "Scheduled job runs, by job and outcome.",
                     ("job", "outcome"), registry=registry),
        failures=Counter(JOB_FAILURES_TOTAL, "Scheduled job runs that failed on their last "
                         "try, by job.", ("job",), registry=registry),
        duration=Histogram(JOB_DURATION, "Scheduled job run duration in seconds (retries "
                           "included), by job.", ("job",), buckets=DURATION_BUCKETS,
                           registry=registry),
    )  # fmt: skip


# -- worker (issue 17): pool, payments and upstream calls (domain.observations) -------------

POOL_LEASES_TOTAL = "karpov_pool_leases_total"
POOL_RELEASES_TOTAL = "karpov_pool_releases_total"
POOL_HEALTH_CHECKS_TOTAL = "karpov_pool_health_checks_total"
PAYMENT_CALLBACKS_TOTAL = "karpov_payment_callbacks_total"
UPSTREAM_CALLS_TOTAL = "karpov_upstream_calls_total"
UPSTREAM_CALL_DURATION = "karpov_upstream_call_duration_seconds"


class DomainMetrics:
    """A ``domain.observations.ObservationSink`` that counts into ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.leases = Counter(POOL_LEASES_TOTAL, "Pool credential leases granted, by provider.",
                              ("provider",), registry=registry)  # fmt: skip
        self.releases = Counter(POOL_RELEASES_TOTAL, "Pool leases given back, by the call's "
                                "result.", ("result",), registry=registry)  # fmt: skip
        self.health = Counter(POOL_HEALTH_CHECKS_TOTAL, "Scheduled pool health checks, by "
                              "provider and outcome (ok, failed).", ("provider", "outcome"),
                              registry=registry)  # fmt: skip
        self.callbacks = Counter(PAYMENT_CALLBACKS_TOTAL, "Payment callbacks (and "
                                 "reconciliations) by provider and verdict.",
                                 ("provider", "verdict"), registry=registry)  # fmt: skip
        self.calls = Counter(UPSTREAM_CALLS_TOTAL, "Music provider calls, by provider, "
                             "operation and status.", ("provider", "operation", "status"),
                             registry=registry)  # fmt: skip
        self.latency = Histogram(UPSTREAM_CALL_DURATION, "Music provider call duration in "
                                 "seconds, by provider and operation.", ("provider", "operation"),
                                 buckets=DURATION_BUCKETS, registry=registry)  # fmt: skip

    def lease_taken(self, provider: str) -> None:
        self.leases.labels(provider).inc()

    def lease_released(self, result: str) -> None:
        self.releases.labels(result).inc()

    def health_checked(self, provider: str, passed: bool) -> None:
        self.health.labels(provider, "ok" if passed else "failed").inc()

    def callback_verdict(self, provider: str, verdict: str) -> None:
        self.callbacks.labels(provider, verdict).inc()

    def upstream_call(self, provider: str, operation: str, status: str, seconds: float) -> None:
        self.calls.labels(provider, operation, status).inc()
        self.latency.labels(provider, operation).observe(seconds)
