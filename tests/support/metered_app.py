"""``uvicorn --factory tests.support.metered_app:create``: the real application, configured
from the environment like ``karpov serve``, plus the metered test operation. Used by the
two-process concurrency test."""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.settings import load_settings
from tests.support.metered import METERED_ROUTE, MeteredQuery


def create() -> Starlette:
    return create_app(load_settings(), query=MeteredQuery, extra_routes=[METERED_ROUTE])
