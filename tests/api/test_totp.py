"""Two-factor authentication over /v1 (and GraphQL where the flow needs it), on SQLite and
on PostgreSQL + Redis, with a ``ManualClock`` so that time steps, expiry windows and locks
are exact. The clock starts at the real time: Redis TTLs follow the real clock."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import httpx
import pyotp
import pytest_asyncio

from domain.clock import ManualClock
from domain.errors import RateLimited
from domain.twofactor.errors import (
    TotpAlreadyEnabled,
    TotpChallengeNotFound,
    TotpInvalidCode,
    TotpNoPendingEnrolment,
    TotpNotEnabled,
)
from tests.api.harness import ADMIN_TOKEN, STRONG_PASSWORD, Api, running_app
from tests.fakes.hibp_server import FakeHibpServer

EMAIL = "alice@example.com"
RECOVERY_CODE = re.compile(
    r"^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{5}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{5}$"
)
STEP = 30


@dataclass
class Env:
    api: Api
    app: Any
    clock: ManualClock

    def code(self, secret: str, offset: float = 0) -> str:
        """The TOTP code of ``secret`` at the clock's time plus ``offset`` seconds."""
        return pyotp.TOTP(secret).at(self.clock.now() + timedelta(seconds=offset))

    def wrong(self, secret: str) -> str:
        """A six-digit code that no step within the skew accepts."""
        valid = {self.code(secret, offset) for offset in (-STEP, 0, STEP)}
        return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)

    def tick(self, seconds: float = STEP) -> None:
        self.clock.advance(seconds)


@pytest_asyncio.fixture(loop_scope="session")
async def env(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Env]:
    database_url, redis_url = backend
    clock = ManualClock(datetime.now(UTC))
    async with running_app(database_url, redis_url=redis_url, hibp=hibp, clock=clock) as (
        api,
        app,
    ):
        yield Env(api, app, clock)


@dataclass
class Enrolled:
    secret: str
    recovery_codes: list[str]
    user: dict[str, Any]


# -- helpers ---------------------------------------------------------------------------


async def signed_in(env: Env, email: str = EMAIL, *, register: bool = True) -> Api:
    """A fresh browser signed in with a password (no second factor yet)."""
    browser = env.api.fresh()
    if register:
        response = await browser.post(
            "/v1/auth/register", {"email": email, "password": STRONG_PASSWORD}
        )
        assert response.status_code == 200, response.text
    response = await password_login(browser, email)
    assert response.status_code == 200, response.text
    assert "sid" in response.json(), response.text
    return browser


async def password_login(browser: Api, email: str = EMAIL, **extra: str) -> httpx.Response:
    return await browser.post(
        "/v1/auth/login", {"email": email, "password": STRONG_PASSWORD, **extra}
    )


async def challenge(browser: Api, email: str = EMAIL) -> str:
    response = await password_login(browser, email)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totpRequired"] is True, body
    return str(body["challengeId"])


async def verify(browser: Api, challenge_id: str, code: str) -> httpx.Response:
    return await browser.post("/v1/auth/totp/verify", {"challengeId": challenge_id, "code": code})


async def enrol(env: Env, browser: Api) -> Enrolled:
    """Enable TOTP for the browser's user at the clock's current step."""
    started = await browser.post("/v1/auth/totp/enable", {})
    assert started.status_code == 200, started.text
    secret = started.json()["secretBase32"]
    confirmed = await browser.post("/v1/auth/totp/enable/confirm", {"code": env.code(secret)})
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    return Enrolled(secret, body.pop("recoveryCodes"), body)


async def totp_status(browser: Api) -> dict[str, Any]:
    response = await browser.get("/v1/auth/totp")
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def sid_cookies(response: httpx.Response) -> list[str]:
    return [c for c in response.headers.get_list("set-cookie") if c.startswith("sid=")]


