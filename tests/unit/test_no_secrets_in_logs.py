"""Issue 12, item 6: no secret or hash reaches the logs at any level. At
``KARPOV_LOG_LEVEL=debug`` SQLAlchemy would log every statement's parameters and every
row read (argon2 hashes, sealed secrets), httpcore the request headers, aiosmtplib the
SMTP AUTH exchange."""

from __future__ import annotations

import logging
from collections.abc import Iterator
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


@pytest.fixture
def debug_logs() -> Iterator[Collect]:
    root = logging.getLogger()
    saved = (root.level, root.handlers[:])
    saved_levels = {n: logging.getLogger(n).level for n in QUIET_BELOW_INFO}
    configure_logging("debug")
    collect = Collect()
    root.addHandler(collect)
    try:
        yield collect
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


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
