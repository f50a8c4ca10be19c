"""Our real ``SmtpMailer`` against a real SMTP server on loopback (aiosmtpd), and ``LogMailer``.

Every TLS mode is exercised on the wire with a certificate generated for the run; failures
(AUTH refused, 451, nothing listening, a server that never greets) must surface as
``MailDeliveryFailed`` and must never put the message, the code or the password in a log.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest

from domain.mail import templates
from domain.mail.errors import MailDeliveryFailed
from domain.mail.ports import EmailMessage
from integrations.mailer import LogMailer, SmtpMailer
from tests.fakes.smtp_server import SERVER_LOGGER, FakeSmtpServer

SENDER_ADDRESS = "noreply@karpov.test"
SENDER = f"Karpov <{SENDER_ADDRESS}>"
TO = "alice@example.test"
USER, PASSWORD = "karpov-mailer", "s3cret-smtp-Pa55"
CODE = "482915"
LINK = "https://karpov.test/v1/auth/email/verify?token=Zk3u-9Qx_tY2bW8pLq0RmN5sV7aCdE1f"
FAST_TIMEOUT = 0.3


def code_mail(to: str = TO, code: str = CODE, app: str = "Karpov") -> EmailMessage:
    return templates.verification_code(app, to, code, 10)


def mailer_for(server: FakeSmtpServer, *, tls: str, **options: Any) -> SmtpMailer:
    options.setdefault("timeout", 5.0)
    if server.tls != "none":
        options.setdefault("tls_context", server.client_context())
    return SmtpMailer(host=server.host, port=server.port, sender=SENDER, tls=tls, **options)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """Accepts TCP connections and never says a word (no greeting, no TLS handshake)."""
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            await reader.read()  # until the client gives up and hangs up
        finally:
            writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


@contextmanager
def client_logs(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """Every record logged on the client side (all loggers, DEBUG and up) during the block.
    The fake server's own logger (aiosmtpd logs DATA lines) is not the mailer's and is left
    out."""
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        records: list[logging.LogRecord] = []
        yield records
        records.extend(r for r in caplog.records if not r.name.startswith(SERVER_LOGGER))


def everything_in(record: logging.LogRecord) -> str:
    """The message, its arguments, every ``extra`` field and any traceback, as text."""
    parts = [record.getMessage(), repr(record.__dict__)]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(repr(record.exc_info[1]))
    if record.exc_text:
        parts.append(record.exc_text)
    return "\n".join(parts)


@pytest.fixture
async def plain() -> AsyncIterator[FakeSmtpServer]:
    async with FakeSmtpServer() as server:
        yield server


@pytest.fixture
async def starttls() -> AsyncIterator[FakeSmtpServer]:
    async with FakeSmtpServer(tls="starttls") as server:
        yield server


# -- TLS modes -----------------------------------------------------------------------------


async def test_none_delivers_over_a_plain_connection(plain: FakeSmtpServer) -> None:
    await mailer_for(plain, tls="none").send(code_mail())

    delivery = plain.last_delivery_to(TO)
    assert delivery.tls is False
    assert delivery.mail_from == SENDER_ADDRESS
    assert delivery.rcpt_tos == (TO,)
    assert CODE in FakeSmtpServer.text_of(delivery.message)


async def test_none_never_upgrades_even_when_starttls_is_offered(
    starttls: FakeSmtpServer,
) -> None:
    await mailer_for(starttls, tls="none").send(code_mail())

    assert starttls.last_delivery_to(TO).tls is False


async def test_starttls_upgrades_before_sending(starttls: FakeSmtpServer) -> None:
    await mailer_for(starttls, tls="starttls").send(code_mail())

    delivery = starttls.last_delivery_to(TO)
    assert delivery.tls is True
    assert delivery.tls_version in ("TLSv1.2", "TLSv1.3")


async def test_starttls_works_against_a_server_that_requires_it() -> None:
    async with FakeSmtpServer(tls="starttls", require_starttls=True) as server:
        await mailer_for(server, tls="starttls").send(code_mail())

        assert server.last_delivery_to(TO).tls is True


async def test_starttls_fails_rather_than_falling_back_to_plain(plain: FakeSmtpServer) -> None:
    with pytest.raises(MailDeliveryFailed):
        await mailer_for(plain, tls="starttls").send(code_mail())

    assert plain.messages == []


async def test_starttls_refuses_a_certificate_it_does_not_trust(
    starttls: FakeSmtpServer,
) -> None:
    with pytest.raises(MailDeliveryFailed):
        await mailer_for(starttls, tls="starttls", tls_context=None).send(code_mail())

    assert starttls.messages == []


async def test_ssl_uses_implicit_tls() -> None:
    async with FakeSmtpServer(tls="ssl") as server:
        await mailer_for(server, tls="ssl").send(code_mail())

        delivery = server.last_delivery_to(TO)
        assert delivery.tls is True
        assert delivery.tls_version in ("TLSv1.2", "TLSv1.3")


async def test_ssl_against_a_plain_server_fails(plain: FakeSmtpServer) -> None:
    mailer = SmtpMailer(
        host=plain.host, port=plain.port, sender=SENDER, tls="ssl", timeout=FAST_TIMEOUT * 5
    )

    with pytest.raises(MailDeliveryFailed):
        await mailer.send(code_mail())

    assert plain.messages == []


async def test_ssl_refuses_a_certificate_it_does_not_trust() -> None:
    async with FakeSmtpServer(tls="ssl") as server:
        with pytest.raises(MailDeliveryFailed):
            await mailer_for(server, tls="ssl", tls_context=None).send(code_mail())

        assert server.messages == []


async def test_auto_uses_starttls_when_the_server_offers_it(starttls: FakeSmtpServer) -> None:
    await mailer_for(starttls, tls="auto").send(code_mail())

    assert starttls.last_delivery_to(TO).tls is True


async def test_auto_sends_in_plain_when_starttls_is_not_offered(plain: FakeSmtpServer) -> None:
    await mailer_for(plain, tls="auto").send(code_mail())

    assert plain.last_delivery_to(TO).tls is False


async def test_auto_does_not_downgrade_when_the_certificate_is_untrusted(
    starttls: FakeSmtpServer,
) -> None:
    with pytest.raises(MailDeliveryFailed):
        await mailer_for(starttls, tls="auto", tls_context=None).send(code_mail())

    assert starttls.messages == []


def test_an_unknown_tls_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="tls must be"):
        SmtpMailer(host="127.0.0.1", port=25, sender=SENDER, tls="tls")


# -- AUTH ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["starttls", "auto"])
async def test_auth_succeeds_over_starttls(mode: str) -> None:
    async with FakeSmtpServer(tls="starttls", auth=(USER, PASSWORD)) as server:
        await mailer_for(server, tls=mode, username=USER, password=PASSWORD).send(code_mail())

        delivery = server.last_delivery_to(TO)
        assert delivery.authenticated_as == USER
        assert delivery.tls is True
        [attempt] = server.auth_attempts
        assert attempt.success and attempt.tls


async def test_auth_succeeds_over_implicit_tls() -> None:
    async with FakeSmtpServer(tls="ssl", auth=(USER, PASSWORD)) as server:
        await mailer_for(server, tls="ssl", username=USER, password=PASSWORD).send(code_mail())

        assert server.last_delivery_to(TO).authenticated_as == USER


async def test_auth_succeeds_over_plain_when_the_server_allows_it() -> None:
    async with FakeSmtpServer(auth=(USER, PASSWORD), auth_require_tls=False) as server:
        await mailer_for(server, tls="none", username=USER, password=PASSWORD).send(code_mail())

        delivery = server.last_delivery_to(TO)
        assert delivery.authenticated_as == USER
        assert delivery.tls is False


async def test_wrong_credentials_fail() -> None:
    async with FakeSmtpServer(tls="starttls", auth=(USER, PASSWORD)) as server:
        mailer = mailer_for(server, tls="starttls", username=USER, password="wrong-password")

        with pytest.raises(MailDeliveryFailed):
            await mailer.send(code_mail())

        assert server.messages == []
        assert server.auth_attempts
        assert not any(attempt.success for attempt in server.auth_attempts)


async def test_missing_credentials_fail_when_the_server_requires_auth() -> None:
    async with FakeSmtpServer(tls="starttls", auth=(USER, PASSWORD)) as server:
        with pytest.raises(MailDeliveryFailed):
            await mailer_for(server, tls="starttls").send(code_mail())

        assert server.messages == []


async def test_credentials_are_not_offered_where_the_server_will_not_take_them_in_clear() -> None:
    # The server offers AUTH only under TLS; a plain client must fail, not deliver.
    async with FakeSmtpServer(auth=(USER, PASSWORD)) as server:
        mailer = mailer_for(server, tls="none", username=USER, password=PASSWORD)

        with pytest.raises(MailDeliveryFailed):
            await mailer.send(code_mail())

        assert server.messages == []
        assert server.auth_attempts == []


# -- delivery failures ---------------------------------------------------------------------


async def test_a_451_answer_to_data_fails_and_the_next_attempt_succeeds(
    plain: FakeSmtpServer,
) -> None:
    plain.fail_next = 1
    mailer = mailer_for(plain, tls="none")

    with pytest.raises(MailDeliveryFailed):
        await mailer.send(code_mail())
    assert plain.messages == []

    await mailer.send(code_mail())
    assert len(plain.messages) == 1


async def test_nothing_listening_fails() -> None:
    mailer = SmtpMailer(host="127.0.0.1", port=closed_port(), sender=SENDER, tls="none")

    with pytest.raises(MailDeliveryFailed):
        await mailer.send(code_mail())


@pytest.mark.parametrize("mode", ["none", "auto", "starttls", "ssl"])
async def test_a_server_that_never_greets_times_out(mode: str) -> None:
    async with silent_server() as port:
        mailer = SmtpMailer(
            host="127.0.0.1", port=port, sender=SENDER, tls=mode, timeout=FAST_TIMEOUT
        )
        started = time.monotonic()

        with pytest.raises(MailDeliveryFailed):
            await mailer.send(code_mail())

        assert time.monotonic() - started < 3.0


async def test_the_failure_is_a_clean_domain_error(plain: FakeSmtpServer) -> None:
    plain.fail_next = 1

    with pytest.raises(MailDeliveryFailed) as caught:
        await mailer_for(plain, tls="none").send(code_mail())

    assert caught.value.code == "MAIL_DELIVERY_FAILED"
    assert caught.value.__cause__ is None
    assert CODE not in str(caught.value)


# -- the message on the wire ---------------------------------------------------------------


async def test_the_message_is_multipart_alternative_with_text_then_html(
    plain: FakeSmtpServer,
) -> None:
    await mailer_for(plain, tls="none").send(code_mail())

    received = plain.last_to(TO)
    assert received.get_content_type() == "multipart/alternative"
    parts = list(received.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parts)


async def test_headers_are_set(plain: FakeSmtpServer) -> None:
    message = code_mail()
    await mailer_for(plain, tls="none").send(message)

    received = plain.last_to(TO)
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["From"] == SENDER
    assert received["From"].addresses[0].addr_spec == SENDER_ADDRESS
    assert received["To"] == TO
    assert received["Subject"] == message.subject == "Karpov verification code"
    assert received["Date"]
    assert re.fullmatch(r"<[^<>@\s]+@karpov\.test>", received["Message-ID"])


@pytest.mark.parametrize("smtputf8", [True, False], ids=["smtputf8", "ascii-only-server"])
async def test_a_non_ascii_subject_and_sender_name_round_trip(smtputf8: bool) -> None:
    subject = "Код подтверждения Karpov — «ёжик» ✓ 日本語"
    message = EmailMessage(to=TO, subject=subject, text=f"код {CODE}", html=f"<p>{CODE}</p>")
    async with FakeSmtpServer(smtputf8=smtputf8) as server:
        mailer = SmtpMailer(
            host=server.host, port=server.port, sender=f"Карпов <{SENDER_ADDRESS}>", tls="none"
        )
        await mailer.send(message)

        delivery = server.last_delivery_to(TO)
        assert delivery.message["Subject"] == subject
        assert delivery.message["From"].addresses[0].display_name == "Карпов"
        assert FakeSmtpServer.text_of(delivery.message) == f"код {CODE}\n"
        if not smtputf8:
            headers = delivery.raw.split(b"\r\n\r\n", 1)[0]
            assert b"=?utf-8?" in headers
            headers.decode("ascii")  # RFC 2047 encoded words: no raw UTF-8 in headers


async def test_the_verification_code_is_in_both_parts(plain: FakeSmtpServer) -> None:
    await mailer_for(plain, tls="none").send(code_mail())

    received = await plain.wait_for(TO)
    assert CODE in FakeSmtpServer.text_of(received)
    assert CODE in FakeSmtpServer.html_of(received)
    assert re.findall(r"\b\d{6}\b", FakeSmtpServer.text_of(received)) == [CODE]


async def test_the_activation_link_is_in_both_parts(plain: FakeSmtpServer) -> None:
    await mailer_for(plain, tls="none").send(templates.activation_link("Karpov", TO, LINK, 24))

    received = await plain.wait_for(TO)
    assert received["Subject"] == "Activate your Karpov account"
    assert LINK in FakeSmtpServer.text_of(received).splitlines()
    hrefs = re.findall(r'href="([^"]*)"', FakeSmtpServer.html_of(received))
    assert [html.unescape(href) for href in hrefs] == [LINK]
    assert LINK in FakeSmtpServer.html_of(received)


async def test_the_html_part_escapes_special_characters(plain: FakeSmtpServer) -> None:
    app = 'Karpov <b>&</b> "Co"'
    link = 'https://karpov.test/verify?token=a1&next=<script>alert("x")</script>'
    mailer = mailer_for(plain, tls="none")
    await mailer.send(templates.activation_link(app, TO, link, 24))
    await mailer.send(templates.verification_code(app, "bob@example.test", "<i>1</i>", 10))

    link_mail = plain.last_to(TO)
    body = FakeSmtpServer.html_of(link_mail)
    assert "<script>" not in body
    assert "<b>" not in body
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in body
    assert "&lt;script&gt;" in body
    [href] = re.findall(r'href="([^"]*)"', body)
    assert '"' not in href
    assert html.unescape(href) == link
    assert link in FakeSmtpServer.text_of(link_mail)  # the text part carries it verbatim

    code_body = FakeSmtpServer.html_of(plain.last_to("bob@example.test"))
    assert "<i>" not in code_body
    assert "&lt;i&gt;1&lt;/i&gt;" in code_body


async def test_a_header_injection_is_never_sent(plain: FakeSmtpServer) -> None:
    injected = EmailMessage(to=TO, subject="Karpov\r\nBcc: eve@example.test", text=CODE, html=CODE)

    with pytest.raises((MailDeliveryFailed, ValueError)):
        await mailer_for(plain, tls="none").send(injected)

    assert plain.messages == []


@pytest.mark.parametrize(
    ("to", "subject"),
    [(TO, "Karpov\r\nBcc: eve@example.test"), ("", "Karpov verification code")],
    ids=["crlf-in-subject", "empty-to"],
)
async def test_an_unsendable_message_raises_mail_delivery_failed(
    plain: FakeSmtpServer, to: str, subject: str
) -> None:
    with pytest.raises(MailDeliveryFailed):
        await mailer_for(plain, tls="none").send(
            EmailMessage(to=to, subject=subject, text=CODE, html=CODE)
        )


async def test_wait_for_times_out_when_nothing_arrives(plain: FakeSmtpServer) -> None:
    with pytest.raises(TimeoutError):
        await plain.wait_for("nobody@example.test", timeout=0.1)


# -- logs ----------------------------------------------------------------------------------


async def test_log_mailer_writes_the_mail_to_the_outbox_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="karpov.mail.outbox"):
        await LogMailer().send(code_mail())

    [record] = [r for r in caplog.records if r.name == "karpov.mail.outbox"]
    assert record.levelno == logging.WARNING
    assert record.to == TO  # type: ignore[attr-defined]
    assert record.subject == "Karpov verification code"  # type: ignore[attr-defined]
    assert CODE in record.body  # type: ignore[attr-defined]


async def _fail_with_451(server: FakeSmtpServer) -> None:
    server.fail_next = 1
    await mailer_for(server, tls="none", username=USER, password=PASSWORD).send(code_mail())


async def _fail_with_bad_password(server: FakeSmtpServer) -> None:
    # A password that is itself secret-looking: it must not be logged either.
    await mailer_for(server, tls="none", username=USER, password=f"{PASSWORD}-{CODE}").send(
        code_mail()
    )


async def _fail_with_nothing_listening(server: FakeSmtpServer) -> None:
    await SmtpMailer(host="127.0.0.1", port=closed_port(), sender=SENDER, tls="none").send(
        code_mail()
    )


async def _fail_with_timeout(server: FakeSmtpServer) -> None:
    async with silent_server() as port:
        await SmtpMailer(
            host="127.0.0.1", port=port, sender=SENDER, tls="none", timeout=FAST_TIMEOUT
        ).send(code_mail())


@pytest.mark.parametrize(
    "fail",
    [_fail_with_451, _fail_with_bad_password, _fail_with_nothing_listening, _fail_with_timeout],
    ids=["451", "auth", "refused", "timeout"],
)
async def test_smtp_failure_logs_never_contain_the_message_or_the_code(
    caplog: pytest.LogCaptureFixture, fail: Any
) -> None:
    message = code_mail()
    secrets = [CODE, message.text.strip(), message.html, PASSWORD]
    async with FakeSmtpServer(auth=(USER, PASSWORD), auth_require_tls=False) as server:
        with client_logs(caplog) as records, pytest.raises(MailDeliveryFailed):
            await fail(server)

    failures = [r for r in records if r.name == "karpov.mail"]
    assert [r.getMessage() for r in failures] == ["smtp delivery failed"]
    assert failures[0].levelno == logging.WARNING
    for record in records:
        text = everything_in(record)
        for secret in secrets:
            assert secret not in text, f"{record.name} logged a secret: {text[:200]}"
