"""Alembic migrations for SQLite and PostgreSQL (run them with ``persistence.migrate``).

This folder is the Alembic ``script_location``: ``env.py``, ``script.py.mako`` and
``versions/`` ship as package data, so no ``alembic.ini`` is needed at runtime.
"""

from pathlib import Path

SCRIPT_LOCATION = Path(__file__).resolve().parent
