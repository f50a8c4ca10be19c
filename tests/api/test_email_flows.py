"""The e-mail flows end to end: registration codes, activation links, password reset, the
domain policy and the one-account-per-IP rule, over /v1 and GraphQL.

Mail goes through our real ``SmtpMailer`` to a real SMTP server on loopback
(``FakeSmtpServer``); every code and link is read from the message that server received.
Time is a ``ManualClock`` starting at the real time (whole seconds, so cooldown arithmetic
is exact); Redis TTLs follow the real clock, decisions follow ours. The harness's peer
address is a trusted proxy here, so ``X-Forwarded-For`` picks the client address.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from domain.accounts.errors import (
    AccountNotActivated,
    ActivationTokenExpired,
    ActivationTokenInvalid,
    ActivationTokenUsed,
    EmailCodeInvalid,
    EmailCodeRequired,
    EmailDomainNotAllowed,
    InvalidCredentials,
    PwnedPassword,
    RegisterIpLimit,
    ResetTokenInvalid,
    WeakPassword,
)
from domain.clock import ManualClock
from domain.mail.errors import MailDeliveryFailed
from gateway.settings import ConfigError, load_settings
from tests.api.conftest import BREACHED_PASSWORD
from tests.api.harness import ADMIN_TOKEN, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, Api, running_app
from tests.fakes.hibp_server import FakeHibpServer
from tests.fakes.smtp_server import FakeSmtpServer

EMAIL = "alice@example.com"
ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
PEER = "203.0.113.7"
PROXIES = "203.0.113.0/24"
THIRD_PASSWORD = "Yet-Another#Strong-Pass-77"
CODE = re.compile(r"(?<![0-9])([0-9]{6})(?![0-9])")
TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_-]+)")


def from_ip(n: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{n}"}


@dataclass
class Env:
    api: Api
    app: Any
    clock: ManualClock
    smtp: FakeSmtpServer
    database_url: str

    def tick(self, seconds: float | timedelta) -> None:
        self.clock.advance(seconds)

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [d.message for d in self.smtp.deliveries if address in d.rcpt_tos]

    async def code_for(self, address: str) -> str:
        text = FakeSmtpServer.text_of(await self.smtp.wait_for(address))
        codes = CODE.findall(text)
        assert len(codes) == 1, text
        return str(codes[0])

    async def link_for(self, address: str) -> str:
        text = FakeSmtpServer.text_of(await self.smtp.wait_for(address))
        links = [w for w in text.split() if w.startswith("http")]
        assert len(links) == 1, text
        return links[0]

    async def token_for(self, address: str) -> str:
        match = TOKEN.search(await self.link_for(address))
        assert match is not None
        return match.group(1)


@asynccontextmanager
async def mail_app(
    backend: tuple[str, str | None], hibp: FakeHibpServer, *, smtp: bool = True, **settings: Any
) -> AsyncIterator[Env]:
    database_url, redis_url = backend
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    settings.setdefault("trusted_proxies", PROXIES)
    async with FakeSmtpServer() as server:
        if smtp:
            settings.update(smtp_host=server.host, smtp_port=server.port, smtp_tls="none")
        async with running_app(
            database_url, redis_url=redis_url, hibp=hibp, clock=clock, **settings
        ) as (api, app):
            yield Env(api, app, clock, server, database_url)


def assert_error(response: httpx.Response, status: int, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    if message is not None:
        assert response.json()["message"] == message, response.text


async def send_code(api: Api, email: str = EMAIL, **kwargs: Any) -> httpx.Response:
    return await api.post("/v1/auth/email/send-code", {"email": email}, **kwargs)


async def register(
    api: Api,
    email: str = EMAIL,
    code: str | None = None,
    password: str = STRONG_PASSWORD,
    **kwargs: Any,
) -> httpx.Response:
    body = {"email": email, "password": password}
    if code is not None:
        body["verificationCode"] = code
    return await api.post("/v1/auth/register", body, **kwargs)


async def login(api: Api, email: str = EMAIL, password: str = STRONG_PASSWORD) -> httpx.Response:
    return await api.post("/v1/auth/login", {"email": email, "password": password})


async def user_status(api: Api, user_id: str) -> str:
    response = await api.get(f"/v1/admin/users/{user_id}", headers=ADMIN)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["user"]["status"])


async def audit(api: Api, **params: str) -> list[dict[str, Any]]:
    response = await api.get("/v1/admin/audit", headers=ADMIN, params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]["items"]  # type: ignore[no-any-return]


# -- registration codes --------------------------------------------------------------------


async def test_registration_needs_the_mailed_code(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(backend, hibp, email_verification="required") as env:
        sent = await send_code(env.api)
        assert sent.status_code == 200, sent.text
        assert sent.json() == {"cooldownSeconds": 60, "expiresInSeconds": 600}
        message = await env.smtp.wait_for(EMAIL)
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Subject"] == "Karpov verification code"
        code = await env.code_for(EMAIL)
        assert code in FakeSmtpServer.html_of(message)

        missing = await register(env.api)
        assert_error(missing, 400, EmailCodeRequired.default_message)
        assert missing.json()["code"] == 3
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        assert_error(await register(env.api, code=wrong), 400, EmailCodeInvalid.default_message)

        registered = await register(env.api, code=f" {code} ")
        assert registered.status_code == 200, registered.text
        body = registered.json()
        assert body["email"] == EMAIL
        assert body["emailVerificationRequired"] is True
        assert body["activationEmailSent"] is False
        assert await user_status(env.api, body["userId"]) == "active"
        assert (await login(env.api.fresh())).status_code == 200

        # The code was consumed: it does not register anyone else.
        assert_error(
            await register(env.api, "bob@example.com", code=code),
            400,
            EmailCodeInvalid.default_message,
        )


async def test_optional_verification_checks_a_code_only_when_given(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(backend, hibp, email_verification="optional") as env:
        assert (await register(env.api, "plain@example.com")).status_code == 200
        assert (await send_code(env.api)).status_code == 200
        code = await env.code_for(EMAIL)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        assert_error(await register(env.api, code=wrong), 400, EmailCodeInvalid.default_message)
        assert (await register(env.api, code=code)).status_code == 200


async def test_five_wrong_guesses_kill_the_code_and_are_audited(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(backend, hibp, email_verification="required") as env:
        assert (await send_code(env.api)).status_code == 200
        code = await env.code_for(EMAIL)
        for i in range(1, 6):
            guess = f"{(int(code) + i) % 10**6:06d}"
            response = await register(env.api, code=guess, headers=from_ip(9))
            assert_error(response, 400, EmailCodeInvalid.default_message)
        # The right code is no good any more.
        assert_error(await register(env.api, code=code), 400, EmailCodeInvalid.default_message)

        [event] = await audit(env.api, action="code.guess_blocked")
        assert event["ip"] == "198.51.100.9"
        assert event["details"] == {"kind": "email_verification"}
        assert code not in str(event)

        # A new code (after the cooldown) works.
        env.tick(60)
        assert (await send_code(env.api)).status_code == 200
        fresh = await env.code_for(EMAIL)
        assert (await register(env.api, code=fresh)).status_code == 200


async def test_concurrent_wrong_guesses_are_each_counted(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(backend, hibp, email_verification="required") as env:
        assert (await send_code(env.api)).status_code == 200
        code = await env.code_for(EMAIL)
        guesses = [f"{(int(code) + i) % 10**6:06d}" for i in range(1, 11)]
        responses = await asyncio.gather(*(register(env.api, code=g) for g in guesses))
        assert [r.status_code for r in responses] == [400] * 10
        assert len(await audit(env.api, action="code.guess_blocked")) == 1
        assert_error(await register(env.api, code=code), 400, EmailCodeInvalid.default_message)


async def test_a_second_code_within_the_cooldown_is_429_and_replaces_nothing(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(backend, hibp, email_verification="required") as env:
        assert (await send_code(env.api)).status_code == 200
        first = await env.code_for(EMAIL)
        again = await send_code(env.api)
        assert_error(again, 429)
        assert again.headers["Retry-After"] == "60"
        assert again.json()["code"] == 8
        assert len(env.mails_to(EMAIL)) == 1

        env.tick(59)
        still = await send_code(env.api)
        assert_error(still, 429)
        assert still.headers["Retry-After"] == "1"
        env.tick(1)
        assert (await send_code(env.api)).status_code == 200
        assert len(env.mails_to(EMAIL)) == 2
        second = await env.code_for(EMAIL)

        # One live code per e-mail: the new one replaced the old one.
        if first != second:
            assert_error(await register(env.api, code=first), 400)
        assert (await register(env.api, code=second)).status_code == 200


async def test_five_codes_per_hour_per_email(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(backend, hibp, email_verification="required") as env:
        for _ in range(5):
            assert (await send_code(env.api)).status_code == 200
            env.tick(61)
        sixth = await send_code(env.api)
        assert_error(sixth, 429)
        assert sixth.headers["Retry-After"] == str(3600 - 5 * 61)
        assert len(env.mails_to(EMAIL)) == 5
        # Other addresses are not affected.
        assert (await send_code(env.api, "bob@example.com")).status_code == 200

        env.tick(3600 - 5 * 61 - 1)
        assert_error(await send_code(env.api), 429)
        env.tick(1)
        assert (await send_code(env.api)).status_code == 200
        assert len(env.mails_to(EMAIL)) == 6


async def test_twenty_codes_per_hour_per_client_address(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(backend, hibp, email_verification="required") as env:
        for i in range(20):
            response = await send_code(env.api, f"user{i}@example.com", headers=from_ip(1))
            assert response.status_code == 200, (i, response.text)
        blocked = await send_code(env.api, "user20@example.com", headers=from_ip(1))
        assert_error(blocked, 429)
        assert blocked.headers["Retry-After"] == "3600"
        assert env.mails_to("user20@example.com") == []
        # Another address may still ask, for the same e-mail too.
        other = await send_code(env.api, "user20@example.com", headers=from_ip(2))
        assert other.status_code == 200, other.text
        assert len(env.mails_to("user20@example.com")) == 1
        env.tick(3600)
        assert (await send_code(env.api, "user21@example.com", headers=from_ip(1))).status_code == (
            200
        )


async def test_a_failed_delivery_answers_502_and_keeps_the_cooldown(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(backend, hibp, email_verification="required") as env:
        env.smtp.fail_next = 1
        assert_error(await send_code(env.api), 502, MailDeliveryFailed.default_message)
        assert env.mails_to(EMAIL) == []
        assert_error(await send_code(env.api), 429)
        env.tick(60)
        assert (await send_code(env.api)).status_code == 200
        assert (await register(env.api, code=await env.code_for(EMAIL))).status_code == 200


# -- domain policy and one account per address ----------------------------------------------

ALLOWED = ["a@pku.edu.cn", "b@cs.pku.edu.cn", "C@Example.COM"]
REFUSED = ["d@bad.edu.cn", "e@edu.cn", "f@gmail.com", "g@sub.example.com"]


async def test_domain_policy_on_register_send_code_and_resend(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(
        backend, hibp, email_verification="optional", account_activation="required",
        email_allowed_domains="*.edu.cn, example.com", email_blocked_domains="bad.edu.cn",
    ) as env:  # fmt: skip
        for email in REFUSED:
            for response in (
                await register(env.api, email),
                await send_code(env.api, email),
                await env.api.post("/v1/auth/email/resend", {"email": email}),
            ):
                assert_error(response, 400, EmailDomainNotAllowed.default_message)
            data = await env.api.gql(
                """mutation($i: EmailCodeSendInput!) { emailCodeSend(input: $i) {
                cooldownSeconds errors { code field } } }""",
                {"i": {"email": email}},
            )
            assert data["data"]["emailCodeSend"] == {
                "cooldownSeconds": None,
                "errors": [{"code": "EMAIL_DOMAIN_NOT_ALLOWED", "field": "email"}],
            }
        assert env.smtp.deliveries == []
        for email in ALLOWED:
            assert (await send_code(env.api, email)).status_code == 200, email
            response = await register(env.api, email)
            assert response.status_code == 200, (email, response.text)
            assert response.json()["email"] == email.lower()


async def test_one_account_per_client_address(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(
        backend, hibp, register_one_per_ip=True, register_ip_allowlist="198.51.100.200/32"
    ) as env:
        assert (await register(env.api, "a@example.com", headers=from_ip(1))).status_code == 200
        second = await register(env.api, "b@example.com", headers=from_ip(1))
        assert_error(second, 403, RegisterIpLimit.default_message)
        assert second.json()["code"] == 7
        data = await env.api.gql(
            """mutation($i: AccountRegisterInput!) { accountRegister(input: $i) {
            result { user { email } } errors { code } } }""",
            {"i": {"email": "c@example.com", "password": STRONG_PASSWORD}},
            headers=from_ip(1),
        )
        assert data["data"]["accountRegister"] == {
            "result": None,
            "errors": [{"code": "REGISTER_IP_LIMIT"}],
        }
        assert (await register(env.api, "b@example.com", headers=from_ip(2))).status_code == 200
        for i in range(3):
            allowed = await register(env.api, f"lab{i}@example.com", headers=from_ip(200))
            assert allowed.status_code == 200, allowed.text
        # The refused registrations created nothing.
        assert_error(await login(env.api, "c@example.com"), 401)


async def test_concurrent_registrations_from_one_address_create_one_account(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(backend, hibp, register_one_per_ip=True) as env:
        await env.api.prime_csrf()
        responses = await asyncio.gather(
            *(register(env.api, f"racer{i}@example.com", headers=from_ip(5)) for i in range(8))
        )
        assert sorted(r.status_code for r in responses) == [200] + [403] * 7
        users = await env.api.get("/v1/admin/users", headers=ADMIN, params={"email": "racer"})
        assert users.json()["data"]["total"] == 1


# -- activation links -----------------------------------------------------------------------


async def test_activation_link_activates_the_account(
    backend: tuple[str, str | None], hibp: FakeHibpServer, request: pytest.FixtureRequest
) -> None:
    async with mail_app(backend, hibp, account_activation="required") as env:
        registered = await register(env.api)
        assert registered.status_code == 200, registered.text
        body = registered.json()
        assert body["activationEmailSent"] is True
        assert body["emailVerificationRequired"] is False
        assert await user_status(env.api, body["userId"]) == "pending_email"

        message = await env.smtp.wait_for(EMAIL)
        assert message["Auto-Submitted"] == "auto-generated"
        link = await env.link_for(EMAIL)
        assert link.startswith("http://localhost:8080/activate?token=")
        token = await env.token_for(EMAIL)
        assert len(token) == 43
        assert link in FakeSmtpServer.html_of(message)

        early = await login(env.api)
        assert_error(early, 412, AccountNotActivated.default_message)
        assert_error(await login(env.api, password="Wrong-Password-123"), 401)

        verified = await env.api.post("/v1/auth/email/verify", {"token": token})
        assert verified.status_code == 200, verified.text
        assert verified.json() == {"userId": body["userId"], "email": EMAIL}
        assert await user_status(env.api, body["userId"]) == "active"
        assert (await login(env.api)).status_code == 200

        again = await env.api.post("/v1/auth/email/verify", {"token": token})
        assert_error(again, 409, ActivationTokenUsed.default_message)
        [event] = await audit(env.api, action="email.verified")
        assert event["userId"] == body["userId"]


async def test_expired_and_unknown_activation_links(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(backend, hibp, account_activation="required") as env:
        user_id = (await register(env.api)).json()["userId"]
        token = await env.token_for(EMAIL)
        env.tick(timedelta(hours=24, seconds=1))
        expired = await env.api.post("/v1/auth/email/verify", {"token": token})
        assert_error(expired, 410, ActivationTokenExpired.default_message)
        assert await user_status(env.api, user_id) == "pending_email"

        for garbage in ("x" * 43, "", "not a token"):
            response = await env.api.post("/v1/auth/email/verify", {"token": garbage})
            assert_error(response, 404, ActivationTokenInvalid.default_message)

        # A new link can be asked for (that it works is tested below).
        assert (await env.api.post("/v1/auth/email/resend", {"email": EMAIL})).status_code == 200
        assert await env.token_for(EMAIL) != token


async def test_just_under_24_hours_the_link_still_works(
    backend: tuple[str, str | None], hibp: FakeHibpServer, request: pytest.FixtureRequest
) -> None:
    async with mail_app(backend, hibp, account_activation="required") as env:
        await register(env.api)
        env.tick(timedelta(hours=24, seconds=-1))
        token = await env.token_for(EMAIL)
        assert (await env.api.post("/v1/auth/email/verify", {"token": token})).status_code == 200


async def test_resend_answers_the_same_for_unknown_active_and_pending_addresses(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(backend, hibp, account_activation="required") as env:
        pending, active, unknown = "pending@example.com", "active@example.com", "nobody@example.com"
        assert (await register(env.api, pending)).status_code == 200
        old_pending_token = await env.token_for(pending)
        active_id = (await register(env.api, active)).json()["userId"]
        activated = await env.api.patch(
            f"/v1/admin/users/{active_id}", {"status": "active"}, headers=ADMIN
        )
        assert activated.status_code == 200, activated.text
        before = {e: len(env.mails_to(e)) for e in (pending, active, unknown)}

        answers = [
            await env.api.post("/v1/auth/email/resend", {"email": e})
            for e in (unknown, active, pending)
        ]
        assert [r.status_code for r in answers] == [200, 200, 200]
        assert answers[0].json() == answers[1].json() == answers[2].json()
        assert answers[0].json() == {"cooldownSeconds": 60}
        assert answers[0].headers.get("content-length") == answers[2].headers.get("content-length")
        after = {e: len(env.mails_to(e)) for e in (pending, active, unknown)}
        assert after == {pending: before[pending] + 1, active: before[active], unknown: 0}

        # The new link replaced the old one (the new one working is tested below).
        old = await env.api.post("/v1/auth/email/verify", {"token": old_pending_token})
        assert_error(old, 409, ActivationTokenUsed.default_message)
        assert await env.token_for(pending) != old_pending_token

        # The cooldown looks the same whether or not the address has an account.
        again = [
            await env.api.post("/v1/auth/email/resend", {"email": e}) for e in (unknown, pending)
        ]
        assert [r.status_code for r in again] == [429, 429]
        assert again[0].json() == again[1].json()
        assert again[0].headers["Retry-After"] == again[1].headers["Retry-After"] == "60"


async def test_a_failed_activation_mail_does_not_fail_registration(
    backend: tuple[str, str | None], hibp: FakeHibpServer, request: pytest.FixtureRequest
) -> None:
    async with mail_app(backend, hibp, account_activation="required") as env:
        env.smtp.fail_next = 1
        registered = await register(env.api)
        assert registered.status_code == 200, registered.text
        assert registered.json()["activationEmailSent"] is False
        assert env.mails_to(EMAIL) == []
        assert (await env.api.post("/v1/auth/email/resend", {"email": EMAIL})).status_code == 200
        token = await env.token_for(EMAIL)
        assert (await env.api.post("/v1/auth/email/verify", {"token": token})).status_code == 200


# -- password reset -------------------------------------------------------------------------


async def test_password_reset_by_mailed_link(
    backend: tuple[str, str | None], hibp: FakeHibpServer, request: pytest.FixtureRequest
) -> None:
    async with mail_app(backend, hibp) as env:
        assert (await register(env.api)).status_code == 200
        browser = env.api.fresh()
        assert (await login(browser)).status_code == 200
        assert (await browser.get("/v1/auth/me")).status_code == 200

        answers = [
            await env.api.post("/v1/auth/password/reset/request", {"email": e})
            for e in (EMAIL, "nobody@example.com", "not-an-email")
        ]
        assert [(r.status_code, r.json()) for r in answers] == [(200, {})] * 3
        assert len(env.mails_to(EMAIL)) == 1
        assert env.mails_to("nobody@example.com") == []
        message = await env.smtp.wait_for(EMAIL)
        assert message["Auto-Submitted"] == "auto-generated"
        link = await env.link_for(EMAIL)
        assert link.startswith("http://localhost:8080/reset-password?token=")
        token = await env.token_for(EMAIL)

        def reset(password: str, token: str = token) -> dict[str, str]:
            return {"token": token, "newPassword": password}

        weak = await env.api.post("/v1/auth/password/reset", reset("abcdefgh"))
        assert_error(weak, 400, WeakPassword.default_message)
        pwned = await env.api.post("/v1/auth/password/reset", reset(BREACHED_PASSWORD))
        assert_error(pwned, 400, PwnedPassword.default_message)
        # The refused attempts left the token usable.
        done = await env.api.post("/v1/auth/password/reset", reset(OTHER_STRONG_PASSWORD))
        assert done.status_code == 200, done.text
        assert done.json() == {}

        assert (await browser.get("/v1/auth/me")).status_code == 401  # every session ended
        assert_error(await login(env.api.fresh()), 401, InvalidCredentials.default_message)
        assert (await login(env.api.fresh(), password=OTHER_STRONG_PASSWORD)).status_code == 200

        reused = await env.api.post("/v1/auth/password/reset", reset(THIRD_PASSWORD))
        assert_error(reused, 400, ResetTokenInvalid.default_message)
        garbage = await env.api.post("/v1/auth/password/reset", reset(THIRD_PASSWORD, "x" * 43))
        assert_error(garbage, 400, ResetTokenInvalid.default_message)
        assert (await login(env.api.fresh(), password=OTHER_STRONG_PASSWORD)).status_code == 200


async def test_reset_links_expire_after_30_minutes_and_a_new_one_replaces_the_old(
    backend: tuple[str, str | None], hibp: FakeHibpServer, request: pytest.FixtureRequest
) -> None:
    async with mail_app(backend, hibp) as env:
        assert (await register(env.api)).status_code == 200
        await env.api.post("/v1/auth/password/reset/request", {"email": EMAIL})
        expired = await env.token_for(EMAIL)
        env.tick(timedelta(minutes=30, seconds=1))
        response = await env.api.post(
            "/v1/auth/password/reset", {"token": expired, "newPassword": OTHER_STRONG_PASSWORD}
        )
        assert_error(response, 400, ResetTokenInvalid.default_message)
        assert (await login(env.api.fresh())).status_code == 200  # unchanged

        await env.api.post("/v1/auth/password/reset/request", {"email": EMAIL})
        replaced = await env.token_for(EMAIL)
        env.tick(61)
        await env.api.post("/v1/auth/password/reset/request", {"email": EMAIL})
        current = await env.token_for(EMAIL)
        assert len(env.mails_to(EMAIL)) == 3
        response = await env.api.post(
            "/v1/auth/password/reset", {"token": replaced, "newPassword": OTHER_STRONG_PASSWORD}
        )
        assert_error(response, 400, ResetTokenInvalid.default_message)
        env.tick(timedelta(minutes=29))
        response = await env.api.post(
            "/v1/auth/password/reset", {"token": current, "newPassword": OTHER_STRONG_PASSWORD}
        )
        assert response.status_code == 200, response.text


async def test_reset_requests_are_silently_limited_per_address(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with mail_app(backend, hibp) as env:
        assert (await register(env.api)).status_code == 200
        for _ in range(3):
            response = await env.api.post("/v1/auth/password/reset/request", {"email": EMAIL})
            assert (response.status_code, response.json()) == (200, {})
        assert len(env.mails_to(EMAIL)) == 1  # the cooldown is silent


async def test_a_reset_link_activates_a_pending_account(
    backend: tuple[str, str | None], hibp: FakeHibpServer, request: pytest.FixtureRequest
) -> None:
    async with mail_app(backend, hibp, account_activation="required") as env:
        user_id = (await register(env.api)).json()["userId"]
        await env.api.post("/v1/auth/password/reset/request", {"email": EMAIL})
        token = await env.token_for(EMAIL)
        assert "reset-password" in await env.link_for(EMAIL)
        response = await env.api.post(
            "/v1/auth/password/reset", {"token": token, "newPassword": OTHER_STRONG_PASSWORD}
        )
        assert response.status_code == 200, response.text
        assert await user_status(env.api, user_id) == "active"


# -- GraphQL twins --------------------------------------------------------------------------

SEND = """mutation($i: EmailCodeSendInput!) { emailCodeSend(input: $i) {
    cooldownSeconds expiresInSeconds errors { code field retryAfter } } }"""
REGISTER = """mutation($i: AccountRegisterInput!) { accountRegister(input: $i) {
    result { user { id email status } emailVerificationRequired activationEmailSent }
    errors { code field } } }"""
VERIFY = """mutation($i: EmailVerifyInput!) { emailVerify(input: $i) {
    user { id email status } errors { code field } } }"""
RESEND = """mutation($i: EmailActivationResendInput!) { emailActivationResend(input: $i) {
    cooldownSeconds errors { code retryAfter } } }"""
RESET_REQUEST = """mutation($i: PasswordResetRequestInput!) { passwordResetRequest(input: $i) {
    ok errors { code } } }"""
RESET = """mutation($i: PasswordResetInput!) { passwordReset(input: $i) {
    ok errors { code field } } }"""
LOGIN = """mutation($i: AccountLoginInput!) { accountLogin(input: $i) {
    result { sid } errors { code } } }"""


async def data_of(api: Api, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    result = await api.gql(query, variables)
    assert "errors" not in result, result
    [value] = result["data"].values()
    return value  # type: ignore[no-any-return]


async def test_graphql_twins_of_the_email_flows(
    backend: tuple[str, str | None], hibp: FakeHibpServer, request: pytest.FixtureRequest
) -> None:
    async with mail_app(
        backend, hibp, email_verification="required", account_activation="required"
    ) as env:
        api = env.api
        sent = await data_of(api, SEND, {"i": {"email": EMAIL}})
        assert sent == {"cooldownSeconds": 60, "expiresInSeconds": 600, "errors": []}
        again = await data_of(api, SEND, {"i": {"email": EMAIL}})
        assert again["errors"] == [{"code": "RATE_LIMITED", "field": None, "retryAfter": 60}]
        code = await env.code_for(EMAIL)

        credentials = {"email": EMAIL, "password": STRONG_PASSWORD}
        missing = await data_of(api, REGISTER, {"i": credentials})
        assert missing["errors"] == [{"code": "EMAIL_CODE_REQUIRED", "field": "verificationCode"}]
        registered = await data_of(api, REGISTER, {"i": {**credentials, "verificationCode": code}})
        assert registered["errors"] == []
        result = registered["result"]
        assert result["user"]["status"] == "PENDING_EMAIL"
        assert result["emailVerificationRequired"] is True
        assert result["activationEmailSent"] is True

        not_yet = await data_of(api, LOGIN, {"i": credentials})
        assert not_yet["errors"] == [{"code": "ACCOUNT_NOT_ACTIVATED"}]
        token = await env.token_for(EMAIL)
        garbage = await data_of(api, VERIFY, {"i": {"token": "x" * 43}})
        assert garbage == {
            "user": None,
            "errors": [{"code": "ACTIVATION_TOKEN_INVALID", "field": "token"}],
        }
        verified = await data_of(api, VERIFY, {"i": {"token": token}})
        assert verified["errors"] == []
        assert verified["user"]["id"] == result["user"]["id"]
        assert verified["user"]["status"] == "ACTIVE"
        used = await data_of(api, VERIFY, {"i": {"token": token}})
        assert used["errors"] == [{"code": "ACTIVATION_TOKEN_USED", "field": "token"}]
        assert (await data_of(api, LOGIN, {"i": credentials}))["result"]["sid"]

        mails = len(env.mails_to(EMAIL))
        resent = await data_of(api, RESEND, {"i": {"email": EMAIL}})
        assert resent == {"cooldownSeconds": 60, "errors": []}
        unknown = await data_of(api, RESEND, {"i": {"email": "nobody@example.com"}})
        assert unknown == resent
        assert len(env.mails_to(EMAIL)) == mails  # active: no mail

        requested = await data_of(api, RESET_REQUEST, {"i": {"email": EMAIL}})
        assert requested == {"ok": True, "errors": []}
        assert await data_of(api, RESET_REQUEST, {"i": {"email": "nobody@example.com"}}) == (
            requested
        )
        reset_token = await env.token_for(EMAIL)
        weak = await data_of(api, RESET, {"i": {"token": reset_token, "newPassword": "abcdefgh"}})
        assert weak == {"ok": False, "errors": [{"code": "WEAK_PASSWORD", "field": "newPassword"}]}
        done = await data_of(
            api, RESET, {"i": {"token": reset_token, "newPassword": OTHER_STRONG_PASSWORD}}
        )
        assert done == {"ok": True, "errors": []}
        reused = await data_of(
            api, RESET, {"i": {"token": reset_token, "newPassword": THIRD_PASSWORD}}
        )
        assert reused == {
            "ok": False,
            "errors": [{"code": "RESET_TOKEN_INVALID", "field": "token"}],
        }
        new_login = await data_of(
            api, LOGIN, {"i": {"email": EMAIL, "password": OTHER_STRONG_PASSWORD}}
        )
        assert new_login["errors"] == [] and new_login["result"]["sid"]


# -- configuration --------------------------------------------------------------------------

RUNTIME_QUERY = """{ runtimeConfig { emailVerification { enabled required cooldownSeconds
    codeTtlSeconds hourlyLimitPerEmail allowedDomains blockedDomains appName }
    accountActivation { enabled required ttlSeconds } } }"""


@pytest.mark.parametrize(
    ("settings", "smtp", "verification", "activation"),
    [
        ({}, True, (False, False), (False, False)),
        ({"email_verification": "optional"}, True, (True, False), (False, False)),
        (
            {"email_verification": "required", "account_activation": "required"},
            True,
            (True, True),
            (True, True),
        ),
        # dev without SMTP: mail goes to the log, so the flows are enabled.
        ({"email_verification": "required"}, False, (True, True), (False, False)),
        ({"account_activation": "required"}, False, (False, False), (True, True)),
    ],
)
async def test_runtime_config_reports_the_email_settings(
    backend: tuple[str, str | None],
    hibp: FakeHibpServer,
    settings: dict[str, str],
    smtp: bool,
    verification: tuple[bool, bool],
    activation: tuple[bool, bool],
) -> None:
    domains = {"email_allowed_domains": "*.edu.cn,qq.com", "email_blocked_domains": "bad.edu.cn"}
    async with mail_app(backend, hibp, smtp=smtp, app_name="Music", **settings, **domains) as env:
        response = await env.api.get("/v1/config/runtime")
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["email_verification"] == {
            "enabled": verification[0],
            "required": verification[1],
            "cooldown_seconds": 60,
            "code_ttl_seconds": 600,
            "hourly_limit_per_email": 5,
            "allowed_domains": ["*.edu.cn", "qq.com"],
            "blocked_domains": ["bad.edu.cn"],
            "app_name": "Music",
        }
        assert data["account_activation"] == {
            "enabled": activation[0],
            "required": activation[1],
            "ttl_seconds": 86400,
        }
        gql = (await env.api.gql(RUNTIME_QUERY))["data"]["runtimeConfig"]
        assert (gql["emailVerification"]["enabled"], gql["emailVerification"]["required"]) == (
            verification
        )
        assert (gql["accountActivation"]["enabled"], gql["accountActivation"]["required"]) == (
            activation
        )
        assert gql["emailVerification"]["allowedDomains"] == ["*.edu.cn", "qq.com"]


async def test_dev_without_smtp_writes_the_code_to_the_log(
    sqlite_url: str, hibp: FakeHibpServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with mail_app((sqlite_url, None), hibp, smtp=False, email_verification="required") as env:
        caplog.clear()
        assert (await send_code(env.api)).status_code == 200
        [record] = [r for r in caplog.records if r.name == "karpov.mail.outbox"]
        codes = CODE.findall(record.body)  # type: ignore[attr-defined]
        assert len(codes) == 1
        assert (await register(env.api, code=codes[0])).status_code == 200
        assert env.smtp.deliveries == []


@pytest.mark.parametrize(
    "settings",
    [
        {"email_verification": "required"},
        {"email_verification": "optional"},
        {"account_activation": "required"},
    ],
)
def test_production_refuses_to_start_without_smtp_when_email_is_needed(
    monkeypatch: pytest.MonkeyPatch, settings: dict[str, str]
) -> None:
    monkeypatch.delenv("KARPOV_SMTP_HOST", raising=False)
    with pytest.raises(ConfigError, match="KARPOV_SMTP_HOST"):
        load_settings(env="prod", **settings)
    # With an SMTP host, or in dev, or with e-mail off, it starts.
    load_settings(env="prod", smtp_host="smtp.example.com", **settings)
    load_settings(env="dev", **settings)
    load_settings(env="prod")
