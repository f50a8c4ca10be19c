"""The shape of ``domain/`` that every bounded context follows (run by ``make check``):

* contexts (the sub-packages of ``domain``) never import each other in a cycle, and the
  kernel (the modules directly under ``domain``) imports no context;
* every ``DomainError`` is declared in an ``errors.py`` (the kernel's or a context's);
* every ``Protocol`` a context needs is declared in its ``ports.py``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from typing import Protocol

import grimp

import domain
from domain.errors import DomainError, all_error_classes


def _context(module: str) -> str | None:
    """``domain.accounts.service`` -> ``accounts``; ``None`` for a kernel module."""
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "domain":
        return None
    spec = importlib.import_module(".".join(parts[:2])).__spec__
    return parts[1] if spec is not None and spec.submodule_search_locations else None


def _context_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("domain")
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        source = _context(module)
        if source is None:
            continue
        edges.setdefault(source, set())
        for imported in graph.find_modules_directly_imported_by(module):
            target = _context(imported)
            if target is not None and target != source:
                edges[source].add(target)
    return edges


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as the contexts along it, or ``None``."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt]
            if nxt not in state:
                found = visit(nxt, [*path, nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(edges):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def _all_domain_modules() -> Iterator[str]:
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)
        yield module.name


def test_domain_contexts_never_import_each_other_in_a_cycle() -> None:
    edges = _context_graph()
    assert {"accounts", "apikeys", "music", "pool"} <= set(edges)
    cycle = _cycle(edges)
    assert cycle is None, "domain contexts import each other in a cycle: " + " -> ".join(cycle)


def test_the_kernel_imports_no_context() -> None:
    graph = grimp.build_graph("domain")
    for module in sorted(graph.modules):
        if module == "domain" or _context(module) is not None:
            continue
        reached = {_context(m) for m in graph.find_modules_directly_imported_by(module)}
        assert reached <= {None}, f"kernel module {module} imports the context(s) {reached}"


def test_every_domain_error_is_declared_in_an_errors_module() -> None:
    list(_all_domain_modules())
    for cls in all_error_classes():
        if not cls.__module__.startswith("domain."):
            continue  # declared by a test
        assert cls.__module__.endswith(".errors"), f"{cls.__name__} is in {cls.__module__}"
    assert DomainError.__module__ == "domain.errors"


def test_every_protocol_of_a_context_is_declared_in_its_ports_module() -> None:
    for name in _all_domain_modules():
        context = _context(name)
        if context is None or name.endswith(".ports"):
            continue
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and value.__module__ == name
                and Protocol in getattr(value, "__mro__", ())
                and getattr(value, "_is_protocol", False)
            ):
                raise AssertionError(f"{value.__name__} is a Protocol outside ports.py: {name}")
