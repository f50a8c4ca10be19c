"""A Starlette router that finds parameter-free routes by a dict lookup.

Starlette tries every route's regular expression in order; with dozens of /v1 routes that
linear scan is a measurable share of a cheap request. Routes without path parameters are
indexed by path; everything else (and every miss) falls back to the ordinary scan, so the
behaviour — including 404/405 handling — is Starlette's."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from starlette.convertors import PathConvertor
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
        # perf (issue 18): routes with path parameters, by how many "/" their paths have;
        # a route that may match any depth (a mount, a ``{x:path}`` parameter) is in every
        # list. Each list keeps the table's order, so its first full match is the scan's.
        self._is_direct = direct
        self._fixed_depth: list[tuple[BaseRoute, int | None]] = [
            (route, _depth(route)) for route in self.routes
        ]
        self._by_depth: dict[tuple[int, str], list[_Step]] = {}
        self._chosen: dict[tuple[str, str], tuple[Route, dict[str, Any]] | object] = {}

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
        path = scope["path"]
        route = self._direct.get((path, scope["method"]))
        if route is None:
            return None if path in self._static else self._direct_with_parameters(scope)
        scope.setdefault("router", self)
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = dict(scope.get("path_params", {}))
        return route.app

    def _direct_with_parameters(self, scope: Scope) -> ASGIApp | None:
        """The scan's choice for a path with parameters (its first full match, found with
        one regular expression over the routes of the path's depth and method), when that
        route is a direct one.

        perf (issue 18): memoised by (path, method): the choice and the converted
        parameters depend on nothing else here (no root path; Starlette's convertors are
        pure), and a busy id is asked for again and again. The scope gets what
        ``Route.matches`` gives it: a new ``path_params`` dict every time."""
        path, method = scope["path"], scope["method"]
        memo_key = (path, method)
        found = self._chosen.get(memo_key)
        if found is None:
            found = self._choose(scope)
            if len(path) <= MAX_MEMO_PATH:
                if len(self._chosen) >= MAX_MEMO_ENTRIES:
                    self._chosen.clear()
                self._chosen[memo_key] = found
        if found is _NOT_DIRECT:
            return None
        route: Route
        params: dict[str, Any]
        route, params = found  # type: ignore[misc]
        path_params = dict(scope.get("path_params", {}))
        path_params.update(params)
        scope.setdefault("router", self)
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = path_params
        return route.app

    def _choose(self, scope: Scope) -> tuple[Route, dict[str, Any]] | object:
        """The direct route for the scope's path and method, with the parameters it
        converted (as ``Route.matches`` gives them to a scope without any), or
        ``_NOT_DIRECT``."""
        path, method = scope["path"], scope["method"]
        key = (path.count("/"), method)
        steps = self._by_depth.get(key)
        if steps is None:
            if key[0] > MAX_INDEXED_DEPTH:
                return _NOT_DIRECT
            steps = self._by_depth[key] = _steps(self._fixed_depth, *key)
        for pattern, routes in steps:
            if pattern is None:
                match, child_scope = routes[0].matches(scope)
                if match is not Match.FULL:
                    continue
                return _NOT_DIRECT  # a mount or a ``{x:path}`` route: left to the router
            found = pattern.match(path)
            if found is None:
                continue
            candidate = routes[found.lastindex - 1]  # type: ignore[operator]
            if not isinstance(candidate, Route) or not self._is_direct(candidate.endpoint):
                return _NOT_DIRECT
            match, child_scope = candidate.matches({"type": "http", "path": path, "method": method})
            if match is not Match.FULL:
                return _NOT_DIRECT
            return candidate, child_scope["path_params"]
        return _NOT_DIRECT


_Step = tuple["re.Pattern[str] | None", list[BaseRoute]]
"""One regular expression over consecutive routes of the table (group i+1 is route i), or
``None`` and one route that may match any depth (checked on its own)."""


def _steps(table: list[tuple[BaseRoute, int | None]], depth: int, method: str) -> list[_Step]:
    steps: list[_Step] = []
    run: list[Route] = []

    def close() -> None:
        if run:
            alternatives = "|".join(
                "(" + _NAMED_GROUP.sub("(?:", r.path_regex.pattern[1:-1]) + ")" for r in run
            )
            steps.append((re.compile(f"^(?:{alternatives})$"), list(run)))
            run.clear()

    for route, fixed in table:
        if fixed is None:
            close()
            steps.append((None, [route]))
        elif (
            fixed == depth
            and isinstance(route, Route)
            and (route.methods is None or method in route.methods)
        ):
            run.append(route)
    close()
    return steps


_NAMED_GROUP = re.compile(r"\(\?P<[^>]+>")
MAX_INDEXED_DEPTH = 16
MAX_MEMO_PATH = 256
"""Longer paths are not memoised (the memo's memory stays small)."""
MAX_MEMO_ENTRIES = 10_000
_NOT_DIRECT = object()


def _depth(route: BaseRoute) -> int | None:
    """How many "/" every path this route matches has, or None when that varies."""
    if not isinstance(route, Route):
        return None
    if any(isinstance(c, PathConvertor) for c in route.param_convertors.values()):
        return None
    return route.path.count("/")
