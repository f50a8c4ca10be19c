"""Entry point for uvicorn (``--factory``): each worker process reads settings itself."""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.logs import configure_logging
from gateway.settings import load_settings


def app_from_env() -> Starlette:
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings, tune_gc_on_start=True)
