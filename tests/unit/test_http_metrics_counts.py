"""The HTTP metrics recorder counts in plain numbers and hands them to prometheus_client
at collection (issue 18): what a scrape shows is what the Counter and Histogram would show
had every request been observed through them."""

from __future__ import annotations

import random

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.routing import Route

from gateway.metrics import (
    DURATION_BUCKETS,
    REQUEST_DURATION,
    REQUESTS_TOTAL,
    HttpMetricsRecorder,
)

ROUTES = [Route("/v1/local/songs/{id}", lambda r: None), Route("/v1/auth/me", lambda r: None)]


def _lines(registry: CollectorRegistry) -> list[str]:
    """The exposition without the series' creation times (when each was made)."""
    text = generate_latest(registry).decode()
    return [line for line in text.splitlines() if "_created" not in line]


def _stock(registry: CollectorRegistry) -> tuple[Counter, Histogram]:
    return (
        Counter(REQUESTS_TOTAL, "HTTP requests handled, by method, route template and status code.",
                ("method", "route", "status"), registry=registry),
        Histogram(REQUEST_DURATION, "HTTP request duration in seconds, by method and route "
                  "template.", ("method", "route"), buckets=DURATION_BUCKETS, registry=registry),
    )  # fmt: skip


def test_a_scrape_shows_what_the_stock_metrics_would_between_and_across_scrapes() -> None:
    ours, stock = CollectorRegistry(), CollectorRegistry()
    recorder = HttpMetricsRecorder(ours)
    requests, duration = _stock(stock)
    rng = random.Random(18)
    durations = [*DURATION_BUCKETS, 0.0, 1e-7, 1e4]  # every edge exactly, and beyond
    for scrape in range(4):
        for _ in range(300):
            route = rng.choice(ROUTES)
            scope = {"method": rng.choice(["GET", "POST", "BREW"]), "route": route,
                     "root_path": "", "app": None}  # fmt: skip
            status = rng.choice([200, 404, 429])
            elapsed = rng.choice(durations) if rng.random() < 0.3 else rng.expovariate(40)
            recorder.observe(scope, recorder.before(scope), status, elapsed)
            method = scope["method"] if scope["method"] != "BREW" else "OTHER"
            requests.labels(method=method, route=route.path, status=str(status)).inc()
            duration.labels(method=method, route=route.path).observe(elapsed)
        # Sums may differ in the last bits (added per scrape, not per request): compare
        # them rounded, everything else exactly.
        assert _rounded(_lines(ours)) == _rounded(_lines(stock)), scrape


def _rounded(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        if "_sum{" in line:
            name, value = line.rsplit(" ", 1)
            line = f"{name} {float(value):.9g}"
        out.append(line)
    return out


def test_get_sample_value_sees_every_request_at_once() -> None:
    registry = CollectorRegistry()
    recorder = HttpMetricsRecorder(registry)
    scope = {"method": "GET", "route": ROUTES[1], "root_path": "", "app": None}
    for expected in (1.0, 2.0, 3.0):
        recorder.observe(scope, recorder.before(scope), 200, 0.003)
        labels = {"method": "GET", "route": "/v1/auth/me", "status": "200"}
        assert registry.get_sample_value(REQUESTS_TOTAL, labels) == expected
        count = registry.get_sample_value(
            f"{REQUEST_DURATION}_count", {"method": "GET", "route": "/v1/auth/me"}
        )
        assert count == expected


def test_two_recorders_on_one_registry_share_their_counts() -> None:
    registry = CollectorRegistry()
    first, second = HttpMetricsRecorder(registry), HttpMetricsRecorder(registry)
    scope = {"method": "GET", "route": ROUTES[0], "root_path": "", "app": None}
    first.observe(scope, first.before(scope), 200, 0.01)
    second.observe(scope, second.before(scope), 200, 0.02)
    labels = {"method": "GET", "route": "/v1/local/songs/{id}", "status": "200"}
    assert registry.get_sample_value(REQUESTS_TOTAL, labels) == 2.0
