"""Issue 12, item 6: no secret or hash reaches the logs at any level. At
``KARPOV_LOG_LEVEL=debug`` SQLAlchemy would log every statement's parameters and every
row read (argon2 hashes, sealed secrets), httpcore the request headers, aiosmtplib the
SMTP AUTH exchange."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.logs import QUIET_BELOW_INFO, configure_logging
from persistence.sql.engine import create_engine

SECRET = "$argon2id$v=19$m=65536,t=2,p=1$c2VjcmV0LWhhc2g"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage() + " " + repr(record.args))


@contextmanager
def logs_at(level: str) -> Iterator[Collect]:
    root = logging.getLogger()
    saved = (root.level, root.handlers[:])
    saved_levels = {n: logging.getLogger(n).level for n in QUIET_BELOW_INFO}
    configure_logging(level)
    collect = Collect()
    root.addHandler(collect)
    try:
        yield collect
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name, saved_level in saved_levels.items():
            logging.getLogger(name).setLevel(saved_level)


@pytest.fixture
def debug_logs() -> Iterator[Collect]:
    with logs_at("debug") as collect:
        yield collect


async def test_sql_parameters_and_rows_are_not_logged_at_debug(
    debug_logs: Collect, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'log.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (h TEXT)"))
            await conn.execute(text("INSERT INTO t (h) VALUES (:h)"), {"h": SECRET})
            rows = (await conn.execute(text("SELECT h FROM t"))).all()
        assert rows == [(SECRET,)]
        with pytest.raises(Exception) as raised:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO missing (h) VALUES (:h)"), {"h": SECRET})
        assert SECRET not in str(raised.value)
    finally:
        await engine.dispose()
    assert debug_logs.lines, "nothing was logged: the test would prove nothing"
    assert any("INSERT INTO t" in line for line in debug_logs.lines)
    assert not [line for line in debug_logs.lines if SECRET in line]


def test_chatty_libraries_stay_at_info_when_debugging(debug_logs: Collect) -> None:
    assert logging.getLogger().level == logging.DEBUG
    for name in QUIET_BELOW_INFO:
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name


@pytest.fixture
def info_logs() -> Iterator[Collect]:
    with logs_at("info") as collect:
        yield collect


async def test_sql_statements_are_not_logged_at_the_default_info_level(
    info_logs: Collect, tmp_path: Path
) -> None:
    """`make run` logs at info: SQLAlchemy's statement echo (its INFO) stays off."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'info.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v TEXT)"))
            await conn.execute(text("INSERT INTO t (v) VALUES ('x')"))
    finally:
        await engine.dispose()
    logging.getLogger("karpov.test").info("an application line")
    assert any("an application line" in line for line in info_logs.lines)
    assert not [line for line in info_logs.lines if "INSERT INTO t" in line or "BEGIN" in line]
