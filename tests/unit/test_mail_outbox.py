"""The mail outbox (issue 17) on a manual clock: a failed send is retried by the
``mail_outbox`` job with doubling back-off, given up after the last attempt (kept with its
error), and every attempt carries the same Message-ID."""

from __future__ import annotations

from datetime import timedelta

from domain.clock import ManualClock
from domain.mail.errors import MailDeliveryFailed
from domain.mail.ports import EmailMessage
from tests.support.services import build, offline, unit_settings


class FlakyMailer:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.attempts.append(message)
        if len(self.attempts) <= self.failures:
            raise MailDeliveryFailed()


MESSAGE = EmailMessage(to="a@example.com", subject="Hello", text="link", html="<p>link</p>")


async def test_a_failed_mail_is_retried_with_back_off_and_the_same_message_id() -> None:
    clock = ManualClock()
    mailer = FlakyMailer(failures=2)
    settings = unit_settings(mail_retry_backoff=30, mail_max_attempts=5)
    built = build(clock, settings=settings, outbound=offline(mailer=mailer))
    outbox, jobs = built.services.mail_outbox, built.services.jobs
    assert await outbox.enqueue_and_send(MESSAGE) is False  # first attempt failed
    assert (await jobs.run("mail_outbox")).detail == "0"  # not due before its back-off
    clock.advance(timedelta(seconds=30))
    assert (await jobs.run("mail_outbox")).detail == "0"  # second attempt fails too
    clock.advance(timedelta(seconds=59))
    assert (await jobs.run("mail_outbox")).detail == "0"  # 60 s now: not yet
    clock.advance(timedelta(seconds=1))
    assert (await jobs.run("mail_outbox")).detail == "1"
    assert len(mailer.attempts) == 3
    ids = {m.message_id for m in mailer.attempts}
    assert len(ids) == 1 and next(iter(ids)).endswith("@karpov>")  # type: ignore[union-attr]
    clock.advance(timedelta(days=1))
    assert (await jobs.run("mail_outbox")).detail == "0" and len(mailer.attempts) == 3


async def test_after_its_last_attempt_a_mail_is_given_up_with_its_error() -> None:
    clock = ManualClock()
    mailer = FlakyMailer(failures=100)
    settings = unit_settings(mail_retry_backoff=1, mail_max_attempts=3)
    built = build(clock, settings=settings, outbound=offline(mailer=mailer))
    await built.services.mail_outbox.enqueue_and_send(MESSAGE)
    for _ in range(5):
        clock.advance(timedelta(minutes=5))
        await built.services.jobs.run("mail_outbox")
    assert len(mailer.attempts) == 3
    (mail,) = built.adapters.mail_outbox._mails.values()  # type: ignore[attr-defined]
    assert mail.sent_at is None and mail.next_attempt_at is None and mail.attempts == 3
    assert mail.last_error == MailDeliveryFailed.default_message