def assert_error(response: httpx.Response, status: int, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    if message is not None:
        assert response.json()["message"] == message, response.text


def assert_invalid_code(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["message"].startswith(TotpInvalidCode.default_message)


def assert_challenge_gone(response: httpx.Response) -> None:
    assert_error(response, 401, TotpChallengeNotFound.default_message)


async def assert_signed_in(browser: Api, response: httpx.Response) -> None:
    """``response`` completed a sign-in: a token, its cookie, and /me works with the cookie."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"sid", "expiresAt"}
    assert any(c.startswith(f"sid={body['sid']}") for c in sid_cookies(response))
    me = await browser.get("/v1/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["totpEnabled"] is True


# -- enrolment -------------------------------------------------------------------------


async def test_enrolment_returns_secret_otpauth_url_and_qr_code(env: Env) -> None:
    browser = await signed_in(env)
    first = await browser.post("/v1/auth/totp/enable", {})
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == {"secretBase32", "otpauthUrl", "qrCodeSvg"}
    secret = body["secretBase32"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    url = body["otpauthUrl"]
    assert url.startswith("otpauth://totp/Karpov:")
    parsed = urlparse(url)
    assert unquote(parsed.path) == f"/Karpov:{EMAIL}"
    query = parse_qs(parsed.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Karpov"]
    for name, default in (("digits", "6"), ("period", "30"), ("algorithm", "SHA1")):
        assert query.get(name, [default]) == [default]
    assert body["qrCodeSvg"].startswith("data:image/svg+xml")
    assert (await totp_status(browser)) == {"enabled": False, "recoveryCodesRemaining": 0}

    # Starting again replaces the pending secret; the factor is still not enabled.
    second = await browser.post("/v1/auth/totp/enable", {})
    assert second.status_code == 200, second.text
    new_secret = second.json()["secretBase32"]
    assert new_secret != secret
    assert (await totp_status(browser))["enabled"] is False
    assert (await browser.get("/v1/auth/me")).json()["totpEnabled"] is False
    if env.code(secret) != env.code(new_secret):
        stale = await browser.post("/v1/auth/totp/enable/confirm", {"code": env.code(secret)})
        assert_invalid_code(stale)
    confirmed = await browser.post("/v1/auth/totp/enable/confirm", {"code": env.code(new_secret)})
    assert confirmed.status_code == 200, confirmed.text

    again = await browser.post("/v1/auth/totp/enable", {})
    assert_error(again, 409, TotpAlreadyEnabled.default_message)
    confirm_again = await browser.post(
        "/v1/auth/totp/enable/confirm", {"code": env.code(new_secret, STEP)}
    )
    assert_error(confirm_again, 409, TotpAlreadyEnabled.default_message)


async def test_enrolment_needs_a_signed_in_session(env: Env) -> None:
    anonymous = env.api.fresh()
    for path in ("/v1/auth/totp/enable", "/v1/auth/totp/enable/confirm"):
        assert_error(await anonymous.post(path, {"code": "123456"}), 401)
    assert_error(await anonymous.get("/v1/auth/totp"), 401)


async def test_confirm_checks_the_code_and_returns_the_user_and_ten_recovery_codes(
    env: Env,
) -> None:
    browser = await signed_in(env)
    no_pending = await browser.post("/v1/auth/totp/enable/confirm", {"code": "123456"})
    assert_error(no_pending, 400, TotpNoPendingEnrolment.default_message)

    secret = (await browser.post("/v1/auth/totp/enable", {})).json()["secretBase32"]
    for bad in (env.wrong(secret), "", "12345", "abcdef", "ABCDE-FGHJK"):
        assert_invalid_code(await browser.post("/v1/auth/totp/enable/confirm", {"code": bad}))
    assert (await totp_status(browser))["enabled"] is False

    response = await browser.post("/v1/auth/totp/enable/confirm", {"code": env.code(secret)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["email"] == EMAIL
    assert body["totpEnabled"] is True
    codes = body["recoveryCodes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(RECOVERY_CODE.match(code) for code in codes), codes
    assert (await browser.get("/v1/auth/me")).json()["totpEnabled"] is True
    assert await totp_status(browser) == {"enabled": True, "recoveryCodesRemaining": 10}


async def test_a_pending_enrolment_expires_after_ten_minutes(env: Env) -> None:
    browser = await signed_in(env)
    secret = (await browser.post("/v1/auth/totp/enable", {})).json()["secretBase32"]
    env.tick(601)
    late = await browser.post("/v1/auth/totp/enable/confirm", {"code": env.code(secret)})
    assert_error(late, 400, TotpNoPendingEnrolment.default_message)

    secret = (await browser.post("/v1/auth/totp/enable", {})).json()["secretBase32"]
    env.tick(599)
    in_time = await browser.post("/v1/auth/totp/enable/confirm", {"code": env.code(secret)})
    assert in_time.status_code == 200, in_time.text


# -- the login challenge ---------------------------------------------------------------


async def test_login_answers_a_challenge_without_a_cookie_and_verify_completes_it(
    env: Env,
) -> None:
    enrolled = await enrol(env, await signed_in(env))
    env.tick()

    browser = env.api.fresh()
    response = await password_login(browser)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"totpRequired", "challengeId"}
    assert body["totpRequired"] is True and len(body["challengeId"]) >= 16
    assert sid_cookies(response) == []
    assert "sid" not in browser.http.cookies
    assert_error(await browser.get("/v1/auth/me"), 401)

    done = await verify(browser, body["challengeId"], env.code(enrolled.secret))
    await assert_signed_in(browser, done)
    token = done.json()["sid"]
    by_header = await env.api.fresh().get("/v1/auth/me", headers={"X-Session-Id": token})
    assert by_header.json()["email"] == EMAIL


async def test_verify_rejects_missing_or_unknown_challenges(env: Env) -> None:
    enrolled = await enrol(env, await signed_in(env))
    env.tick()
    browser = env.api.fresh()
    assert_error(await verify(browser, "", env.code(enrolled.secret)), 400)
    assert_challenge_gone(await verify(browser, "no-such-challenge", env.code(enrolled.secret)))
    challenge_id = await challenge(browser)
    assert_error(await verify(browser, challenge_id, ""), 400)
    await assert_signed_in(browser, await verify(browser, challenge_id, env.code(enrolled.secret)))


async def test_a_code_is_never_accepted_twice(env: Env) -> None:
    enrolled = await enrol(env, await signed_in(env))  # accepted the code of step N
    browser = env.api.fresh()

    challenge_id = await challenge(browser)
    assert_invalid_code(await verify(browser, challenge_id, env.code(enrolled.secret)))

    env.tick()  # step N+1
    code = env.code(enrolled.secret)
    await assert_signed_in(browser, await verify(browser, challenge_id, code))

    other = env.api.fresh()
    second_id = await challenge(other)
    assert_invalid_code(await verify(other, second_id, code))  # same step
    env.tick()  # step N+2: the old code is within the skew, but its step is not newer
    assert env.code(enrolled.secret, -STEP) == code
    assert_invalid_code(await verify(other, second_id, code))
    await assert_signed_in(other, await verify(other, second_id, env.code(enrolled.secret)))

    inline = await password_login(env.api.fresh(), totpCode=env.code(enrolled.secret))
    assert_invalid_code(inline)


async def test_one_step_of_skew_is_accepted_two_are_not(env: Env) -> None:
    enrolled = await enrol(env, await signed_in(env))  # step N
    env.tick(3 * STEP)  # step N+3

    browser = env.api.fresh()
    challenge_id = await challenge(browser)
    assert_invalid_code(await verify(browser, challenge_id, env.code(enrolled.secret, -2 * STEP)))
    assert_invalid_code(await verify(browser, challenge_id, env.code(enrolled.secret, 2 * STEP)))
    previous = env.code(enrolled.secret, -STEP)
    await assert_signed_in(browser, await verify(browser, challenge_id, previous))

    # The next step is accepted too; after it, the current step is no longer newer.
    browser = env.api.fresh()
    challenge_id = await challenge(browser)
    await assert_signed_in(
        browser, await verify(browser, challenge_id, env.code(enrolled.secret, STEP))
    )
    browser = env.api.fresh()
    challenge_id = await challenge(browser)
    assert_invalid_code(await verify(browser, challenge_id, env.code(enrolled.secret)))


async def test_a_challenge_expires_after_five_minutes(env: Env) -> None:
    enrolled = await enrol(env, await signed_in(env))
    browser = env.api.fresh()
    challenge_id = await challenge(browser)
    env.tick(301)
    assert_challenge_gone(await verify(browser, challenge_id, env.code(enrolled.secret)))

    challenge_id = await challenge(browser)
    env.tick(299)
    await assert_signed_in(browser, await verify(browser, challenge_id, env.code(enrolled.secret)))


async def test_a_challenge_is_single_use(env: Env) -> None:
    enrolled = await enrol(env, await signed_in(env))
    env.tick()
    browser = env.api.fresh()
    challenge_id = await challenge(browser)
    await assert_signed_in(browser, await verify(browser, challenge_id, env.code(enrolled.secret)))
    env.tick()
    assert_challenge_gone(await verify(browser, challenge_id, env.code(enrolled.secret)))
    # The refused attempt did not use up the fresh code.
    other = env.api.fresh()
    await assert_signed_in(
        other, await verify(other, await challenge(other), env.code(enrolled.secret))
    )


async def test_five_wrong_codes_kill_the_challenge(env: Env) -> None:
    enrolled = await enrol(env, await signed_in(env))
    env.tick()
    browser = env.api.fresh()
    challenge_id = await challenge(browser)
    for _ in range(5):
        assert_invalid_code(await verify(browser, challenge_id, env.wrong(enrolled.secret)))
    assert_challenge_gone(await verify(browser, challenge_id, env.code(enrolled.secret)))
    # A new sign-in still works with that very code: the dead challenge did not spend it.
    await assert_signed_in(
        browser, await verify(browser, await challenge(browser), env.code(enrolled.secret))
    )


async def test_four_wrong_codes_leave_the_challenge_usable(env: Env) -> None:
    enrolled = await enrol(env, await signed_in(env))
    env.tick()
    browser = env.api.fresh()
    challenge_id = await challenge(browser)
    for _ in range(4):
        assert_invalid_code(await verify(browser, challenge_id, env.wrong(enrolled.secret)))
    await assert_signed_in(browser, await verify(browser, challenge_id, env.code(enrolled.secret)))


async def test_a_code_may_be_sent_inline_with_the_login(env: Env) -> None:
    enrolled = await enrol(env, await signed_in(env))
    env.tick()
    browser = env.api.fresh()
    wrong = await password_login(browser, totpCode=env.wrong(enrolled.secret))
    assert_invalid_code(wrong)
    assert sid_cookies(wrong) == []
    await assert_signed_in(
        browser, await password_login(browser, totpCode=env.code(enrolled.secret))
    )
    # A wrong password with a right code still fails on the password.
    env.tick()
    bad_password = await browser.post(
        "/v1/auth/login",
        {"email": EMAIL, "password": "Wrong-Password-1", "totpCode": env.code(enrolled.secret)},
    )
    assert_error(bad_password, 401)
    assert not bad_password.json()["message"].startswith(TotpInvalidCode.default_message)


async def test_a_sign_in_through_the_challenge_records_the_login_time(env: Env) -> None:
    enrolled = await enrol(env, await signed_in(env))
    env.tick(120)
    browser = env.api.fresh()
    challenge_id = await challenge(browser)
    env.tick(7)
    await assert_signed_in(browser, await verify(browser, challenge_id, env.code(enrolled.secret)))
    last = (await browser.get("/v1/auth/me")).json()["lastLoginAt"]
    assert last is not None
    when = datetime.fromisoformat(last.replace("Z", "+00:00"))
    assert abs((when - env.clock.now()).total_seconds()) < 0.01


async def test_concurrent_uses_of_one_code_sign_in_once(env: Env) -> None:
    enrolled = await enrol(env, await signed_in(env))
    env.tick()
    browsers = [env.api.fresh() for _ in range(3)]
    ids = [await challenge(browser) for browser in browsers]
    code = env.code(enrolled.secret)
    responses = await asyncio.gather(
        *(verify(browser, i, code) for browser, i in zip(browsers, ids, strict=True))
    )
    assert sorted(r.status_code for r in responses) == [200, 401, 401], [r.text for r in responses]


async def test_concurrent_uses_of_one_recovery_code_sign_in_once(env: Env) -> None:
    owner = await signed_in(env)
    enrolled = await enrol(env, owner)
    browsers = [env.api.fresh() for _ in range(3)]
    ids = [await challenge(browser) for browser in browsers]
    code = enrolled.recovery_codes[0]
    responses = await asyncio.gather(
        *(verify(browser, i, code) for browser, i in zip(browsers, ids, strict=True))
    )
    assert sorted(r.status_code for r in responses) == [200, 401, 401], [r.text for r in responses]
    assert (await totp_status(owner))["recoveryCodesRemaining"] == 9


# -- recovery codes --------------------------------------------------------------------


async def test_recovery_codes_work_once_each_in_any_order(env: Env) -> None:
    owner = await signed_in(env)
    enrolled = await enrol(env, owner)
    order = list(enrolled.recovery_codes)
    random.Random(4).shuffle(order)
    for used, code in enumerate(order, start=1):
        browser = env.api.fresh()
        typed = code.lower().replace("-", "") if used % 2 else code  # as typed from paper
        await assert_signed_in(browser, await verify(browser, await challenge(browser), typed))
        assert await totp_status(browser) == {
            "enabled": True,
            "recoveryCodesRemaining": 10 - used,
        }
    browser = env.api.fresh()
    challenge_id = await challenge(browser)
    for code in order[:3]:
        assert_invalid_code(await verify(browser, challenge_id, code))
    assert (await totp_status(owner))["recoveryCodesRemaining"] == 0
    # The TOTP code still works when every recovery code is spent.
    env.tick()
    await assert_signed_in(browser, await verify(browser, challenge_id, env.code(enrolled.secret)))


async def test_a_recovery_code_may_be_sent_inline_with_the_login(env: Env) -> None:
    enrolled = await enrol(env, await signed_in(env))
    browser = env.api.fresh()
    code = enrolled.recovery_codes[3]
    await assert_signed_in(browser, await password_login(browser, totpCode=code))
    assert_invalid_code(await password_login(env.api.fresh(), totpCode=code))
    assert (await totp_status(browser))["recoveryCodesRemaining"] == 9


async def test_regenerating_recovery_codes_needs_a_totp_code_and_replaces_the_set(
    env: Env,
) -> None:
    browser = await signed_in(env)
    enrolled = await enrol(env, browser)
    env.tick()

    refused = await browser.post(
        "/v1/auth/totp/recovery-codes", {"code": enrolled.recovery_codes[0]}
    )
    assert_invalid_code(refused)
    assert refused.json()["code"] == 40100  # gin-style envelope
    assert (await totp_status(browser))["recoveryCodesRemaining"] == 10  # not spent
    assert_invalid_code(
        await browser.post("/v1/auth/totp/recovery-codes", {"code": env.wrong(enrolled.secret)})
    )

    code = env.code(enrolled.secret)
    response = await browser.post("/v1/auth/totp/recovery-codes", {"code": code})
    assert response.status_code == 200, response.text
    fresh = response.json()["data"]["recoveryCodes"]
    assert len(set(fresh)) == 10 and all(RECOVERY_CODE.match(c) for c in fresh)
    assert not set(fresh) & set(enrolled.recovery_codes)
    assert (await totp_status(browser))["recoveryCodesRemaining"] == 10
    # The code used to regenerate is spent.
    assert_invalid_code(await browser.post("/v1/auth/totp/recovery-codes", {"code": code}))

    other = env.api.fresh()
    challenge_id = await challenge(other)
    assert_invalid_code(await verify(other, challenge_id, enrolled.recovery_codes[0]))
    assert_invalid_code(await verify(other, challenge_id, enrolled.recovery_codes[5]))
    await assert_signed_in(other, await verify(other, challenge_id, fresh[5]))
    assert (await totp_status(browser))["recoveryCodesRemaining"] == 9


async def test_regenerating_needs_the_factor_enabled(env: Env) -> None:
    browser = await signed_in(env)
    response = await browser.post("/v1/auth/totp/recovery-codes", {"code": "123456"})
    assert_error(response, 400, TotpNotEnabled.default_message)


# -- disabling -------------------------------------------------------------------------


async def test_disable_with_a_recovery_code_and_login_needs_no_challenge_again(env: Env) -> None:
    browser = await signed_in(env)
    enrolled = await enrol(env, browser)
    pending_login = env.api.fresh()
    open_challenge = await challenge(pending_login)

    wrong = await browser.post("/v1/auth/totp/disable", {"code": env.wrong(enrolled.secret)})
    assert_invalid_code(wrong)
    assert (await totp_status(browser))["enabled"] is True

    response = await browser.post("/v1/auth/totp/disable", {"code": enrolled.recovery_codes[2]})
    assert response.status_code == 200, response.text
    assert response.json() == {}
    assert await totp_status(browser) == {"enabled": False, "recoveryCodesRemaining": 0}
    assert (await browser.get("/v1/auth/me")).json()["totpEnabled"] is False

    # A challenge opened before disabling is gone; a password login is enough now.
    env.tick()
    assert_challenge_gone(await verify(pending_login, open_challenge, env.code(enrolled.secret)))
    login = await password_login(env.api.fresh())
    assert login.status_code == 200, login.text
    assert set(login.json()) == {"sid", "expiresAt"}
    assert sid_cookies(login)

    again = await browser.post("/v1/auth/totp/disable", {"code": env.code(enrolled.secret)})
    assert_error(again, 400, TotpNotEnabled.default_message)

    # Enabling again starts from scratch: the old recovery codes are gone.
    env.tick()
    re_enrolled = await enrol(env, browser)
    assert re_enrolled.secret != enrolled.secret
    assert not set(re_enrolled.recovery_codes) & set(enrolled.recovery_codes)
    other = env.api.fresh()
    assert_invalid_code(await verify(other, await challenge(other), enrolled.recovery_codes[3]))


async def test_disable_with_a_totp_code(env: Env) -> None:
    browser = await signed_in(env)
    enrolled = await enrol(env, browser)
    same_step = await browser.post("/v1/auth/totp/disable", {"code": env.code(enrolled.secret)})
    assert_invalid_code(same_step)  # the code that enabled it is spent
    env.tick()
    response = await browser.post("/v1/auth/totp/disable", {"code": env.code(enrolled.secret)})
    assert response.status_code == 200, response.text
    assert (await totp_status(browser))["enabled"] is False


# -- other sessions --------------------------------------------------------------------


async def test_enabling_regenerating_and_disabling_end_the_other_sessions(env: Env) -> None:
    laptop = await signed_in(env)
    phone = await signed_in(env, register=False)
    enrolled = await enrol(env, laptop)
    assert_error(await phone.get("/v1/auth/me"), 401)
    assert (await laptop.get("/v1/auth/me")).status_code == 200

    env.tick()
    phone = env.api.fresh()
    await assert_signed_in(
        phone, await verify(phone, await challenge(phone), env.code(enrolled.secret))
    )
    env.tick()
    regenerated = await laptop.post(
        "/v1/auth/totp/recovery-codes", {"code": env.code(enrolled.secret)}
    )
    assert regenerated.status_code == 200, regenerated.text
    assert_error(await phone.get("/v1/auth/me"), 401)
    assert (await laptop.get("/v1/auth/me")).status_code == 200

    recovery = regenerated.json()["data"]["recoveryCodes"]
    phone = env.api.fresh()
    await assert_signed_in(phone, await verify(phone, await challenge(phone), recovery[0]))
    disabled = await laptop.post("/v1/auth/totp/disable", {"code": recovery[1]})
    assert disabled.status_code == 200, disabled.text
    assert_error(await phone.get("/v1/auth/me"), 401)
    me = await laptop.get("/v1/auth/me")
    assert me.status_code == 200 and me.json()["totpEnabled"] is False


async def test_starting_an_enrolment_keeps_the_other_sessions(env: Env) -> None:
    laptop = await signed_in(env)
    phone = await signed_in(env, register=False)
    assert (await laptop.post("/v1/auth/totp/enable", {})).status_code == 200
    assert (await phone.get("/v1/auth/me")).status_code == 200


# -- the per-user lock -----------------------------------------------------------------


async def test_ten_wrong_codes_lock_the_factor_for_fifteen_minutes(env: Env) -> None:
    enrolled = await enrol(env, await signed_in(env))
    env.tick()
    browser = env.api.fresh()
    for _ in range(2):  # two challenges, five wrong codes each: ten in a row
        challenge_id = await challenge(browser)
        for _ in range(5):
            assert_invalid_code(await verify(browser, challenge_id, env.wrong(enrolled.secret)))

    challenge_id = await challenge(browser)
    locked = await verify(browser, challenge_id, env.code(enrolled.secret))
    assert locked.status_code == 429, locked.text
    assert locked.json()["code"] == 8  # grpc RESOURCE_EXHAUSTED
    assert 899 <= int(locked.headers["Retry-After"]) <= 901
    assert sid_cookies(locked) == []
    inline = await password_login(env.api.fresh(), totpCode=env.code(enrolled.secret))
    assert inline.status_code == 429 and "Retry-After" in inline.headers

    result = await env.api.fresh().gql(
        """mutation($i: TotpVerifyInput!) { totpVerify(input: $i) {
        result { sid } errors { code message retryAfter } } }""",
        {"i": {"challengeId": challenge_id, "code": env.code(enrolled.secret)}},
    )
    [error] = result["data"]["totpVerify"]["errors"]
    assert error["code"] == RateLimited.code == "RATE_LIMITED"
    assert 899 <= error["retryAfter"] <= 901
    assert result["data"]["totpVerify"]["result"] is None

    env.tick(600)
    still = await verify(browser, await challenge(browser), env.code(enrolled.secret))
    assert still.status_code == 429
    assert 299 <= int(still.headers["Retry-After"]) <= 301

    env.tick(300)  # fifteen minutes after the tenth wrong code
    challenge_id = await challenge(browser)
    # A fresh budget: one wrong code does not lock again.
    assert_invalid_code(await verify(browser, challenge_id, env.wrong(enrolled.secret)))
    await assert_signed_in(browser, await verify(browser, challenge_id, env.code(enrolled.secret)))


async def test_a_right_code_resets_the_count_of_wrong_ones(env: Env) -> None:
    enrolled = await enrol(env, await signed_in(env))
    for _ in range(2):
        env.tick()
        browser = env.api.fresh()
        for _ in range(9):  # inline codes count too
            assert_invalid_code(await password_login(browser, totpCode=env.wrong(enrolled.secret)))
        await assert_signed_in(
            browser, await password_login(browser, totpCode=env.code(enrolled.secret))
        )


# -- GraphQL ---------------------------------------------------------------------------


async def test_the_graphql_twins_enrol_sign_in_and_count_recovery_codes(env: Env) -> None:
    browser = await signed_in(env)
    started = await browser.gql(
        "mutation { totpEnable { enrolment { secretBase32 otpauthUrl qrCodeSvg } "
        "errors { code } } }"
    )
    enrolment = started["data"]["totpEnable"]["enrolment"]
    assert enrolment["otpauthUrl"].startswith("otpauth://totp/Karpov:")
    assert enrolment["qrCodeSvg"].startswith("data:image/svg+xml")
    secret = enrolment["secretBase32"]
    confirmed = await browser.gql(
        """mutation($i: TotpEnableConfirmInput!) { totpEnableConfirm(input: $i) {
        user { email totpEnabled recoveryCodesRemaining } recoveryCodes errors { code } } }""",
        {"i": {"code": env.code(secret)}},
    )
    payload = confirmed["data"]["totpEnableConfirm"]
    assert payload["user"] == {"email": EMAIL, "totpEnabled": True, "recoveryCodesRemaining": 10}
    assert len(payload["recoveryCodes"]) == 10 and payload["errors"] == []

    again = await browser.gql(
        "mutation { totpEnable { enrolment { secretBase32 } errors { code } } }"
    )
    assert again["data"]["totpEnable"] == {
        "enrolment": None,
        "errors": [{"code": "TOTP_ALREADY_ENABLED"}],
    }

    env.tick()
    phone = env.api.fresh()
    login_mutation = """mutation($i: AccountLoginInput!) { accountLogin(input: $i) {
        result { sid totpRequired challengeId } errors { code } } }"""
    login = await phone.gql(login_mutation, {"i": {"email": EMAIL, "password": STRONG_PASSWORD}})
    result = login["data"]["accountLogin"]["result"]
    assert result["totpRequired"] is True and result["sid"] is None
    assert "sid" not in phone.http.cookies
    verified = await phone.gql(
        """mutation($i: TotpVerifyInput!) { totpVerify(input: $i) {
        result { sid totpRequired user { email } } errors { code } } }""",
        {"i": {"challengeId": result["challengeId"], "code": payload["recoveryCodes"][0]}},
    )
    done = verified["data"]["totpVerify"]["result"]
    assert done["sid"] and done["totpRequired"] is False and done["user"]["email"] == EMAIL
    assert phone.http.cookies["sid"] == done["sid"]
    viewer = await phone.gql(
        "{ viewer { recoveryCodesRemaining } totpStatus { enabled recoveryCodesRemaining } }"
    )
    assert viewer["data"] == {
        "viewer": {"recoveryCodesRemaining": 9},
        "totpStatus": {"enabled": True, "recoveryCodesRemaining": 9},
    }

    uid = (await phone.get("/v1/auth/me")).json()["id"]
    as_admin = await env.api.fresh().gql(
        f'{{ adminUser(id: "{uid}") {{ totpEnabled recoveryCodesRemaining }} }}',
        headers={"X-Admin-Key": ADMIN_TOKEN},
    )
    assert as_admin["data"]["adminUser"] == {"totpEnabled": True, "recoveryCodesRemaining": None}

    inline = await env.api.fresh().gql(
        login_mutation,
        {"i": {"email": EMAIL, "password": STRONG_PASSWORD, "totpCode": env.code(secret)}},
    )
    assert inline["data"]["accountLogin"]["result"]["sid"]
    replayed = await env.api.fresh().gql(
        login_mutation,
        {"i": {"email": EMAIL, "password": STRONG_PASSWORD, "totpCode": env.code(secret)}},
    )
    assert replayed["data"]["accountLogin"] == {
        "result": None,
        "errors": [{"code": "TOTP_INVALID_CODE"}],
    }
