"""A Starlette router that finds parameter-free routes by a dict lookup.

Starlette tries every route's regular expression in order; with dozens of /v1 routes that
linear scan is a measurable share of a cheap request. Routes without path parameters are
indexed by path; everything else (and every miss) falls back to the ordinary scan, so the
behaviour — including 404/405 handling — is Starlette's."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send


class IndexedRouter(Router):
    """``direct_endpoint`` additionally offers the endpoints of parameter-free routes for
    which ``direct`` holds (endpoints that map their own errors) to a caller that wants to
    skip the middleware between itself and the router."""

    def __init__(
        self,
        routes: Sequence[BaseRoute],
        *,
        direct: Callable[[object], bool] = lambda endpoint: False,
        **kwargs: object,
    ) -> None:
        super().__init__(list(routes), **kwargs)  # type: ignore[arg-type]
        self._static: dict[str, list[Route]] = {}
        for route in self.routes:
            if isinstance(route, Route) and not route.param_convertors:
                self._static.setdefault(route.path, []).append(route)
        # The route the scan above would pick for each (path, method), as in Starlette: the
        # first one listed. A route that takes every method hides the later ones: its path
        # is left to the scan.
        first: dict[tuple[str, str], Route] = {}
        for path, candidates in self._static.items():
            if all(route.methods for route in candidates):
                for route in candidates:
                    for method in route.methods or ():
                        first.setdefault((path, method), route)
        self._direct = {key: route for key, route in first.items() if direct(route.endpoint)}

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            for route in self._static.get(scope["path"], ()):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)

    def direct_endpoint(self, scope: Scope) -> ASGIApp | None:
        """The endpoint that routing would call for this HTTP ``scope`` if it is one of the
        direct routes (the scope is then set up as routing sets it up); else None.

        Equivalent to routing because a direct route has no path parameters (its pattern
        matches its path only) and is not behind a mount (no root path), and the method
        is one it accepts (so ``Route.handle`` would call the endpoint straight away)."""
        if scope.get("root_path"):
            return None
        route = self._direct.get((scope["path"], scope["method"]))
        if route is None:
            return None
        scope.setdefault("router", self)
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = dict(scope.get("path_params", {}))
        return route.app
