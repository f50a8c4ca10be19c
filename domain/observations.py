"""What operators' metrics see of the domain (worker, issue 17): pool leases, releases and
health checks, payment callback verdicts, and calls to music providers.

Services report to one ``Observations`` hub (made by the composition root); the edge adds
its sinks (the Prometheus collectors of ``gateway/metrics.py``, in ``karpov serve`` and
``karpov worker``). Without a sink an observation is a loop over an empty list; a sink
that fails is logged and never fails the operation it observed.
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("karpov.observations")


class ObservationSink(Protocol):
    def lease_taken(self, provider: str) -> None: ...

    def lease_released(self, result: str) -> None: ...

    def health_checked(self, provider: str, passed: bool) -> None: ...

    def callback_verdict(self, provider: str, verdict: str) -> None: ...

    def upstream_call(self, provider: str, operation: str, status: str, seconds: float) -> None:
        """``status``: ``ok``, or the failure (``not_found``, ``rate_limited``, ``error``…)."""


class Observations:
    def __init__(self) -> None:
        self._sinks: list[ObservationSink] = []

    def add(self, sink: ObservationSink) -> None:
        self._sinks.append(sink)

    def _each(self, what: str, *args: object) -> None:
        for sink in self._sinks:
            try:
                getattr(sink, what)(*args)
            except Exception:
                log.exception("an observation sink failed", extra={"observation": what})

    def lease_taken(self, provider: str) -> None:
        self._each("lease_taken", provider)

    def lease_released(self, result: str) -> None:
        self._each("lease_released", result)

    def health_checked(self, provider: str, passed: bool) -> None:
        self._each("health_checked", provider, passed)

    def callback_verdict(self, provider: str, verdict: str) -> None:
        self._each("callback_verdict", provider, verdict)

    def upstream_call(self, provider: str, operation: str, status: str, seconds: float) -> None:
        self._each("upstream_call", provider, operation, status, seconds)
