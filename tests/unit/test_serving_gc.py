"""A serving process tunes the garbage collector once it has started (gateway.heap):
start-up's objects are frozen out of every collection, the youngest generation is
collected less often, and cyclic garbage is still reclaimed. Tests and the default
``create_app`` leave the collector alone (they start many applications in one process)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import gateway.app
import gateway.asgi
from gateway.app import create_app
from gateway.heap import YOUNG_GENERATION_THRESHOLD, tune_for_serving
from gateway.settings import load_settings


@pytest.fixture
def collector_restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_tuning_freezes_what_exists_and_collects_the_young_generation_less_often(
    collector_restored: None,
) -> None:
    _, older, oldest = gc.get_threshold()
    frozen = tune_for_serving()
    # Frozen objects can still die by reference counting (another thread of the test
    # process may drop some between the two reads), so the count only ever shrinks.
    assert frozen > 0 and 0 < gc.get_freeze_count() <= frozen
    assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, older, oldest)
    assert gc.isenabled()


def test_cyclic_garbage_is_still_reclaimed_after_tuning(collector_restored: None) -> None:
    tune_for_serving()
    a, b = _Node(), _Node()
    a.other, b.other = b, a  # a cycle: reference counting alone never frees it
    alive = weakref.ref(a)
    del a, b
    gc.collect()
    assert alive() is None


def _app(tmp_path: Path, **kwargs: Any) -> Any:
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'karpov.db'}", redis_url=None,
        hibp_mode="off", master_key="ab" * 32,
    )  # fmt: skip
    return create_app(settings, **kwargs)


@pytest.mark.parametrize("tune", [True, False])
async def test_the_collector_is_tuned_once_started_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tune: bool
) -> None:
    calls: list[int] = []

    def counted() -> int:
        calls.append(1)
        return 0

    monkeypatch.setattr(gateway.app, "tune_for_serving", counted)
    app = _app(tmp_path, tune_gc_on_start=True) if tune else _app(tmp_path)
    assert calls == []  # not while the application is only built
    async with app.router.lifespan_context(app):
        assert calls == ([1] if tune else [])


def test_the_serving_entry_point_asks_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    settings = type("SettingsStandIn", (), {"log_level": "info"})()
    monkeypatch.setattr(gateway.asgi, "load_settings", lambda: settings)
    monkeypatch.setattr(gateway.asgi, "configure_logging", lambda level: None)
    monkeypatch.setattr(gateway.asgi, "create_app", lambda settings, **kw: seen.update(kw))
    gateway.asgi.app_from_env()
    assert seen == {"tune_gc_on_start": True}
