"""The mail outbox across a crash (issue 17): a process commits a password-reset mail to
the outbox and dies (``os._exit``) before sending it; after the "restart" the
``mail_outbox`` job of another process delivers it, once, with the outbox's Message-ID,
and a second run sends nothing more. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import text

from domain.clock import SystemClock
from domain.jobs.model import JobOutcome
from domain.mail.ports import EmailMessage
from gateway.adapters import Adapters
from gateway.bootstrap import build_services
from persistence.sql.engine import create_engine
from tests.support.services import MASTER_KEY, offline, unit_settings

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "crash@example.com"

CHILD = textwrap.dedent(
    """
    import asyncio, os, sys
    from domain.clock import SystemClock
    from domain.mail.outbox import MailOutbox
    from gateway.adapters import Adapters
    from gateway.bootstrap import build_services
    from persistence.sql.engine import create_engine
    from tests.support.services import offline, unit_settings

    class Mailer:
        async def send(self, message):
            raise AssertionError("the crash comes before any send")

    async def crash_before_send(self, mail_id):
        os._exit(17)  # the process dies right after the commit

    async def main():
        url = sys.argv[1]
        settings = unit_settings(database_url=url, master_key=sys.argv[2])
        engine = create_engine(url)
        clock = SystemClock()
        adapters = Adapters.sql(engine, None, quota_redis=None, clock=clock,
                                outbound=offline(mailer=Mailer()))
        services = build_services(adapters, settings, clock)
        await services.admin_users.bootstrap_superadmin(sys.argv[3])
        MailOutbox.send_now = crash_before_send
        await services.password_reset.request(sys.argv[3], client_ip="127.0.0.1")
        raise AssertionError("unreachable")

    asyncio.run(main())
    """
)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    request.getfixturevalue("pg_engine")  # emptied
    return str(request.getfixturevalue("pg_url"))


async def test_a_mail_committed_before_a_crash_is_delivered_after_restart(
    database_url: str,
) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, database_url, MASTER_KEY, EMAIL, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == 17, stderr.decode()[-2000:]

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT recipient, sent_at FROM mail_outbox"))).all()
            sealed = (await conn.execute(text("SELECT sealed FROM mail_outbox"))).scalar_one()
        assert [(r[0], r[1]) for r in rows] == [(EMAIL, None)]
        assert b"reset" not in bytes(sealed).lower()  # sealed at rest, link and all

        # The restart: another process's services on the same database.
        recorder = Recorder()
        clock = SystemClock()
        adapters = Adapters.sql(
            engine, None, quota_redis=None, clock=clock, outbound=offline(mailer=recorder)
        )
        services = build_services(adapters, unit_settings(database_url=database_url), clock)
        run = await services.jobs.run("mail_outbox")
        assert run.outcome is JobOutcome.OK and run.detail == "1"
        (mail,) = recorder.sent
        assert mail.to == EMAIL and "reset" in mail.subject.lower()
        assert "token=" in mail.text
        assert mail.message_id is not None and mail.message_id.endswith("@karpov>")
        again = await services.jobs.run("mail_outbox")
        assert again.detail == "0" and len(recorder.sent) == 1
    finally:
        await engine.dispose()
