"""Every /v1 route gives the same result as its GraphQL twin, for success and failure.

``PARITY`` is the table: each route once, as a declarative ``Read`` (a GET route, its twin
query, how the answers compare and who is refused alike) or as a ``Flow`` (a scenario
that needs sequenced state). Adding a route without a row fails
``test_every_route_has_a_parity_case``."""

from __future__ import annotations

import base64
import logging
import re

# music (issue 13)
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pyotp
import pytest

from domain.clock import SystemClock
from domain.music.catalog import CatalogImporter
from integrations.audio.scanner import MutagenScanner
from integrations.audio.synth import write_demo
from rest.envelope import Style
from rest.errors import ERROR_TABLE
from rest.routes import ROUTES
from tests.api.harness import ADMIN_TOKEN, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, Api
from tests.api.oauth_flow import FRONTEND, OIDC_NAME, at_provider, land, sign_in, start
from tests.parity.pool_fake import NETEASE, QQ  # NETEASE: upstreams (issue 15)

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
USER_FIELDS = "id email status role totpEnabled createdAt lastLoginAt planId"


def raw_id(global_id: str) -> str:
    padded = global_id + "=" * (-len(global_id) % 4)
    return base64.urlsafe_b64decode(padded).decode().split(":", 1)[1]


def instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def same_user(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["id"] == raw_id(gql["id"])
    assert rest["email"] == gql["email"]
    assert rest["status"] == gql["status"].lower()
    assert rest["role"] == gql["role"].lower()
    assert rest["totpEnabled"] == gql["totpEnabled"]
    assert instant(rest["createdAt"]) == instant(gql["createdAt"])
    if "lastLoginAt" in rest:
        assert instant(rest["lastLoginAt"]) == instant(gql["lastLoginAt"])


def same_error(rest: httpx.Response, gql_errors: list[dict[str, Any]]) -> None:
    assert len(gql_errors) == 1, gql_errors
    code = gql_errors[0].get("code") or gql_errors[0]["extensions"]["code"]
    assert rest.status_code == ERROR_TABLE[code].status, (code, rest.text)
    assert rest.json()["message"] == gql_errors[0]["message"]


async def signed_in(api: Api, email: str) -> tuple[Api, str]:
    """A fresh browser with a registered, signed-in user; returns it and the session token."""
    browser = api.fresh()
    await browser.post("/v1/auth/register", {"email": email, "password": STRONG_PASSWORD})
    response = await browser.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    return browser, response.json()["sid"]


async def gql_data(api: Api, query: str, variables: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    result = await api.gql(query, variables, headers)
    assert "errors" not in result, result
    return result["data"]  # type: ignore[no-any-return]


# -- scenarios -------------------------------------------------------------------------


async def register(api: Api) -> None:
    rest = await api.post(
        "/v1/auth/register", {"email": "r@example.com", "password": STRONG_PASSWORD}
    )
    data = await gql_data(api, """mutation($i: AccountRegisterInput!) { accountRegister(input: $i) {
        result { user { email status } emailVerificationRequired activationEmailSent }
        errors { code message field } } }""",
        {"i": {"email": "g@example.com", "password": STRONG_PASSWORD}})  # fmt: skip
    result = data["accountRegister"]["result"]
    assert rest.json()["emailVerificationRequired"] == result["emailVerificationRequired"]
    assert rest.json()["activationEmailSent"] == result["activationEmailSent"]
    for email, password in [("r@example.com", STRONG_PASSWORD), ("x@example.com", "weak")]:
        rest = await api.post("/v1/auth/register", {"email": email, "password": password})
        data = await gql_data(api, """mutation($i: AccountRegisterInput!) {
            accountRegister(input: $i) { errors { code message field } } }""",
            {"i": {"email": email.replace("r@", "g@"), "password": password}})  # fmt: skip
        same_error(rest, data["accountRegister"]["errors"])


async def login(api: Api) -> None:
    await signed_in(api, "l@example.com")
    rest = await api.post("/v1/auth/login", {"email": "l@example.com", "password": STRONG_PASSWORD})
    data = await gql_data(api, """mutation($i: AccountLoginInput!) { accountLogin(input: $i) {
        result { sid expiresAt totpRequired user { email } } errors { code message } } }""",
        {"i": {"email": "l@example.com", "password": STRONG_PASSWORD}})  # fmt: skip
    result = data["accountLogin"]["result"]
    assert result["totpRequired"] is False and result["user"]["email"] == "l@example.com"
    delta = instant(result["expiresAt"]) - instant(rest.json()["expiresAt"])  # type: ignore[operator]
    assert abs(delta.total_seconds()) < 60
    for token in (rest.json()["sid"], result["sid"]):
        me = await api.fresh().get("/v1/auth/me", headers={"X-Session-Id": token})
        assert me.json()["email"] == "l@example.com"
    bad = {"email": "l@example.com", "password": "Wrong-Password-1"}
    rest = await api.post("/v1/auth/login", bad)
    data = await gql_data(api, """mutation($i: AccountLoginInput!) { accountLogin(input: $i) {
        errors { code message } } }""", {"i": bad})  # fmt: skip
    same_error(rest, data["accountLogin"]["errors"])


async def logout(api: Api) -> None:
    browser, sid = await signed_in(api, "o@example.com")
    rest = await browser.post("/v1/auth/logout", {})
    assert rest.status_code == 200
    _, other_sid = await signed_in(api, "o2@example.com")
    data = await gql_data(api, "mutation { accountLogout { ok errors { code message } } }",
                          headers={"X-Session-Id": other_sid})  # fmt: skip
    assert data["accountLogout"] == {"ok": True, "errors": []}
    for token in (sid, other_sid):
        assert (
            await api.fresh().get("/v1/auth/me", headers={"X-Session-Id": token})
        ).status_code == 401
    rest = await api.fresh().post("/v1/auth/logout", {})
    data = await gql_data(api.fresh(), "mutation { accountLogout { errors { code message } } }")
    same_error(rest, data["accountLogout"]["errors"])


async def password_change(api: Api) -> None:
    for email in ("pc@example.com", "pcg@example.com"):
        await signed_in(api, email)
    rest_browser, _ = await signed_in(api, "pc@example.com")
    gql_browser, _ = await signed_in(api, "pcg@example.com")
    body = {"oldPassword": STRONG_PASSWORD, "newPassword": OTHER_STRONG_PASSWORD}
    rest = await rest_browser.post("/v1/auth/password/change", body)
    assert rest.status_code == 200 and rest.json() == {}
    data = await gql_data(
        gql_browser,
        """mutation($i: AccountPasswordChangeInput!) {
        accountPasswordChange(input: $i) { revokedSessions errors { code } } }""",
        {"i": body},
    )
    assert data["accountPasswordChange"] == {"revokedSessions": 1, "errors": []}
    rest = await rest_browser.post("/v1/auth/password/change", body)  # old one is wrong now
    data = await gql_data(
        gql_browser,
        """mutation($i: AccountPasswordChangeInput!) {
        accountPasswordChange(input: $i) { errors { code message } } }""",
        {"i": body},
    )
    same_error(rest, data["accountPasswordChange"]["errors"])


async def session_revoke(api: Api) -> None:
    browser, _ = await signed_in(api, "sr@example.com")
    for _ in range(2):
        await signed_in(api, "sr@example.com")
    items = (await gql_data(browser, "{ sessions { id current } }"))["sessions"]
    others = [s["id"] for s in items if not s["current"]]
    rest = await browser.delete(f"/v1/auth/sessions/{raw_id(others[0])}")
    assert rest.status_code == 200
    data = await gql_data(browser, """mutation($i: SessionRevokeInput!) { sessionRevoke(input: $i)
        { ok errors { code } } }""", {"i": {"sessionId": others[1]}})  # fmt: skip
    assert data["sessionRevoke"] == {"ok": True, "errors": []}
    assert len((await gql_data(browser, "{ sessions { id } }"))["sessions"]) == 1
    rest = await browser.delete(f"/v1/auth/sessions/{raw_id(others[0])}")
    data = await gql_data(browser, """mutation($i: SessionRevokeInput!) { sessionRevoke(input: $i)
        { errors { code message } } }""", {"i": {"sessionId": others[0]}})  # fmt: skip
    same_error(rest, data["sessionRevoke"]["errors"])


async def session_revoke_others(api: Api) -> None:
    browser, _ = await signed_in(api, "so@example.com")
    await signed_in(api, "so@example.com")
    rest = await browser.post("/v1/auth/sessions/revoke-others", {})
    assert rest.json()["data"] == {"revoked": 1}
    await signed_in(api, "so@example.com")
    await signed_in(api, "so@example.com")
    data = await gql_data(
        browser, "mutation { sessionRevokeOthers { revokedCount errors { code } } }"
    )
    assert data["sessionRevokeOthers"] == {"revokedCount": 2, "errors": []}


async def admin_user_update(api: Api) -> None:
    ids = []
    for email in ("up1@example.com", "up2@example.com"):
        browser, _ = await signed_in(api, email)
        ids.append((await browser.get("/v1/auth/me")).json()["id"])
    rest = await api.patch(
        f"/v1/admin/users/{ids[0]}", {"status": "disabled", "role": "admin"}, headers=ADMIN
    )
    data = await gql_data(api, """mutation($i: AdminUserUpdateInput!) { adminUserUpdate(input: $i) {
        user { id status role } errors { code } } }""",
        {"i": {"userId": ids[1], "status": "DISABLED", "role": "ADMIN"}},
        headers=ADMIN)  # fmt: skip
    user = data["adminUserUpdate"]["user"]
    assert (rest.json()["data"]["status"], rest.json()["data"]["role"]) == (
        user["status"].lower(),
        user["role"].lower(),
    )
    rest = await api.patch(f"/v1/admin/users/{'0' * 32}", {"status": "locked"}, headers=ADMIN)
    data = await gql_data(
        api,
        """mutation($i: AdminUserUpdateInput!) { adminUserUpdate(input: $i) {
        errors { code message } } }""",
        {"i": {"userId": "0" * 32, "status": "LOCKED"}},
        headers=ADMIN,
    )
    same_error(rest, data["adminUserUpdate"]["errors"])


async def admin_user_password_set(api: Api) -> None:
    browser, _ = await signed_in(api, "ps@example.com")
    uid = (await browser.get("/v1/auth/me")).json()["id"]
    rest = await api.post(
        f"/v1/admin/users/{uid}/password", {"newPassword": OTHER_STRONG_PASSWORD}, headers=ADMIN
    )
    assert rest.json()["data"] == {"ok": True}
    data = await gql_data(api, """mutation($i: AdminUserPasswordSetInput!) { adminUserPasswordSet(
        input: $i) { ok errors { code } } }""",
        {"i": {"userId": uid, "newPassword": STRONG_PASSWORD}}, headers=ADMIN)  # fmt: skip
    assert data["adminUserPasswordSet"] == {"ok": True, "errors": []}
    assert (await browser.get("/v1/auth/me")).status_code == 401  # its sessions ended
    rest = await api.post(f"/v1/admin/users/{uid}/password", {"newPassword": "weak"}, headers=ADMIN)
    data = await gql_data(api, """mutation($i: AdminUserPasswordSetInput!) { adminUserPasswordSet(
        input: $i) { errors { code message } } }""", {"i": {"userId": uid, "newPassword": "weak"}},
        headers=ADMIN)  # fmt: skip
    same_error(rest, data["adminUserPasswordSet"]["errors"])


# -- two-factor ------------------------------------------------------------------------


def totp_now(secret: str) -> str:
    return str(pyotp.TOTP(secret).now())


def totp_next(secret: str) -> str:
    """The next step's code: newer than a code just used, and within the one-step skew."""
    return str(pyotp.TOTP(secret).at(time.time() + 30))


async def totp_user(api: Api, email: str) -> tuple[Api, str, list[str]]:
    """A signed-in browser of a user with TOTP enabled (through /v1), its secret and its
    recovery codes."""
    browser, _ = await signed_in(api, email)
    secret = (await browser.post("/v1/auth/totp/enable", {})).json()["secretBase32"]
    confirmed = await browser.post("/v1/auth/totp/enable/confirm", {"code": totp_now(secret)})
    assert confirmed.status_code == 200, confirmed.text
    return browser, secret, confirmed.json()["recoveryCodes"]


async def totp_enable(api: Api) -> None:
    rest_browser, _ = await signed_in(api, "te@example.com")
    gql_browser, _ = await signed_in(api, "teg@example.com")
    rest = await rest_browser.post("/v1/auth/totp/enable", {})
    data = await gql_data(gql_browser, """mutation { totpEnable {
        enrolment { secretBase32 otpauthUrl qrCodeSvg } errors { code } } }""")  # fmt: skip
    gql = data["totpEnable"]["enrolment"]
    assert set(rest.json()) == set(gql)
    for body, email in ((rest.json(), "te%40example.com"), (gql, "teg%40example.com")):
        assert body["otpauthUrl"] == (
            f"otpauth://totp/Karpov:{email}?secret={body['secretBase32']}&issuer=Karpov"
        )
        assert body["qrCodeSvg"].startswith("data:image/svg+xml")
    for browser, body in ((rest_browser, rest.json()), (gql_browser, gql)):
        code = totp_now(body["secretBase32"])
        confirmed = await browser.post("/v1/auth/totp/enable/confirm", {"code": code})
        assert confirmed.status_code == 200, confirmed.text
    rest = await rest_browser.post("/v1/auth/totp/enable", {})
    data = await gql_data(gql_browser, """mutation { totpEnable {
        enrolment { secretBase32 } errors { code message } } }""")  # fmt: skip
    assert data["totpEnable"]["enrolment"] is None
    same_error(rest, data["totpEnable"]["errors"])


async def totp_enable_confirm(api: Api) -> None:
    rest_browser, _ = await signed_in(api, "tc@example.com")
    gql_browser, _ = await signed_in(api, "tcg@example.com")
    secrets = []
    for browser in (rest_browser, gql_browser):
        secrets.append((await browser.post("/v1/auth/totp/enable", {})).json()["secretBase32"])
    mutation = (
        "mutation($i: TotpEnableConfirmInput!) { totpEnableConfirm(input: $i) { user { "
        + USER_FIELDS
        + " } recoveryCodes errors { code message } } }"
    )
    wrong = "000000" if "000000" not in {totp_now(s) for s in secrets} else "111111"
    rest = await rest_browser.post("/v1/auth/totp/enable/confirm", {"code": wrong})
    data = await gql_data(gql_browser, mutation, {"i": {"code": wrong}})
    assert data["totpEnableConfirm"]["user"] is None
    same_error(rest, data["totpEnableConfirm"]["errors"])

    rest = await rest_browser.post("/v1/auth/totp/enable/confirm", {"code": totp_now(secrets[0])})
    assert rest.status_code == 200, rest.text
    data = await gql_data(gql_browser, mutation, {"i": {"code": totp_now(secrets[1])}})
    gql = data["totpEnableConfirm"]
    assert gql["errors"] == []
    assert rest.json()["totpEnabled"] is gql["user"]["totpEnabled"] is True
    rest_codes, gql_codes = rest.json()["recoveryCodes"], gql["recoveryCodes"]
    assert len(rest_codes) == len(gql_codes) == 10
    assert [len(c) for c in rest_codes] == [len(c) for c in gql_codes] == [11] * 10
    viewer = await gql_data(rest_browser, f"{{ viewer {{ {USER_FIELDS} }} }}")
    same_user({k: v for k, v in rest.json().items() if k != "lastLoginAt"}, viewer["viewer"])


async def totp_verify(api: Api) -> None:
    _, _, codes = await totp_user(api, "tv@example.com")
    credentials = {"email": "tv@example.com", "password": STRONG_PASSWORD}
    rest_browser, gql_browser = api.fresh(), api.fresh()
    rest_challenge = (await rest_browser.post("/v1/auth/login", credentials)).json()
    data = await gql_data(gql_browser, """mutation($i: AccountLoginInput!) { accountLogin(
        input: $i) { result { sid totpRequired challengeId } errors { code } } }""",
        {"i": credentials})  # fmt: skip
    gql_challenge = data["accountLogin"]["result"]
    assert rest_challenge["totpRequired"] is gql_challenge["totpRequired"] is True
    assert gql_challenge["sid"] is None

    verify = """mutation($i: TotpVerifyInput!) { totpVerify(input: $i) {
        result { sid expiresAt totpRequired user { email } } errors { code message } } }"""
    rest = await rest_browser.post(
        "/v1/auth/totp/verify", {"challengeId": rest_challenge["challengeId"], "code": codes[0]}
    )
    assert rest.status_code == 200, rest.text
    data = await gql_data(gql_browser, verify,
        {"i": {"challengeId": gql_challenge["challengeId"], "code": codes[1]}})  # fmt: skip
    result = data["totpVerify"]["result"]
    assert result["totpRequired"] is False and result["user"]["email"] == "tv@example.com"
    delta = instant(result["expiresAt"]) - instant(rest.json()["expiresAt"])  # type: ignore[operator]
    assert abs(delta.total_seconds()) < 60
    for browser, token in ((rest_browser, rest.json()["sid"]), (gql_browser, result["sid"])):
        assert browser.http.cookies["sid"] == token
        me = await api.fresh().get("/v1/auth/me", headers={"X-Session-Id": token})
        assert me.json()["email"] == "tv@example.com"

    # A challenge is single use: both have been completed already.
    rest = await api.fresh().post(
        "/v1/auth/totp/verify", {"challengeId": rest_challenge["challengeId"], "code": codes[2]}
    )
    data = await gql_data(api.fresh(), verify,
        {"i": {"challengeId": gql_challenge["challengeId"], "code": codes[3]}})  # fmt: skip
    assert data["totpVerify"]["result"] is None
    same_error(rest, data["totpVerify"]["errors"])


async def totp_disable(api: Api) -> None:
    rest_browser, _, rest_codes = await totp_user(api, "td@example.com")
    gql_browser, _, gql_codes = await totp_user(api, "tdg@example.com")
    mutation = """mutation($i: TotpDisableInput!) { totpDisable(input: $i) {
        ok errors { code message } } }"""
    rest = await rest_browser.post("/v1/auth/totp/disable", {"code": rest_codes[0]})
    assert rest.status_code == 200 and rest.json() == {}, rest.text
    data = await gql_data(gql_browser, mutation, {"i": {"code": gql_codes[0]}})
    assert data["totpDisable"] == {"ok": True, "errors": []}
    for browser in (rest_browser, gql_browser):
        status = await gql_data(browser, "{ viewer { totpEnabled } }")
        assert status["viewer"]["totpEnabled"] is False
    rest = await rest_browser.post("/v1/auth/totp/disable", {"code": rest_codes[1]})
    data = await gql_data(gql_browser, mutation, {"i": {"code": gql_codes[1]}})
    assert data["totpDisable"]["ok"] is False
    same_error(rest, data["totpDisable"]["errors"])


async def totp_recovery_codes(api: Api) -> None:
    rest_browser, rest_secret, rest_codes = await totp_user(api, "trc@example.com")
    gql_browser, gql_secret, gql_codes = await totp_user(api, "trcg@example.com")
    mutation = """mutation($i: TotpRecoveryCodesRegenerateInput!) {
        totpRecoveryCodesRegenerate(input: $i) { recoveryCodes errors { code message } } }"""
    rest = await rest_browser.post("/v1/auth/totp/recovery-codes", {"code": rest_codes[0]})
    data = await gql_data(gql_browser, mutation, {"i": {"code": gql_codes[0]}})
    assert data["totpRecoveryCodesRegenerate"]["recoveryCodes"] is None
    same_error(rest, data["totpRecoveryCodesRegenerate"]["errors"])

    rest = await rest_browser.post("/v1/auth/totp/recovery-codes", {"code": totp_next(rest_secret)})
    assert rest.status_code == 200, rest.text
    data = await gql_data(gql_browser, mutation, {"i": {"code": totp_next(gql_secret)}})
    gql = data["totpRecoveryCodesRegenerate"]
    assert gql["errors"] == []
    rest_new, gql_new = rest.json()["data"]["recoveryCodes"], gql["recoveryCodes"]
    assert len(rest_new) == len(gql_new) == 10
    assert not set(rest_new) & set(rest_codes) and not set(gql_new) & set(gql_codes)


async def totp_status(api: Api) -> None:
    browser, _, codes = await totp_user(api, "ts@example.com")
    credentials = {"email": "ts@example.com", "password": STRONG_PASSWORD, "totpCode": codes[4]}
    assert (await api.fresh().post("/v1/auth/login", credentials)).status_code == 200
    rest = (await browser.get("/v1/auth/totp")).json()["data"]
    data = await gql_data(browser, "{ totpStatus { enabled recoveryCodesRemaining } }")
    assert rest == data["totpStatus"] == {"enabled": True, "recoveryCodesRemaining": 9}
    plain, _ = await signed_in(api, "tsp@example.com")
    rest = (await plain.get("/v1/auth/totp")).json()["data"]
    data = await gql_data(plain, "{ totpStatus { enabled recoveryCodesRemaining } }")
    assert rest == data["totpStatus"] == {"enabled": False, "recoveryCodesRemaining": 0}
    same_error(await api.fresh().get("/v1/auth/totp"),
               (await api.fresh().gql("{ totpStatus { enabled } }"))["errors"])  # fmt: skip


# -- e-mail flows, unlock and audit (dev without SMTP: the log mailer accepts the mail) ----


class Outbox(logging.Handler):
    """The dev log mailer's messages, as (recipient, text body)."""

    def __init__(self) -> None:
        super().__init__()
        self.mails: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.mails.append((record.to, record.body))  # type: ignore[attr-defined]

    def token_for(self, address: str) -> str:
        [body] = [body for to, body in self.mails if to == address][-1:]
        match = re.search(r"[?&]token=([A-Za-z0-9_-]+)", body)
        assert match is not None, body
        return match.group(1)


@contextmanager
def outbox() -> Iterator[Outbox]:
    handler = Outbox()
    logger = logging.getLogger("karpov.mail.outbox")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def registered(api: Api, email: str) -> str:
    response = await api.fresh().post(
        "/v1/auth/register", {"email": email, "password": STRONG_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["userId"])


def close_waits(rest: httpx.Response, gql_errors: list[dict[str, Any]]) -> None:
    """Retry-After and retryAfter agree (the real clock may tick between the two calls)."""
    assert abs(int(rest.headers["Retry-After"]) - gql_errors[0]["retryAfter"]) <= 1


async def email_code_send(api: Api) -> None:
    mutation = """mutation($i: EmailCodeSendInput!) { emailCodeSend(input: $i) {
        cooldownSeconds expiresInSeconds errors { code message retryAfter } } }"""
    rest = await api.post("/v1/auth/email/send-code", {"email": "sc@example.com"})
    assert rest.status_code == 200, rest.text
    data = await gql_data(api, mutation, {"i": {"email": "scg@example.com"}})
    gql = data["emailCodeSend"]
    assert gql["errors"] == []
    assert rest.json() == {
        "cooldownSeconds": gql["cooldownSeconds"],
        "expiresInSeconds": gql["expiresInSeconds"],
    }
    rest = await api.post("/v1/auth/email/send-code", {"email": "sc@example.com"})
    data = await gql_data(api, mutation, {"i": {"email": "scg@example.com"}})
    errors = data["emailCodeSend"]["errors"]
    same_error(rest, errors)
    close_waits(rest, errors)


async def email_verify(api: Api) -> None:
    ids = [await registered(api, e) for e in ("ev@example.com", "evg@example.com")]
    with outbox() as mails:
        for user_id, email in zip(ids, ("ev@example.com", "evg@example.com"), strict=True):
            pending = await api.patch(
                f"/v1/admin/users/{user_id}", {"status": "pending_email"}, headers=ADMIN
            )
            assert pending.status_code == 200, pending.text
            resent = await api.post("/v1/auth/email/resend", {"email": email})
            assert resent.status_code == 200, resent.text
        tokens = [mails.token_for("ev@example.com"), mails.token_for("evg@example.com")]
    mutation = f"""mutation($i: EmailVerifyInput!) {{ emailVerify(input: $i) {{
        user {{ {USER_FIELDS} }} errors {{ code message }} }} }}"""
    rest = await api.post("/v1/auth/email/verify", {"token": tokens[0]})
    assert rest.status_code == 200, rest.text
    assert rest.json() == {"userId": ids[0], "email": "ev@example.com"}
    data = await gql_data(api, mutation, {"i": {"token": tokens[1]}})
    user = data["emailVerify"]["user"]
    assert (raw_id(user["id"]), user["email"], user["status"]) == (
        ids[1],
        "evg@example.com",
        "ACTIVE",
    )
    assert set(rest.json()) == {"userId", "email"}
    rest = await api.post("/v1/auth/email/verify", {"token": tokens[0]})  # used already
    data = await gql_data(api, mutation, {"i": {"token": tokens[1]}})
    same_error(rest, data["emailVerify"]["errors"])


async def email_activation_resend(api: Api) -> None:
    mutation = """mutation($i: EmailActivationResendInput!) { emailActivationResend(input: $i) {
        cooldownSeconds errors { code message retryAfter } } }"""
    rest = await api.post("/v1/auth/email/resend", {"email": "rs@example.com"})
    assert rest.status_code == 200, rest.text
    data = await gql_data(api, mutation, {"i": {"email": "rsg@example.com"}})
    assert data["emailActivationResend"]["errors"] == []
    assert rest.json() == {"cooldownSeconds": data["emailActivationResend"]["cooldownSeconds"]}
    rest = await api.post("/v1/auth/email/resend", {"email": "rs@example.com"})
    data = await gql_data(api, mutation, {"i": {"email": "rsg@example.com"}})
    errors = data["emailActivationResend"]["errors"]
    same_error(rest, errors)
    close_waits(rest, errors)


async def password_reset_request(api: Api) -> None:
    await registered(api, "rr@example.com")
    mutation = """mutation($i: PasswordResetRequestInput!) { passwordResetRequest(input: $i) {
        ok errors { code message retryAfter } } }"""
    with outbox() as mails:
        rest = await api.post("/v1/auth/password/reset/request", {"email": "rr@example.com"})
        assert (rest.status_code, rest.json()) == (200, {})
        data = await gql_data(api, mutation, {"i": {"email": "rr-unknown@example.com"}})
        assert data["passwordResetRequest"] == {"ok": True, "errors": []}
        assert [to for to, _ in mails.mails] == ["rr@example.com"]
    for i in range(18):  # the per-address limit: 20 an hour
        more = await api.post("/v1/auth/password/reset/request", {"email": f"rr{i}@example.com"})
        assert more.status_code == 200, more.text
    rest = await api.post("/v1/auth/password/reset/request", {"email": "rr@example.com"})
    data = await gql_data(api, mutation, {"i": {"email": "rr@example.com"}})
    errors = data["passwordResetRequest"]["errors"]
    same_error(rest, errors)
    close_waits(rest, errors)


async def password_reset(api: Api) -> None:
    emails = ("pr@example.com", "prg@example.com")
    for email in emails:
        await registered(api, email)
    with outbox() as mails:
        for email in emails:
            requested = await api.post("/v1/auth/password/reset/request", {"email": email})
            assert requested.status_code == 200, requested.text
        tokens = [mails.token_for(email) for email in emails]
    mutation = """mutation($i: PasswordResetInput!) { passwordReset(input: $i) {
        ok errors { code message } } }"""
    rest = await api.post(
        "/v1/auth/password/reset", {"token": tokens[0], "newPassword": OTHER_STRONG_PASSWORD}
    )
    assert (rest.status_code, rest.json()) == (200, {}), rest.text
    data = await gql_data(
        api, mutation, {"i": {"token": tokens[1], "newPassword": OTHER_STRONG_PASSWORD}}
    )
    assert data["passwordReset"] == {"ok": True, "errors": []}
    for email in emails:
        signed = await api.fresh().post(
            "/v1/auth/login", {"email": email, "password": OTHER_STRONG_PASSWORD}
        )
        assert signed.status_code == 200, signed.text
    rest = await api.post(  # single use
        "/v1/auth/password/reset", {"token": tokens[0], "newPassword": STRONG_PASSWORD}
    )
    data = await gql_data(
        api, mutation, {"i": {"token": tokens[1], "newPassword": STRONG_PASSWORD}}
    )
    assert data["passwordReset"]["ok"] is False
    same_error(rest, data["passwordReset"]["errors"])


async def admin_user_unlock(api: Api) -> None:
    emails = ("un@example.com", "ung@example.com")
    ids = [await registered(api, email) for email in emails]
    for email in emails:
        for _ in range(5):
            bad = await api.post("/v1/auth/login", {"email": email, "password": "Wrong-Pass-1"})
            assert bad.status_code == 401
        right = await api.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
        assert right.status_code == 429, right.text
    rest = await api.post(f"/v1/admin/users/{ids[0]}/unlock", {}, headers=ADMIN)
    assert rest.status_code == 200, rest.text
    mutation = f"""mutation($i: AdminUserUnlockInput!) {{ adminUserUnlock(input: $i) {{
        user {{ {USER_FIELDS} }} errors {{ code message }} }} }}"""
    data = await gql_data(api, mutation, {"i": {"userId": ids[1]}}, headers=ADMIN)
    assert data["adminUserUnlock"]["errors"] == []
    rest_user, gql_user = rest.json()["data"], data["adminUserUnlock"]["user"]
    assert (rest_user["id"], raw_id(gql_user["id"])) == tuple(ids)
    assert (rest_user["email"], gql_user["email"]) == emails
    for key in ("status", "role", "planId"):
        assert rest_user[key] == str(gql_user[key]).lower(), key
    assert rest_user["totpEnabled"] is gql_user["totpEnabled"] is False
    for email in emails:
        right = await api.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
        assert right.status_code == 200, right.text
    user, _ = await signed_in(api, "unp@example.com")
    rest = await user.post(f"/v1/admin/users/{ids[0]}/unlock", {})
    data = await gql_data(user, mutation, {"i": {"userId": ids[0]}})
    assert data["adminUserUnlock"]["user"] is None
    same_error(rest, data["adminUserUnlock"]["errors"])


async def admin_audit_events(api: Api) -> None:
    for email in ("ae1@example.com", "ae2@example.com"):
        await signed_in(api, email)
    await api.post("/v1/auth/login", {"email": "ae1@example.com", "password": "Wrong-Pass-1"})
    rest = await api.get("/v1/admin/audit?limit=2&offset=1", headers=ADMIN)
    assert rest.status_code == 200, rest.text
    page = rest.json()["data"]
    first = await gql_data(api, "{ adminAuditEvents(first: 1) { edges { cursor } } }",
                           headers=ADMIN)  # fmt: skip
    after = first["adminAuditEvents"]["edges"][0]["cursor"]
    data = await gql_data(api, """query($after: String) { adminAuditEvents(first: 2, after: $after)
        { totalCount nodes { id action createdAt actor subjectUserId clientIp userAgent details }
        } }""", {"after": after}, headers=ADMIN)  # fmt: skip
    gql = data["adminAuditEvents"]
    assert page["total"] == gql["totalCount"] >= 3
    assert len(page["items"]) == len(gql["nodes"]) == 2
    for item, node in zip(page["items"], gql["nodes"], strict=True):
        assert item["id"] == raw_id(node["id"])
        assert item["action"] == node["action"]
        assert instant(item["createdAt"]) == instant(node["createdAt"])
        assert (item["actor"], item["userId"]) == (node["actor"], node["subjectUserId"])
        assert (item["ip"], item["userAgent"]) == (node["clientIp"], node["userAgent"])
        assert item["details"] == node["details"]
    user, _ = await signed_in(api, "ae3@example.com")
    same_error(await user.get("/v1/admin/audit"),
               (await user.gql("{ adminAuditEvents { totalCount } }"))["errors"])  # fmt: skip


# -- API keys and usage -----------------------------------------------------------------

KEY_FIELDS = """id prefix last4 name description scopes ipAllowlist rateLimitRpm
    rateLimitDaily enabled status totalRequests createdAt expiresAt lastUsedAt
    previousKeyExpiresAt"""
KEY_CREATE = f"""mutation($i: ApiKeyCreateInput!) {{ apiKeyCreate(input: $i) {{
    issued {{ plaintext key {{ {KEY_FIELDS} }} }} errors {{ code message field }} }} }}"""
KEY_UPDATE = f"""mutation($i: ApiKeyUpdateInput!) {{ apiKeyUpdate(input: $i) {{
    apiKey {{ {KEY_FIELDS} }} errors {{ code message field }} }} }}"""
KEY_SET_ENABLED = f"""mutation($i: ApiKeySetEnabledInput!) {{ apiKeySetEnabled(input: $i) {{
    apiKey {{ {KEY_FIELDS} }} errors {{ code message field }} }} }}"""
KEY_REVOKE = f"""mutation($i: ApiKeyIdInput!) {{ apiKeyRevoke(input: $i) {{
    apiKey {{ {KEY_FIELDS} }} errors {{ code message field }} }} }}"""
KEY_ROTATE = f"""mutation($i: ApiKeyRotateInput!) {{ apiKeyRotate(input: $i) {{
    issued {{ plaintext key {{ {KEY_FIELDS} }} }} errors {{ code message field }} }} }}"""
KEY_SPEC = {
    "name": "ci", "description": "nightly", "scopes": ["music:read", "quota:*"],
    "ipAllowlist": ["203.0.113.0/24"], "rateLimitRpm": 60, "rateLimitDaily": 1000,
}  # fmt: skip
_KEY_SETTINGS = ("name", "description", "scopes", "ipAllowlist", "rateLimitRpm",
                 "rateLimitDaily", "enabled", "totalRequests")  # fmt: skip
_KEY_TIMES = ("createdAt", "expiresAt", "lastUsedAt", "previousKeyExpiresAt")


def same_key_settings(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    """Two keys (one made per edge) agree on everything but identity and secret."""
    assert {f: rest[f] for f in _KEY_SETTINGS} == {f: gql[f] for f in _KEY_SETTINGS}
    assert rest["status"] == gql["status"].lower()
    for field in ("expiresAt", "previousKeyExpiresAt"):
        assert (field in rest) is (gql[field] is not None), field


def same_key(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    """The same key as /v1 and GraphQL show it."""
    assert rest["id"] == raw_id(gql["id"])
    assert (rest["prefix"], rest["last4"]) == (gql["prefix"], gql["last4"])
    same_key_settings(rest, gql)
    for field in _KEY_TIMES:
        assert instant(rest.get(field)) == instant(gql[field]), field


async def new_key(browser: Api, **spec: Any) -> tuple[str, str]:
    """(id, plaintext) of a key made through /v1."""
    response = await browser.post("/v1/auth/api-keys", {"name": "k", **spec})
    assert response.status_code == 200, response.text
    return response.json()["id"], response.json()["plaintext"]


async def api_key_create(api: Api) -> None:
    browser, _ = await signed_in(api, "kc@example.com")
    rest = await browser.post("/v1/auth/api-keys", KEY_SPEC)
    assert rest.status_code == 200, rest.text
    data = await gql_data(browser, KEY_CREATE, {"i": KEY_SPEC})
    assert data["apiKeyCreate"]["errors"] == []
    issued = data["apiKeyCreate"]["issued"]
    same_key_settings(rest.json(), issued["key"])
    for plaintext, view in (
        (rest.json()["plaintext"], rest.json()),
        (issued["plaintext"], issued["key"]),
    ):
        assert len(plaintext) == 42 and plaintext.startswith("mk_")
        assert (view["prefix"], view["last4"]) == (plaintext[:8], plaintext[-4:])
    bad = {**KEY_SPEC, "scopes": ["music:read", "*:*"]}
    rest = await browser.post("/v1/auth/api-keys", bad)
    data = await gql_data(browser, KEY_CREATE, {"i": bad})
    assert data["apiKeyCreate"]["issued"] is None
    assert data["apiKeyCreate"]["errors"][0]["field"] == "scopes"
    same_error(rest, data["apiKeyCreate"]["errors"])


async def api_key_update(api: Api) -> None:
    browser, _ = await signed_in(api, "ku@example.com")
    rest_id, _ = await new_key(browser)
    gql_id, _ = await new_key(browser)
    changes = {"name": "renamed", "scopes": ["admin:read"], "ipAllowlist": ["10.0.0.1/32"],
               "rateLimitRpm": 5, "expiresAt": "2099-01-01T00:00:00Z"}  # fmt: skip
    rest = await browser.patch(f"/v1/auth/api-keys/{rest_id}", changes)
    assert rest.status_code == 200, rest.text
    data = await gql_data(browser, KEY_UPDATE, {"i": {"apiKeyId": gql_id, **changes}})
    assert data["apiKeyUpdate"]["errors"] == []
    gql = data["apiKeyUpdate"]["apiKey"]
    same_key_settings(rest.json()["data"], gql)
    assert rest.json()["data"]["ipAllowlist"] == gql["ipAllowlist"] == ["10.0.0.1"]
    assert instant(rest.json()["data"]["expiresAt"]) == instant(gql["expiresAt"])
    bad = {"ipAllowlist": ["10.0.0.0/33"]}
    rest = await browser.patch(f"/v1/auth/api-keys/{rest_id}", bad)
    data = await gql_data(browser, KEY_UPDATE, {"i": {"apiKeyId": gql_id, **bad}})
    assert data["apiKeyUpdate"]["errors"][0]["field"] == "ipAllowlist"
    same_error(rest, data["apiKeyUpdate"]["errors"])


async def api_key_set_enabled(api: Api) -> None:
    browser, _ = await signed_in(api, "ke@example.com")
    rest_id, rest_key = await new_key(browser)
    gql_id, gql_key = await new_key(browser)
    rest = await browser.post(f"/v1/auth/api-keys/{rest_id}/enabled", {"enabled": False})
    assert (rest.status_code, rest.json()["data"]) == (200, None)
    data = await gql_data(browser, KEY_SET_ENABLED, {"i": {"apiKeyId": gql_id, "enabled": False}})
    assert data["apiKeySetEnabled"]["errors"] == []
    view = (await browser.get(f"/v1/auth/api-keys/{rest_id}")).json()["data"]
    same_key_settings(view, data["apiKeySetEnabled"]["apiKey"])
    assert view["status"] == "disabled"
    for key in (rest_key, gql_key):
        refused = await api.fresh().get("/v1/auth/me", headers={"X-API-Key": key})
        assert refused.status_code == 401
    missing = "0" * 32
    rest = await browser.post(f"/v1/auth/api-keys/{missing}/enabled", {"enabled": True})
    data = await gql_data(browser, KEY_SET_ENABLED, {"i": {"apiKeyId": missing, "enabled": True}})
    same_error(rest, data["apiKeySetEnabled"]["errors"])


async def api_key_revoke(api: Api) -> None:
    browser, _ = await signed_in(api, "kr@example.com")
    rest_id, rest_key = await new_key(browser)
    gql_id, gql_key = await new_key(browser)
    rest = await browser.delete(f"/v1/auth/api-keys/{rest_id}")
    assert (rest.status_code, rest.json()["data"]) == (200, None)
    data = await gql_data(browser, KEY_REVOKE, {"i": {"apiKeyId": gql_id}})
    assert data["apiKeyRevoke"]["errors"] == []
    view = (await browser.get(f"/v1/auth/api-keys/{rest_id}")).json()["data"]
    same_key_settings(view, data["apiKeyRevoke"]["apiKey"])
    assert view["status"] == "revoked"
    for key in (rest_key, gql_key):
        refused = await api.fresh().get("/v1/auth/me", headers={"X-API-Key": key})
        assert refused.status_code == 401
    rest = await browser.delete(f"/v1/auth/api-keys/{rest_id}")  # already revoked
    data = await gql_data(browser, KEY_REVOKE, {"i": {"apiKeyId": gql_id}})
    same_error(rest, data["apiKeyRevoke"]["errors"])


async def api_key_rotate(api: Api) -> None:
    browser, _ = await signed_in(api, "kt@example.com")
    rest_id, rest_old = await new_key(browser, scopes=["quota:read"])
    gql_id, gql_old = await new_key(browser, scopes=["quota:read"])
    rest = await browser.post(f"/v1/auth/api-keys/{rest_id}/rotate", {"graceSeconds": 600})
    assert rest.status_code == 200, rest.text
    data = await gql_data(browser, KEY_ROTATE, {"i": {"apiKeyId": gql_id, "graceSeconds": 600}})
    assert data["apiKeyRotate"]["errors"] == []
    issued = data["apiKeyRotate"]["issued"]
    rest_body = rest.json()["data"]
    same_key_settings(rest_body, issued["key"])
    delta = instant(rest_body["previousKeyExpiresAt"]) - instant(  # type: ignore[operator]
        issued["key"]["previousKeyExpiresAt"]
    )
    assert abs(delta.total_seconds()) < 60
    assert (rest_body["id"], raw_id(issued["key"]["id"])) == (rest_id, gql_id)
    for key in (rest_old, gql_old, rest_body["plaintext"], issued["plaintext"]):
        me = await api.fresh().get("/v1/auth/me", headers={"X-API-Key": key})
        assert me.json()["email"] == "kt@example.com"
    too_long = 8 * 86_400
    rest = await browser.post(f"/v1/auth/api-keys/{rest_id}/rotate", {"graceSeconds": too_long})
    data = await gql_data(browser, KEY_ROTATE, {"i": {"apiKeyId": gql_id,
                                                      "graceSeconds": too_long}})  # fmt: skip
    assert data["apiKeyRotate"]["errors"][0]["field"] == "graceSeconds"
    same_error(rest, data["apiKeyRotate"]["errors"])


# -- OAuth login (the fake Linux.do signs in as alice, the OpenID fake as carol) -------------


def without_one_time_values(url: str) -> tuple[str, dict[str, str]]:
    """An authorize URL minus what differs on every start (state, PKCE challenge, nonce)."""
    parts = urlsplit(url)
    query = {
        k: v for k, v in parse_qsl(parts.query) if k not in ("state", "code_challenge", "nonce")
    }
    return f"{parts.scheme}://{parts.netloc}{parts.path}", query


START_URL = """query($p: String!, $i: OAuthIntent!, $n: String) {
    oauthStartUrl(provider: $p, intent: $i, next: $n) }"""


async def oauth_start(api: Api) -> None:
    for provider in ("linuxdo", OIDC_NAME):
        rest = await start(api.fresh(), provider, next_url="/next")
        assert rest.status_code == 302, rest.text
        data = await gql_data(api.fresh(), START_URL, {"p": provider, "i": "LOGIN", "n": "/next"})
        assert without_one_time_values(rest.headers["location"]) == without_one_time_values(
            data["oauthStartUrl"]
        )
    rest = await start(api.fresh(), "nope")
    result = await api.fresh().gql(START_URL, {"p": "nope", "i": "LOGIN"})
    same_error(rest, result["errors"])
    rest = await start(api.fresh(), "linuxdo", intent="bind")  # needs a session
    result = await api.fresh().gql(START_URL, {"p": "linuxdo", "i": "BIND"})
    same_error(rest, result["errors"])


async def oauth_callback(api: Api) -> None:
    """No GraphQL twin (the provider redirects the browser here): a flow started on either
    edge finishes the same way, and a refused one redirects with the same code."""
    rest_browser, gql_browser = api.fresh(), api.fresh()
    rest_landing = await sign_in(rest_browser, "linuxdo", next_url="/x")
    url = (await gql_data(gql_browser, START_URL, {"p": "linuxdo", "i": "LOGIN", "n": "/x"}))[
        "oauthStartUrl"
    ]
    gql_landing = await land(gql_browser, await at_provider(url))
    assert rest_landing.url == gql_landing.url == f"{FRONTEND}/x"
    rest_me = (await rest_browser.get("/v1/auth/me")).json()
    gql_me = (await gql_data(gql_browser, f"{{ viewer {{ {USER_FIELDS} }} }}"))["viewer"]
    same_user(rest_me, gql_me)
    stray = await land(api.fresh(), "/v1/auth/oauth/linuxdo/callback?code=a&state=b")
    assert stray.error == "state_missing"


IDENTITIES = """{ oauthIdentities { provider providerSub providerLogin providerEmail
    providerName providerAvatar trustLevel createdAt lastLoginAt } }"""


UNLINK = """mutation($i: OAuthUnlinkInput!) { oauthUnlink(input: $i) {
    ok errors { code message } } }"""


async def oauth_unlink(api: Api) -> None:
    rest_browser, _ = await signed_in(api, "ul@example.com")
    gql_browser, _ = await signed_in(api, "ulg@example.com")
    assert (await sign_in(rest_browser, "linuxdo", intent="bind")).url.endswith("bind=ok")
    rest = await rest_browser.delete("/v1/auth/oauth/identities/linuxdo")
    assert rest.json()["data"] == {"unbound": True}
    assert (await sign_in(gql_browser, "linuxdo", intent="bind")).url.endswith("bind=ok")
    data = await gql_data(gql_browser, UNLINK, {"i": {"provider": "linuxdo"}})
    assert data["oauthUnlink"] == {"ok": True, "errors": []}
    rest = await rest_browser.delete("/v1/auth/oauth/identities/linuxdo")
    data = await gql_data(gql_browser, UNLINK, {"i": {"provider": "linuxdo"}})
    same_error(rest, data["oauthUnlink"]["errors"])
    # The last way to sign in stays.
    rest_only, gql_only = api.fresh(), api.fresh()
    await sign_in(rest_only, "linuxdo")
    await sign_in(gql_only, OIDC_NAME)
    rest = await rest_only.delete("/v1/auth/oauth/identities/linuxdo")
    data = await gql_data(gql_only, UNLINK, {"i": {"provider": OIDC_NAME}})
    same_error(rest, data["oauthUnlink"]["errors"])


PASSWORD_SET = """mutation($i: AccountPasswordSetInput!) { accountPasswordSet(input: $i) {
    ok errors { code message } } }"""


async def password_set(api: Api) -> None:
    rest_browser, gql_browser = api.fresh(), api.fresh()
    await sign_in(rest_browser, "linuxdo")
    await sign_in(gql_browser, OIDC_NAME)
    body = {"newPassword": STRONG_PASSWORD}
    rest = await rest_browser.post("/v1/auth/password/set", body)
    assert (rest.status_code, rest.json()) == (200, {})
    data = await gql_data(gql_browser, PASSWORD_SET, {"i": body})
    assert data["accountPasswordSet"] == {"ok": True, "errors": []}
    rest = await rest_browser.post("/v1/auth/password/set", body)
    data = await gql_data(gql_browser, PASSWORD_SET, {"i": body})
    same_error(rest, data["accountPasswordSet"]["errors"])


# -- the declarative reads -------------------------------------------------------------

Values = dict[str, str]
Prepare = Callable[[Api], Awaitable[tuple[Api, Values]]]
Refuse = Callable[[Api, Api, Values], Awaitable[tuple[Api, Values]]]


@dataclass(frozen=True)
class Read:
    """A GET route against its GraphQL twin query: ``caller`` prepares who asks (and the
    ``{values}`` of the path, also the query's variables); both edges must answer alike,
    as ``same(rest data, GraphQL field)`` judges; then ``refused`` (who, with which
    values) must get the same error from both."""

    path: str
    query: str
    same: Callable[[Any, Any], None]
    caller: Prepare
    refused: Refuse | None = None


def signed_in_as(
    email: str, *, sessions: int = 1, keys: tuple[dict[str, Any], ...] = ()
) -> Prepare:
    async def prepare(api: Api) -> tuple[Api, Values]:
        browser, _ = await signed_in(api, email)
        for _ in range(sessions - 1):
            await signed_in(api, email)
        made = [await new_key(browser, **spec) for spec in keys]
        return browser, {"id": made[0][0]} if made else {}

    return prepare


async def anyone(api: Api) -> tuple[Api, Values]:
    return api, {}


def admin(api: Api) -> Api:
    browser = api.fresh()
    browser.http.headers.update(ADMIN)
    return browser


async def anonymous(api: Api, caller: Api, values: Values) -> tuple[Api, Values]:
    return api.fresh(), values


def someone_else(email: str) -> Refuse:
    async def refuse(api: Api, caller: Api, values: Values) -> tuple[Api, Values]:
        return (await signed_in(api, email))[0], values

    return refuse


async def with_users(api: Api) -> tuple[Api, Values]:
    for i in range(3):
        await signed_in(api, f"user{i}@example.com")
    return admin(api), {}


async def one_user(api: Api) -> tuple[Api, Values]:
    return admin(api), {"id": await registered(api, "au@example.com")}


async def an_unknown_user(api: Api, caller: Api, values: Values) -> tuple[Api, Values]:
    return caller, {"id": "0" * 32}


async def a_key_without_quota_read(api: Api, caller: Api, values: Values) -> tuple[Api, Values]:
    _, key = await new_key(caller, scopes=["music:read"])
    holder = api.fresh()
    holder.http.headers["X-API-Key"] = key
    return holder, values


async def the_admin_token(api: Api, caller: Api, values: Values) -> tuple[Api, Values]:
    return admin(api), values


async def linked_twice(api: Api) -> tuple[Api, Values]:
    browser = api.fresh()
    await sign_in(browser, "linuxdo")
    await sign_in(browser, OIDC_NAME, intent="bind")
    return browser, {}


def same_sessions(rest: dict[str, Any], gql: list[dict[str, Any]]) -> None:
    items = rest["items"]
    assert len(items) == 2
    assert [s["id"] for s in items] == [raw_id(s["id"]) for s in gql]
    assert [s["current"] for s in items] == [s["current"] for s in gql]
    assert [instant(s["expiresAt"]) for s in items] == [instant(s["expiresAt"]) for s in gql]


def same_runtime_config(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["timezone"] == gql["timezone"]
    ev = gql["emailVerification"]
    assert rest["email_verification"] == {
        "enabled": ev["enabled"], "required": ev["required"],
        "cooldown_seconds": ev["cooldownSeconds"], "code_ttl_seconds": ev["codeTtlSeconds"],
        "hourly_limit_per_email": ev["hourlyLimitPerEmail"],
        "allowed_domains": ev["allowedDomains"], "blocked_domains": ev["blockedDomains"],
        "app_name": ev["appName"],
    }  # fmt: skip
    aa = gql["accountActivation"]
    assert rest["account_activation"] == {
        "enabled": aa["enabled"], "required": aa["required"], "ttl_seconds": aa["ttlSeconds"],
    }  # fmt: skip


def same_keys(rest: dict[str, Any], gql: list[dict[str, Any]]) -> None:
    assert len(rest["items"]) == len(gql) == 2
    for rest_key, gql_key in zip(rest["items"], gql, strict=True):
        same_key(rest_key, gql_key)


def same_summary(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest == gql
    assert (rest["dayLimit"], rest["monthLimit"]) == (100, 1000)  # the free plan


def same_empty_history(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest == gql == {"days": [], "total": 0}


def same_realtime(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert set(rest) == set(gql)
    assert {k: v for k, v in rest.items() if k != "timestamp"} == {
        k: v for k, v in gql.items() if k != "timestamp"
    }
    delta = instant(rest["timestamp"]) - instant(gql["timestamp"])  # type: ignore[operator]
    assert abs(delta.total_seconds()) < 60


def same_limits(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert (rest["planId"], rest["planName"]) == (gql["planId"], gql["planName"]) == (
        "free", "Free",
    )  # fmt: skip
    assert [
        (r["name"], r["limit"], r["remaining"], r["windowSeconds"]) for r in rest["limits"]
    ] == [
        (g["name"].lower(), g["limit"], g["remaining"], g["windowSeconds"]) for g in gql["limits"]
    ]


def same_user_page(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["total"] == gql["totalCount"] == 3
    assert [u["id"] for u in rest["items"]] == [raw_id(u["id"]) for u in gql["nodes"]]
    assert gql["pageInfo"]["hasNextPage"] is True


def same_admin_view(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    same_user(rest["user"], gql)


def same_providers(rest: dict[str, Any], gql: list[dict[str, Any]]) -> None:
    assert rest["providers"] == gql
    assert [p["name"] for p in gql] == ["linuxdo", OIDC_NAME]


def same_identities(rest: dict[str, Any], gql: list[dict[str, Any]]) -> None:
    items = rest["identities"]
    assert [i["provider"] for i in items] == ["linuxdo", OIDC_NAME]
    for item, node in zip(items, gql, strict=True):
        item, node = dict(item), dict(node)
        for key in ("createdAt", "lastLoginAt"):
            assert instant(item.pop(key)) == instant(node.pop(key))
        assert item == node


_FEW_KEYS = ({"scopes": ["quota:read"]},
             {"ipAllowlist": ["2001:db8::/32"], "expiresAt": "2099-01-01T00:00:00Z"})  # fmt: skip
_USAGE_FIELDS = """qpm qps avgLatencyMs maxLatencyMs minLatencyMs totalToday totalMonth
    successRate errorCount dayUsed dayLimit monthUsed monthLimit timestamp"""

# -- credential pool (issue 13) -------------------------------------------------------------

POOL = "/v1/admin/pool/credentials"
POOL_FIELDS = """id provider label status capabilities healthScore failCount cooldownUntil
    lastUsedAt lastFailedAt expiresAt createdAt maxConcurrency requestsPerSecond
    refreshQueuedAt"""
_POOL_ADD = f"""mutation($i: PoolCredentialAddInput!) {{ adminPoolCredentialAdd(input: $i) {{
    credential {{ {POOL_FIELDS} }} errors {{ code message field }} }} }}"""


def pool_payload(musicid: int | None = None) -> str:
    """A NetEase cookie payload, or (with ``musicid``) a live QQ Music login of the fake."""
    if musicid is None:
        raw = b'{"cookie": "MUSIC_U=parity-cookie"}'
    else:
        raw = QQ.credential_payload(QQ.accounts.add(musicid))
    return base64.b64encode(raw).decode()


async def pool_added(api: Api, provider: str = "netease", musicid: int | None = None) -> str:
    body = {"provider": provider, "label": "parity", "payload": pool_payload(musicid)}
    response = await api.post(POOL, body, headers=ADMIN)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def same_credential(rest: dict[str, Any], gql: dict[str, Any], *, same_id: bool = True) -> None:
    if same_id:
        assert rest["id"] == raw_id(gql["id"])
    assert rest["status"] == gql["status"].lower()
    assert rest["provider"] == gql["provider"].lower()  # MusicProviderName over GraphQL
    for key in ("label", "capabilities", "healthScore", "failCount", "maxConcurrency",
                "requestsPerSecond"):  # fmt: skip
        assert rest[key] == gql[key], key
    for key in ("cooldownUntil", "lastUsedAt", "lastFailedAt", "expiresAt", "refreshQueuedAt"):
        assert (rest[key] is None) == (gql[key] is None), key
    assert "payload" not in rest and "payload" not in gql


async def pool_credentials_listed(api: Api) -> tuple[Api, Values]:
    for _ in range(3):
        await pool_added(api)
    await pool_added(api, "local")
    return admin(api), {}


def same_pool_page(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["total"] == gql["totalCount"] == 3
    assert [c["id"] for c in rest["items"]] == [raw_id(n["id"]) for n in gql["nodes"]]
    for item, node in zip(rest["items"], gql["nodes"], strict=True):
        same_credential(item, node)


async def pool_health_of_netease(api: Api) -> tuple[Api, Values]:
    await pool_added(api)
    disabled = await pool_added(api)
    await api.patch(f"{POOL}/{disabled}/status", {"status": "disabled"}, headers=ADMIN)
    return admin(api), {"provider": "NETEASE"}  # the path names netease itself


def same_pool_health(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    [pool] = rest["pools"]
    assert pool == {**gql, "provider": gql["provider"].lower()}
    assert (pool["active"], pool["disabled"]) == (1, 1)


def gql_pool_input(body: dict[str, Any]) -> dict[str, Any]:
    """A /v1 pool body as GraphQL's input: the provider is the MusicProviderName enum."""
    return {**body, "provider": body["provider"].upper()}


# -- worker (issue 17) ----------------------------------------------------------------------


async def the_jobs_admin(api: Api) -> tuple[Api, Values]:
    return admin(api), {}


def same_jobs(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["runner"] == gql["runner"] and rest["failures"] == gql["failures"] == []
    strip = ("nextRunAt",)  # instants: the same moment, each edge's own format
    assert [{k: v for k, v in j.items() if k not in strip} for j in rest["jobs"]] == [
        {k: v for k, v in j.items() if k not in strip} for j in gql["jobs"]
    ]
    assert {j["name"] for j in rest["jobs"]} >= {"mail_outbox", "pool_health", "purge_expired"}


async def pool_credential_add(api: Api) -> None:
    rest = await api.post(POOL, {"provider": "netease", "label": "parity",
                                 "payload": pool_payload(), "capabilities": ["song"]},
                          headers=ADMIN)  # fmt: skip
    assert rest.status_code == 200, rest.text
    data = await gql_data(api, _POOL_ADD, {"i": {"provider": "NETEASE", "label": "parity",
                          "payload": pool_payload(), "capabilities": ["song"]}},
                          headers=ADMIN)  # fmt: skip
    assert data["adminPoolCredentialAdd"]["errors"] == []
    same_credential(rest.json(), data["adminPoolCredentialAdd"]["credential"], same_id=False)
    for bad in ({"payload": "%%%"}, {"capabilities": ["teleport"]}):
        body = {"provider": "netease", "label": "x", "payload": pool_payload(), **bad}
        rest = await api.post(POOL, body, headers=ADMIN)
        data = await gql_data(api, _POOL_ADD, {"i": gql_pool_input(body)}, headers=ADMIN)
        same_error(rest, data["adminPoolCredentialAdd"]["errors"])
    # An unknown provider: a 400 on /v1; over GraphQL the enum refuses it in validation.
    body = {"provider": "spotify", "label": "x", "payload": pool_payload()}
    rest = await api.post(POOL, body, headers=ADMIN)
    assert rest.status_code == 400 and "provider" in rest.json()["message"], rest.text
    refused = await api.gql(_POOL_ADD, {"i": gql_pool_input(body)}, headers=ADMIN)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", refused
    user, _ = await signed_in(api, "pool-add@example.com")
    body = {"provider": "netease", "label": "x", "payload": pool_payload()}
    data = await gql_data(user, _POOL_ADD, {"i": gql_pool_input(body)})
    same_error(await user.post(POOL, body), data["adminPoolCredentialAdd"]["errors"])


async def pool_credential_remove(api: Api) -> None:
    ids = [await pool_added(api) for _ in range(2)]
    rest = await api.delete(f"{POOL}/{ids[0]}", headers=ADMIN)
    assert (rest.status_code, rest.json()) == (200, {})
    mutation = """mutation($i: PoolCredentialRemoveInput!) { adminPoolCredentialRemove(input: $i) {
        ok errors { code message } } }"""
    data = await gql_data(api, mutation, {"i": {"credentialId": ids[1]}}, headers=ADMIN)
    assert data["adminPoolCredentialRemove"] == {"ok": True, "errors": []}
    listed = (await api.get(POOL, headers=ADMIN)).json()
    assert not {c["id"] for c in listed["items"]} & set(ids)
    data = await gql_data(api, mutation, {"i": {"credentialId": ids[0]}}, headers=ADMIN)
    same_error(await api.delete(f"{POOL}/{ids[0]}", headers=ADMIN),
               data["adminPoolCredentialRemove"]["errors"])  # fmt: skip


async def pool_credential_set_status(api: Api) -> None:
    ids = [await pool_added(api) for _ in range(2)]
    mutation = f"""mutation($i: PoolCredentialSetStatusInput!) {{
        adminPoolCredentialSetStatus(input: $i) {{ credential {{ {POOL_FIELDS} }}
        errors {{ code message field }} }} }}"""
    rest = await api.patch(f"{POOL}/{ids[0]}/status", {"status": "disabled"}, headers=ADMIN)
    assert rest.status_code == 200, rest.text
    data = await gql_data(api, mutation, {"i": {"credentialId": ids[1], "status": "DISABLED"}},
                          headers=ADMIN)  # fmt: skip
    result = data["adminPoolCredentialSetStatus"]
    assert result["errors"] == [] and result["credential"]["status"] == "DISABLED"
    same_credential(rest.json(), result["credential"], same_id=False)
    rest = await api.patch(f"{POOL}/{ids[0]}/status", {"status": "banned"}, headers=ADMIN)
    data = await gql_data(api, mutation, {"i": {"credentialId": ids[1], "status": "BANNED"}},
                          headers=ADMIN)  # fmt: skip
    same_error(rest, data["adminPoolCredentialSetStatus"]["errors"])


async def pool_credential_refresh(api: Api) -> None:
    ids = [await pool_added(api, "qqmusic", musicid) for musicid in (880001, 880002)]
    mutation = f"""mutation($i: PoolCredentialRefreshInput!) {{
        adminPoolCredentialRefresh(input: $i)
        {{ credential {{ {POOL_FIELDS} }} errors {{ code message field }} }} }}"""
    rest = await api.post(f"{POOL}/{ids[0]}/refresh", {}, headers=ADMIN)
    assert rest.status_code == 200, rest.text
    data = await gql_data(api, mutation, {"i": {"credentialId": ids[1]}}, headers=ADMIN)
    assert data["adminPoolCredentialRefresh"]["errors"] == []
    same_credential(rest.json(), data["adminPoolCredentialRefresh"]["credential"], same_id=False)
    local = await pool_added(api, "local")
    data = await gql_data(api, mutation, {"i": {"credentialId": local}}, headers=ADMIN)
    same_error(await api.post(f"{POOL}/{local}/refresh", {}, headers=ADMIN),
               data["adminPoolCredentialRefresh"]["errors"])  # fmt: skip


async def pool_credential_test(api: Api) -> None:
    ids = [await pool_added(api, "qqmusic", musicid) for musicid in (880003, 880004)]
    mutation = """mutation($i: PoolCredentialTestInput!) { adminPoolCredentialTest(input: $i) {
        result { success capability latencyMs error } errors { code message field } } }"""
    rest = await api.post(f"{POOL}/{ids[0]}/test", {"capability": "play_url"}, headers=ADMIN)
    assert rest.status_code == 200, rest.text
    data = await gql_data(api, mutation, {"i": {"credentialId": ids[1], "capability": "play_url"}},
                          headers=ADMIN)  # fmt: skip
    result = data["adminPoolCredentialTest"]["result"]
    body = rest.json()
    outcome = (True, "play_url", None)
    assert (body["success"], body["capability"], body["error"]) == outcome
    assert (result["success"], result["capability"], result["error"]) == outcome
    data = await gql_data(api, mutation, {"i": {"credentialId": ids[1], "capability": "x"}},
                          headers=ADMIN)  # fmt: skip
    same_error(await api.post(f"{POOL}/{ids[0]}/test", {"capability": "x"}, headers=ADMIN),
               data["adminPoolCredentialTest"]["errors"])  # fmt: skip


# -- end of credential pool -------------------------------------------------------------------


READS: dict[tuple[str, str], Read] = {
    ("GET", "/v1/auth/me"): Read(
        "/v1/auth/me", f"{{ viewer {{ {USER_FIELDS} }} }}", same_user,
        signed_in_as("m@example.com"), anonymous),
    ("GET", "/v1/auth/sessions"): Read(
        "/v1/auth/sessions", "{ sessions { id current ip userAgent expiresAt } }", same_sessions,
        signed_in_as("s@example.com", sessions=2), anonymous),
    ("GET", "/v1/config/runtime"): Read(
        "/v1/config/runtime", """{ runtimeConfig { timezone emailVerification { enabled
        required cooldownSeconds codeTtlSeconds hourlyLimitPerEmail allowedDomains
        blockedDomains appName } accountActivation { enabled required ttlSeconds } } }""",
        same_runtime_config, anyone),
    ("GET", "/v1/auth/api-keys"): Read(
        "/v1/auth/api-keys", f"{{ apiKeys {{ {KEY_FIELDS} }} }}", same_keys,
        signed_in_as("kl@example.com", keys=_FEW_KEYS), anonymous),
    ("GET", "/v1/auth/api-keys/{id}"): Read(
        "/v1/auth/api-keys/{id}", f"query($id: ID!) {{ apiKey(id: $id) {{ {KEY_FIELDS} }} }}",
        same_key, signed_in_as("kg@example.com", keys=(KEY_SPEC,)),
        someone_else("kg2@example.com")),
    ("GET", "/v1/usage/summary"): Read(
        "/v1/usage/summary", """{ usageSummary { dayUsed monthUsed dayLimit monthLimit date
        month } }""", same_summary, signed_in_as("us@example.com"), a_key_without_quota_read),
    ("GET", "/v1/usage/history"): Read(
        "/v1/usage/history?days=7", """{ usageHistory(days: 7) { days { date operation count
        units } total } }""", same_empty_history, signed_in_as("uh@example.com"), anonymous),
    ("GET", "/v1/usage/realtime"): Read(
        "/v1/usage/realtime", f"{{ usageRealtime {{ {_USAGE_FIELDS} }} }}", same_realtime,
        signed_in_as("ur@example.com"), anonymous),
    ("GET", "/v1/usage/rate-limit"): Read(
        "/v1/usage/rate-limit", """{ rateLimit { planId planName limits { name limit remaining
        resetAfter windowSeconds } } }""", same_limits, signed_in_as("rl@example.com"),
        the_admin_token),
    ("GET", "/v1/admin/users"): Read(
        "/v1/admin/users?limit=2&offset=0&email=user", """{ adminUsers(first: 2,
        filter: {email: "user"}) { totalCount nodes { id email } pageInfo { hasNextPage } }
        }""", same_user_page, with_users, someone_else("plain@example.com")),
    ("GET", "/v1/admin/users/{id}"): Read(
        "/v1/admin/users/{id}", f"query($id: ID!) {{ adminUser(id: $id) {{ {USER_FIELDS} }} }}",
        same_admin_view, one_user, an_unknown_user),
    ("GET", "/v1/auth/oauth/providers"): Read(
        "/v1/auth/oauth/providers", "{ oauthProviders { name displayName } }", same_providers,
        anyone),
    ("GET", "/v1/auth/oauth/identities"): Read(
        "/v1/auth/oauth/identities", IDENTITIES, same_identities, linked_twice, anonymous),
    # -- credential pool (issue 13) --
    ("GET", "/v1/admin/pool/credentials"): Read(
        "/v1/admin/pool/credentials?provider=netease&limit=3", f"""{{ adminPoolCredentials(
        first: 3, filter: {{provider: NETEASE}}) {{ totalCount nodes {{ {POOL_FIELDS} }} }} }}""",
        same_pool_page, pool_credentials_listed, someone_else("pool-list@example.com")),
    ("GET", "/v1/admin/pool/health/{provider}"): Read(
        "/v1/admin/pool/health/netease", """query($provider: MusicProviderName!) {
        adminPoolHealth(provider: $provider) { provider total active disabled banned expired
        refreshing inCooldown avgHealthScore } }""", same_pool_health, pool_health_of_netease,
        someone_else("pool-health@example.com")),
    # -- worker (issue 17) --
    ("GET", "/v1/admin/jobs"): Read(
        "/v1/admin/jobs", """{ adminJobs { runner jobs { name description everySeconds
        maxTries lastRunAt lastDurationMs lastOutcome lastError lastDetail nextRunAt runs
        failures } failures { id name failedAt attempts error } } }""", same_jobs,
        the_jobs_admin, someone_else("jobs@example.com")),
}  # fmt: skip


def _rest_data(route: tuple[str, str], response: httpx.Response) -> Any:
    """The answer's data: the gin envelope's ``data``, or the bare grpc-gateway body."""
    [style] = [r.style for r in ROUTES if (r.method, r.path) == route]
    body = response.json()
    return body["data"] if style is Style.GIN else body


async def check_read(api: Api, route: tuple[str, str], case: Read) -> None:
    caller, values = await case.caller(api)
    rest = await caller.get(case.path.format(**values))
    assert rest.status_code == 200, rest.text
    [gql] = (await gql_data(caller, case.query, dict(values))).values()
    case.same(_rest_data(route, rest), gql)
    if case.refused is not None:
        who, refused_values = await case.refused(api, caller, values)
        result = await who.gql(case.query, dict(refused_values))
        same_error(await who.get(case.path.format(**refused_values)), result["errors"])


# -- the table ----------------------------------------------------------------------------

Flow = Callable[[Api], Awaitable[None]]
"""A scenario that needs sequenced state (a code, a mail, a sign-in, a rotation): it drives
both edges itself and compares them, for success and for failure."""

FLOWS: dict[tuple[str, str], Flow] = {
    ("POST", "/v1/auth/register"): register,
    ("POST", "/v1/auth/login"): login,
    ("POST", "/v1/auth/logout"): logout,
    ("POST", "/v1/auth/password/change"): password_change,
    ("DELETE", "/v1/auth/sessions/{id}"): session_revoke,
    ("POST", "/v1/auth/sessions/revoke-others"): session_revoke_others,
    ("PATCH", "/v1/admin/users/{id}"): admin_user_update,
    ("POST", "/v1/admin/users/{id}/password"): admin_user_password_set,
    ("POST", "/v1/auth/totp/enable"): totp_enable,
    ("POST", "/v1/auth/totp/enable/confirm"): totp_enable_confirm,
    ("POST", "/v1/auth/totp/verify"): totp_verify,
    ("POST", "/v1/auth/totp/disable"): totp_disable,
    ("POST", "/v1/auth/totp/recovery-codes"): totp_recovery_codes,
    ("GET", "/v1/auth/totp"): totp_status,
    ("POST", "/v1/auth/email/send-code"): email_code_send,
    ("POST", "/v1/auth/email/verify"): email_verify,
    ("POST", "/v1/auth/email/resend"): email_activation_resend,
    ("POST", "/v1/auth/password/reset/request"): password_reset_request,
    ("POST", "/v1/auth/password/reset"): password_reset,
    ("POST", "/v1/admin/users/{id}/unlock"): admin_user_unlock,
    ("GET", "/v1/admin/audit"): admin_audit_events,
    ("POST", "/v1/auth/api-keys"): api_key_create,
    ("PATCH", "/v1/auth/api-keys/{id}"): api_key_update,
    ("POST", "/v1/auth/api-keys/{id}/enabled"): api_key_set_enabled,
    ("DELETE", "/v1/auth/api-keys/{id}"): api_key_revoke,
    ("POST", "/v1/auth/api-keys/{id}/rotate"): api_key_rotate,
    ("GET", "/v1/auth/oauth/{provider}/start"): oauth_start,
    ("GET", "/v1/auth/oauth/{provider}/callback"): oauth_callback,
    ("DELETE", "/v1/auth/oauth/identities/{provider}"): oauth_unlink,
    ("POST", "/v1/auth/password/set"): password_set,
    # -- credential pool (issue 13) --
    ("POST", "/v1/admin/pool/credentials"): pool_credential_add,
    ("DELETE", "/v1/admin/pool/credentials/{id}"): pool_credential_remove,
    ("PATCH", "/v1/admin/pool/credentials/{id}/status"): pool_credential_set_status,
    ("POST", "/v1/admin/pool/credentials/{id}/refresh"): pool_credential_refresh,
    ("POST", "/v1/admin/pool/credentials/{id}/test"): pool_credential_test,
}


# == billing (issue 14) ==================================================================
# Reads compare /v1's views with their twins; flows drive the mutations on both edges.

ORDER_FIELDS = """id planId purpose status paymentProvider payUrl amount { amountMinor
    currency formatted } createdAt expiresAt paidAt completedAt"""
WALLET_FIELDS = "userId version balance { amountMinor currency formatted }"
LEDGER_FIELDS = """totalCount nodes { id kind reference description orderId
    amount { amountMinor currency } balanceAfter { amountMinor } }"""
PLAN_FIELDS = """id name description period qps dailyLimit monthlyLimit softLimitPct
    payAsYouGo sortOrder isActive price { amountMinor currency }
    overagePricePer1k { amountMinor }"""
MOVEMENT = """wallet { balance { amountMinor currency } } entry { kind amount { amountMinor } }
    errors { code message field }"""
BASIC_PLAN = {"name": "Basic", "description": "For small projects", "priceCents": 900,
              "qps": 20, "dailyLimit": 1000, "monthlyLimit": 10000, "softLimitPct": 80,
              "payAsYouGo": True, "overagePricePer_1k": 100, "sortOrder": 1}  # fmt: skip


def gin(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["data"]


def same_plan(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["id"] == gql["id"] and rest["name"] == gql["name"]
    assert (rest["priceCents"], rest["currency"]) == (
        gql["price"]["amountMinor"], gql["price"]["currency"],
    )  # fmt: skip
    for field in ("description", "period", "qps", "dailyLimit", "monthlyLimit",
                  "softLimitPct", "payAsYouGo", "sortOrder", "isActive"):  # fmt: skip
        assert rest[field] == gql[field], field
    assert rest["overagePricePer_1k"] == gql["overagePricePer1k"]["amountMinor"]


def same_plans(rest: dict[str, Any], gql: list[dict[str, Any]]) -> None:
    assert len(rest["plans"]) == len(gql) == 4
    for r, g in zip(rest["plans"], gql, strict=True):
        same_plan(r, g)


def same_my_plan(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["userId"] == raw_id(gql["userId"])
    assert (rest["planId"], rest["planName"]) == (gql["plan"]["id"], gql["plan"]["name"])
    assert rest["dailyLimit"] == gql["plan"]["dailyLimit"]


def same_order(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["id"] == raw_id(gql["id"])
    assert (rest["planId"], rest["purpose"], rest["paymentProvider"], rest["payUrl"]) == (
        gql["planId"], gql["purpose"].lower(), gql["paymentProvider"].lower(), gql["payUrl"],
    )  # fmt: skip
    assert rest["status"] == gql["status"].lower()
    assert (rest["amount"], rest["amountMinor"], rest["currency"]) == (
        gql["amount"]["formatted"], gql["amount"]["amountMinor"], gql["amount"]["currency"],
    )  # fmt: skip
    for field in ("createdAt", "expiresAt", "paidAt", "completedAt"):
        assert instant(rest.get(field)) == instant(gql[field]), field


def same_orders(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["total"] == gql["totalCount"] == 2
    for r, g in zip(rest["items"], gql["nodes"], strict=True):
        same_order(r, g)


def same_wallet(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["userId"] == raw_id(gql["userId"])
    assert (rest["balanceCents"], rest["currency"], rest["version"]) == (
        gql["balance"]["amountMinor"], gql["balance"]["currency"], gql["version"],
    )  # fmt: skip
    assert rest["balanceCents"] == 700


def same_ledger(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["total"] == gql["totalCount"] == 2
    for r, g in zip(rest["items"], gql["nodes"], strict=True):
        assert r["id"] == g["id"] and r["kind"] == g["kind"].lower()
        assert (r["amountCents"], r["balanceAfterCents"]) == (
            g["amount"]["amountMinor"], g["balanceAfter"]["amountMinor"],
        )  # fmt: skip
        assert (r["reference"], r["description"], r["orderId"]) == (
            g["reference"], g["description"], g["orderId"],
        )  # fmt: skip


def same_currency(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    config = rest["config"]
    assert config["defaultCurrency"] == gql["defaultCurrency"] == "CNY"
    assert config["rates"] == gql["rates"]
    assert instant(config["updatedAt"]) == instant(gql["updatedAt"])


def a_buyer_with_orders(count: int) -> Prepare:
    async def prepare(api: Api) -> tuple[Api, Values]:
        browser, _ = await signed_in(api, f"orders{count}@example.com")
        made = [
            gin(await browser.post("/v1/billing/orders",
                                   {"planId": plan, "paymentProvider": "mock"}))
            for plan in ("pro", "basic")[:count]
        ]  # fmt: skip
        return browser, {"id": made[0]["orderId"]}

    return prepare


async def a_funded_wallet(api: Api) -> tuple[Api, Values]:
    browser, _ = await signed_in(api, "funded@example.com")
    user_id = (await browser.get("/v1/auth/me")).json()["id"]
    admin_browser = admin(api)
    for operation, cents in (("credit", 1000), ("debit", 300)):
        gin(await admin_browser.post(f"/v1/admin/users/{user_id}/balance",
                                     {"operation": operation, "amountCents": cents,
                                      "description": operation, "reference": "r"}))  # fmt: skip
    return browser, {"id": user_id}


async def an_admin_on_a_funded_wallet(api: Api) -> tuple[Api, Values]:
    _, values = await a_funded_wallet(api)
    return admin(api), values


async def set_currency(api: Api) -> tuple[Api, Values]:
    gin(await admin(api).request("PUT", "/v1/admin/settings/currency",
                                 json={"defaultCurrency": "CNY",
                                       "rates": [{"code": "USD", "rate": "7.25"}]}))  # fmt: skip
    return admin(api), {}


async def mock_pay_page(api: Api) -> None:
    """No twin: the page shows the order GraphQL shows, and its buttons are the callback."""
    browser, values = await a_buyer_with_orders(1)(api)
    page = await browser.get(f"/v1/billing/mock/pay/{values['id']}")
    assert page.status_code == 200, page.text
    order = (await gql_data(browser, f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}",
                            values))["order"]  # fmt: skip
    assert f"<strong>{order['amount']['formatted']} CNY</strong>" in page.text
    assert 'action="/v1/billing/callback/mock"' in page.text
    missing = await browser.get(f"/v1/billing/mock/pay/{'0' * 32}")
    result = await browser.gql("query($id: ID!) { order(id: $id) { id } }", {"id": "0" * 32})
    same_error(missing, result["errors"])


async def _callback(api: Api, method: str) -> None:
    """No twin: a provider calls it; the order GraphQL shows is what the callback did."""
    browser, values = await a_buyer_with_orders(1)(api)
    fields = {"order_id": values["id"], "amount": "29.00"}
    wrong = {**fields, "amount": "28.99"}

    async def send(form: dict[str, str]) -> httpx.Response:
        if method == "POST":
            return await browser.http.post("/v1/billing/callback/mock", data=form)
        return await browser.http.get("/v1/billing/callback/mock", params=form)

    assert (await send(wrong)).text == "fail"
    assert (await send(fields)).text == "ok"
    rest = gin(await browser.get(f"/v1/billing/orders/{values['id']}"))
    order = (await gql_data(browser, f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}",
                            values))["order"]  # fmt: skip
    same_order(rest, order)
    assert order["status"] == "COMPLETED"


async def callback_get(api: Api) -> None:
    await _callback(api, "GET")


async def callback_post(api: Api) -> None:
    await _callback(api, "POST")


async def order_create(api: Api) -> None:
    browser, _ = await signed_in(api, "oc@example.com")
    body = {"planId": "pro", "paymentProvider": "mock", "idempotencyKey": "same"}
    rest = gin(await browser.post("/v1/billing/orders", body))
    data = await gql_data(browser, f"""mutation {{ orderCreate(input: {{planId: "pro",
        paymentProvider: MOCK, idempotencyKey: "same"}}) {{ order {{ {ORDER_FIELDS} }}
        errors {{ code message field }} }} }}""")  # fmt: skip
    order = data["orderCreate"]["order"]
    assert rest["orderId"] == raw_id(order["id"])
    assert (rest["amount"], rest["currency"], rest["status"], rest["payUrl"]) == (
        order["amount"]["formatted"], order["amount"]["currency"], order["status"].lower(),
        order["payUrl"],
    )  # fmt: skip
    create = """mutation($i: OrderCreateInput!) { orderCreate(input: $i) {
        errors { code message field } } }"""
    body = {"planId": "free", "paymentProvider": "mock"}
    failed = await browser.post("/v1/billing/orders", body)
    data = await gql_data(browser, create, {"i": {**body, "paymentProvider": "MOCK"}})
    same_error(failed, data["orderCreate"]["errors"])
    # An unknown provider: a 400 on /v1; over GraphQL the enum refuses it in validation.
    body = {"planId": "pro", "paymentProvider": "paypal"}
    failed = await browser.post("/v1/billing/orders", body)
    assert failed.status_code == 400 and "provider" in failed.json()["message"], failed.text
    refused = await browser.gql(create, {"i": body})
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", refused


async def topup_create(api: Api) -> None:
    browser, _ = await signed_in(api, "tc@example.com")
    rest = gin(await browser.post("/v1/billing/balance/topup",
                                  {"amountCents": 1234, "paymentProvider": "mock"}))  # fmt: skip
    data = await gql_data(
        browser,
        f"""mutation {{ topupCreate(input: {{amountCents: 1234,
        paymentProvider: MOCK}}) {{ order {{ {ORDER_FIELDS} }} errors {{ code }} }} }}""",
    )
    order = data["topupCreate"]["order"]
    assert (rest["amount"], rest["amountCents"], rest["purpose"], rest["status"]) == (
        order["amount"]["formatted"], order["amount"]["amountMinor"],
        order["purpose"].lower(), order["status"].lower(),
    )  # fmt: skip
    failed = await browser.post("/v1/billing/balance/topup",
                                {"amountCents": 99, "paymentProvider": "mock"})  # fmt: skip
    data = await gql_data(browser, """mutation { topupCreate(input: {amountCents: 99,
        paymentProvider: MOCK}) { errors { code message field } } }""")  # fmt: skip
    same_error(failed, data["topupCreate"]["errors"])


async def balance_adjust(api: Api) -> None:
    user_id = await registered(api, "ba@example.com")
    boss = admin(api)
    rest = gin(await boss.post("/v1/billing/balance/adjust",
                               {"userId": user_id, "amountCents": 500}))  # fmt: skip
    data = await gql_data(boss, f"""mutation($u: ID!) {{ balanceAdjust(input: {{userId: $u,
        amountCents: 500}}) {{ {MOVEMENT} }} }}""", {"u": user_id})  # fmt: skip
    moved = data["balanceAdjust"]
    assert rest["balanceCents"] + 500 == moved["wallet"]["balance"]["amountMinor"] == 1000
    assert moved["entry"] == {"kind": "ADJUST", "amount": {"amountMinor": 500}}
    failed = await boss.post("/v1/billing/balance/adjust", {"userId": user_id,
                                                            "amountCents": -5000})  # fmt: skip
    data = await gql_data(boss, f"""mutation($u: ID!) {{ balanceAdjust(input: {{userId: $u,
        amountCents: -5000}}) {{ {MOVEMENT} }} }}""", {"u": user_id})  # fmt: skip
    same_error(failed, data["balanceAdjust"]["errors"])


async def admin_balance_update(api: Api) -> None:
    user_id = await registered(api, "abu@example.com")
    boss = admin(api)
    rest = gin(await boss.post(f"/v1/admin/users/{user_id}/balance",
                               {"operation": "set", "amountCents": 400}))  # fmt: skip
    data = await gql_data(boss, f"""mutation($u: ID!) {{ adminUserBalanceUpdate(input:
        {{userId: $u, operation: SET, amountCents: 250}}) {{ {MOVEMENT} }} }}""",
        {"u": user_id})  # fmt: skip
    moved = data["adminUserBalanceUpdate"]
    assert rest["transaction"]["amountCents"] == 400
    assert moved["entry"]["amount"]["amountMinor"] == -150
    assert moved["wallet"]["balance"]["amountMinor"] == 250
    failed = await boss.post(f"/v1/admin/users/{user_id}/balance",
                             {"operation": "debit", "amountCents": 251})  # fmt: skip
    data = await gql_data(boss, f"""mutation($u: ID!) {{ adminUserBalanceUpdate(input:
        {{userId: $u, operation: DEBIT, amountCents: 251}}) {{ {MOVEMENT} }} }}""",
        {"u": user_id})  # fmt: skip
    same_error(failed, data["adminUserBalanceUpdate"]["errors"])


async def plan_save(api: Api) -> None:
    boss = admin(api)
    rest = gin(await boss.request("PUT", "/v1/billing/plans/team",
                                  json={**BASIC_PLAN, "name": "Team", "sortOrder": 9}))  # fmt: skip
    data = await gql_data(boss, f"""mutation {{ billingPlanSave(input: {{id: "team2",
        name: "Team", description: "For small projects", priceCents: 900, qps: 20,
        dailyLimit: 1000, monthlyLimit: 10000, payAsYouGo: true, overagePricePer1k: 100,
        sortOrder: 9}}) {{ plan {{ {PLAN_FIELDS} }} errors {{ code }} }} }}""")  # fmt: skip
    same_plan({**rest, "id": "team2"}, data["billingPlanSave"]["plan"])
    for plan_id in ("team", "team2"):  # retire them again (reference data)
        assert (await boss.request("DELETE", f"/v1/billing/plans/{plan_id}")).status_code == 200
    failed = await boss.request("PUT", "/v1/billing/plans/x", json={"name": ""})
    data = await gql_data(boss, """mutation { billingPlanSave(input: {id: "x", name: ""}) {
        errors { code message field } } }""")  # fmt: skip
    same_error(failed, data["billingPlanSave"]["errors"])


async def plan_delete(api: Api) -> None:
    boss = admin(api)
    assert gin(await boss.request("DELETE", "/v1/billing/plans/basic")) is None
    data = await gql_data(boss, """mutation { billingPlanDelete(input: {id: "basic"}) {
        plan { id isActive } errors { code } } }""")  # fmt: skip
    assert data["billingPlanDelete"]["plan"] == {"id": "basic", "isActive": False}
    gin(await boss.request("PUT", "/v1/billing/plans/basic", json=BASIC_PLAN))  # offer it again
    failed = await boss.request("DELETE", "/v1/billing/plans/free")
    data = await gql_data(boss, """mutation { billingPlanDelete(input: {id: "free"}) {
        errors { code message field } } }""")  # fmt: skip
    same_error(failed, data["billingPlanDelete"]["errors"])


async def currency_update(api: Api) -> None:
    boss = admin(api)
    body = {"defaultCurrency": "CNY", "rates": [{"code": "LDC", "rate": "7.2"}]}
    rest = gin(await boss.request("PUT", "/v1/admin/settings/currency", json=body))
    data = await gql_data(boss, """mutation { adminCurrencySettingsUpdate(input:
        {defaultCurrency: "CNY", rates: [{code: "LDC", rate: "7.2"}]}) { settings {
        defaultCurrency rates { code rate } updatedAt } errors { code } } }""")  # fmt: skip
    settings = data["adminCurrencySettingsUpdate"]["settings"]
    assert rest["config"]["rates"] == settings["rates"] == [{"code": "LDC", "rate": "7.2"}]
    bad = {"defaultCurrency": "CNY", "rates": [{"code": "CNY", "rate": "1"}]}
    failed = await boss.request("PUT", "/v1/admin/settings/currency", json=bad)
    data = await gql_data(boss, """mutation { adminCurrencySettingsUpdate(input:
        {defaultCurrency: "CNY", rates: [{code: "CNY", rate: "1"}]}) {
        errors { code message field } } }""")  # fmt: skip
    same_error(failed, data["adminCurrencySettingsUpdate"]["errors"])


async def a_user_with_keys(api: Api) -> tuple[Api, Values]:
    browser, _ = await signed_in(api, "keyed@example.com")
    await new_key(browser, scopes=["quota:read"])
    made, _ = await new_key(browser)
    assert (await browser.delete(f"/v1/auth/api-keys/{made}")).status_code == 200
    user_id = (await browser.get("/v1/auth/me")).json()["id"]
    return admin(api), {"id": user_id}


def same_admin_keys(rest: dict[str, Any], gql: list[dict[str, Any]]) -> None:
    assert rest["total"] == len(gql) == 2
    for r, g in zip(rest["items"], gql, strict=True):
        assert (r["id"], r["prefix"], r["name"]) == (raw_id(g["id"]), g["prefix"], g["name"])
        assert r["status"] == g["status"].lower()
        assert r["planId"] == "free"
    assert [r["status"] for r in rest["items"]] == ["revoked", "active"]


BILLING_READS: dict[tuple[str, str], Read] = {
    ("GET", "/v1/admin/users/{id}/keys"): Read(
        "/v1/admin/users/{id}/keys",
        "query($id: ID!) { adminUserApiKeys(userId: $id) { id prefix name status } }",
        same_admin_keys, a_user_with_keys, someone_else("keysnoop@example.com")),
    ("GET", "/v1/billing/plans"): Read(
        "/v1/billing/plans", f"{{ billingPlans {{ {PLAN_FIELDS} }} }}", same_plans,
        signed_in_as("bp@example.com"), anonymous),
    ("GET", "/v1/billing/me/plan"): Read(
        "/v1/billing/me/plan", """{ billingMyPlan { userId plan { id name dailyLimit } } }""",
        same_my_plan, signed_in_as("mp@example.com"), anonymous),
    ("GET", "/v1/billing/orders"): Read(
        "/v1/billing/orders", f"{{ orders {{ totalCount nodes {{ {ORDER_FIELDS} }} }} }}",
        same_orders, a_buyer_with_orders(2), anonymous),
    ("GET", "/v1/billing/orders/{id}"): Read(
        "/v1/billing/orders/{id}", f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}",
        same_order, a_buyer_with_orders(1), someone_else("snoop@example.com")),
    ("GET", "/v1/billing/balance"): Read(
        "/v1/billing/balance", f"{{ balance {{ {WALLET_FIELDS} }} }}", same_wallet,
        a_funded_wallet, anonymous),
    ("GET", "/v1/billing/balance/transactions"): Read(
        "/v1/billing/balance/transactions", f"{{ ledger {{ {LEDGER_FIELDS} }} }}", same_ledger,
        a_funded_wallet, anonymous),
    ("GET", "/v1/admin/users/{id}/balance"): Read(
        "/v1/admin/users/{id}/balance",
        f"query($id: ID!) {{ adminUserBalance(userId: $id) {{ {WALLET_FIELDS} }} }}",
        same_wallet, an_admin_on_a_funded_wallet, someone_else("nosy@example.com")),
    ("GET", "/v1/admin/users/{id}/balance/transactions"): Read(
        "/v1/admin/users/{id}/balance/transactions",
        f"query($id: ID!) {{ adminUserLedger(userId: $id) {{ {LEDGER_FIELDS} }} }}",
        same_ledger, an_admin_on_a_funded_wallet, an_unknown_user),
    ("GET", "/v1/admin/settings/currency"): Read(
        "/v1/admin/settings/currency",
        "{ adminCurrencySettings { defaultCurrency rates { code rate } updatedAt } }",
        same_currency, set_currency, someone_else("cur@example.com")),
}  # fmt: skip

BILLING_FLOWS: dict[tuple[str, str], Flow] = {
    ("PUT", "/v1/billing/plans/{id}"): plan_save,
    ("DELETE", "/v1/billing/plans/{id}"): plan_delete,
    ("POST", "/v1/billing/orders"): order_create,
    ("GET", "/v1/billing/callback/{provider}"): callback_get,
    ("POST", "/v1/billing/callback/{provider}"): callback_post,
    ("GET", "/v1/billing/mock/pay/{id}"): mock_pay_page,
    ("POST", "/v1/billing/balance/topup"): topup_create,
    ("POST", "/v1/billing/balance/adjust"): balance_adjust,
    ("POST", "/v1/admin/users/{id}/balance"): admin_balance_update,
    ("PUT", "/v1/admin/settings/currency"): currency_update,
}
SUBSCRIPTION_FIELDS = """id planId period status source currentPeriodStart currentPeriodEnd
    cancelAtPeriodEnd autoRenew graceUntil"""


def same_subscription(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["id"] == raw_id(gql["id"])
    assert (rest["planId"], rest["period"], rest["cancelAtPeriodEnd"], rest["autoRenew"]) == (
        gql["planId"], gql["period"], gql["cancelAtPeriodEnd"], gql["autoRenew"],
    )  # fmt: skip
    assert (rest["status"], rest["source"]) == (gql["status"].lower(), gql["source"].lower())
    for field in ("currentPeriodStart", "currentPeriodEnd", "graceUntil"):
        assert instant(rest[field]) == instant(gql[field]), field


async def a_subscriber(api: Api, email: str = "sub@example.com") -> tuple[Api, Values]:
    browser, _ = await signed_in(api, email)
    body = {"planId": "pro", "paymentProvider": "mock"}
    order = gin(await browser.post("/v1/billing/orders", body))
    paid = await browser.http.post(
        "/v1/billing/callback/mock", data={"order_id": order["orderId"], "amount": "29.00"}
    )
    assert paid.text == "ok"
    return browser, {}


async def subscription_cancel(api: Api) -> None:
    browser, _ = await a_subscriber(api, "cancel1@example.com")
    rest = (await browser.post("/v1/billing/subscription/cancel")).json()
    data = await gql_data(browser, f"""mutation {{ subscriptionCancel {{ subscription {{
        {SUBSCRIPTION_FIELDS} }} errors {{ code }} }} }}""")  # fmt: skip
    same_subscription(rest, data["subscriptionCancel"]["subscription"])
    assert rest["cancelAtPeriodEnd"] is True
    nobody, _ = await signed_in(api, "cancel2@example.com")
    failed = await nobody.post("/v1/billing/subscription/cancel")
    data = await gql_data(nobody, """mutation { subscriptionCancel {
        errors { code message field } } }""")  # fmt: skip
    same_error(failed, data["subscriptionCancel"]["errors"])


async def subscription_auto_renew(api: Api) -> None:
    browser, _ = await a_subscriber(api, "renew1@example.com")
    rest = gin(await browser.patch("/v1/billing/subscription", {"autoRenew": False}))
    data = await gql_data(browser, f"""mutation {{ subscriptionAutoRenewSet(input:
        {{autoRenew: false}}) {{ subscription {{ {SUBSCRIPTION_FIELDS} }} errors {{ code }} }}
        }}""")  # fmt: skip
    same_subscription(rest, data["subscriptionAutoRenewSet"]["subscription"])
    assert rest["autoRenew"] is False
    nobody, _ = await signed_in(api, "renew2@example.com")
    failed = await nobody.patch("/v1/billing/subscription", {"autoRenew": True})
    data = await gql_data(nobody, """mutation { subscriptionAutoRenewSet(input:
        {autoRenew: true}) { errors { code message field } } }""")  # fmt: skip
    same_error(failed, data["subscriptionAutoRenewSet"]["errors"])


async def subscribe(api: Api) -> None:
    browser, _ = await signed_in(api, "subscribe@example.com")
    body = {"planCode": "pro", "paymentProvider": "mock"}
    rest = (await browser.post("/v1/billing/subscribe", body)).json()
    order = gin(await browser.get(f"/v1/billing/orders/{rest['orderId']}"))
    data = await gql_data(browser, f"""query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }}
        }}""", {"id": rest["orderId"]})  # fmt: skip
    same_order(order, data["order"])
    assert rest["redirectUrl"] == data["order"]["payUrl"]
    assert order["userId"] == (await browser.get("/v1/auth/me")).json()["id"]  # not anonymous
    failed = await browser.post("/v1/billing/subscribe", {**body, "planCode": "nope"})
    data = await gql_data(browser, """mutation { orderCreate(input: {planId: "nope",
        paymentProvider: MOCK}) { errors { code message field } } }""")  # fmt: skip
    same_error(failed, data["orderCreate"]["errors"])


async def admin_plan_grant(api: Api) -> None:
    user_id = await registered(api, "granted@example.com")
    boss = admin(api)
    rest = gin(await boss.post(f"/v1/admin/users/{user_id}/plan", {"planId": "enterprise"}))
    data = await gql_data(boss, """mutation($u: ID!) { adminUserPlanGrant(input: {userId: $u,
        planId: "pro"}) { grant { planId updatedKeys totalKeys } errors { code } } }""",
        {"u": user_id})  # fmt: skip
    assert rest == {"planId": "enterprise", "updatedKeys": 0, "totalKeys": 0}
    assert data["adminUserPlanGrant"]["grant"] == {"planId": "pro", "updatedKeys": 0,
                                                   "totalKeys": 0}  # fmt: skip
    failed = await boss.post(f"/v1/admin/users/{user_id}/plan", {"planId": "nope"})
    data = await gql_data(boss, """mutation($u: ID!) { adminUserPlanGrant(input: {userId: $u,
        planId: "nope"}) { errors { code message field } } }""", {"u": user_id})  # fmt: skip
    same_error(failed, data["adminUserPlanGrant"]["errors"])


async def a_subscribed_browser(api: Api) -> tuple[Api, Values]:
    return await a_subscriber(api)


BILLING_READS[("GET", "/v1/billing/subscription")] = Read(
    "/v1/billing/subscription",
    f"{{ subscription {{ {SUBSCRIPTION_FIELDS} }} }}",
    same_subscription,
    a_subscribed_browser,
    anonymous,
)
BILLING_FLOWS.update({
    ("PATCH", "/v1/billing/subscription"): subscription_auto_renew,
    ("POST", "/v1/billing/subscription/cancel"): subscription_cancel,
    ("POST", "/v1/billing/subscribe"): subscribe,
    ("POST", "/v1/admin/users/{id}/plan"): admin_plan_grant,
})  # fmt: skip

INVOICE_FIELDS = """id number orderId buyerEmail total { amountMinor currency formatted }
    lines { description quantity amount { formatted } } issuedAt paidAt paymentProvider
    htmlUrl"""


def same_invoices(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["total"] == gql["totalCount"] == 1
    [r], [g] = rest["items"], gql["nodes"]
    assert (r["id"], r["number"], r["orderId"], r["buyerEmail"], r["htmlUrl"]) == (
        raw_id(g["id"]), g["number"], g["orderId"], g["buyerEmail"], g["htmlUrl"],
    )  # fmt: skip
    assert (r["total"], r["totalMinor"]) == (g["total"]["formatted"], g["total"]["amountMinor"])
    assert [(x["description"], x["amount"]) for x in r["lines"]] == [
        (x["description"], x["amount"]["formatted"]) for x in g["lines"]
    ]
    assert instant(r["issuedAt"]) == instant(g["issuedAt"])


async def a_paying_customer(api: Api) -> tuple[Api, Values]:
    return await a_subscriber(api, "invoices@example.com")


async def invoice_page(api: Api) -> None:
    """No twin (a printable page): it shows what GraphQL's ``invoice`` shows."""
    browser, _ = await a_subscriber(api, "page@example.com")
    [node] = (await gql_data(browser, f"{{ invoices {{ nodes {{ {INVOICE_FIELDS} }} }} }}"))[
        "invoices"]["nodes"]  # fmt: skip
    page = await browser.get(node["htmlUrl"])
    assert page.status_code == 200
    assert node["number"] in page.text and f"{node['total']['formatted']} CNY" in page.text
    missing = await browser.get("/v1/billing/invoices/" + "0" * 32 + "/html")
    result = await browser.gql("query($id: ID!) { invoice(id: $id) { id } }", {"id": "0" * 32})
    same_error(missing, result["errors"])


async def order_refund(api: Api) -> None:
    boss = admin(api)
    orders = []
    for email in ("refund1@example.com", "refund2@example.com"):
        browser, _ = await a_subscriber(api, email)
        orders.append(gin(await browser.get("/v1/billing/orders"))["items"][0]["id"])
    rest = gin(await boss.post(f"/v1/billing/orders/{orders[0]}/refund", {"reason": "r"}))
    data = await gql_data(boss, """mutation($o: ID!) { orderRefund(input: {orderId: $o,
        reason: "r"}) { result { order { status } refund { refundType amount { formatted } } }
        errors { code } } }""", {"o": orders[1]})  # fmt: skip
    result = data["orderRefund"]["result"]
    assert (rest["orderStatus"], rest["refundType"], rest["refundAmount"]) == (
        result["order"]["status"].lower(), result["refund"]["refundType"],
        result["refund"]["amount"]["formatted"],
    )  # fmt: skip
    failed = await boss.post(f"/v1/billing/orders/{orders[0]}/refund", {"reason": "again"})
    data = await gql_data(boss, """mutation($o: ID!) { orderRefund(input: {orderId: $o,
        reason: "again"}) { errors { code message field } } }""", {"o": orders[1]})  # fmt: skip
    same_error(failed, data["orderRefund"]["errors"])


BILLING_READS[("GET", "/v1/billing/invoices")] = Read(
    "/v1/billing/invoices",
    f"{{ invoices {{ totalCount nodes {{ {INVOICE_FIELDS} }} }} }}",
    same_invoices,
    a_paying_customer,
    anonymous,
)
BILLING_FLOWS.update({
    ("GET", "/v1/billing/invoices/{id}/html"): invoice_page,
    ("POST", "/v1/billing/orders/{id}/refund"): order_refund,
})  # fmt: skip


def same_extra_usage(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["userId"] == raw_id(gql["userId"])
    assert (rest["enabled"], rest["monthlyCapCents"], rest["notifyThresholdPct"]) == (
        gql["enabled"], gql["monthlyCap"]["amountMinor"], gql["notifyThresholdPct"],
    )  # fmt: skip


def same_report(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert (rest["yearMonth"], rest["planId"], rest["planName"], rest["enabled"]) == (
        gql["yearMonth"], gql["planId"], gql["planName"], gql["enabled"],
    )  # fmt: skip
    assert (rest["overagePricePer_1k"], rest["baseMonthlyLimit"], rest["overageCents"]) == (
        gql["overagePricePer1k"]["amountMinor"], gql["baseMonthlyLimit"],
        gql["overage"]["amountMinor"],
    )  # fmt: skip
    assert (rest["nearLimit"], rest["usedCapPct"], rest["balanceCents"]) == (
        gql["nearLimit"], gql["usedCapPct"], gql["balance"]["amountMinor"],
    )  # fmt: skip


def same_empty_list(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest == {"items": [], "total": 0}
    assert gql == {"nodes": [], "totalCount": 0}


async def extra_usage_update(api: Api) -> None:
    browser, _ = await signed_in(api, "xu@example.com")
    rest = gin(await browser.request("PUT", "/v1/billing/extra-usage",
                                     json={"enabled": True, "monthlyCapCents": 500}))  # fmt: skip
    data = await gql_data(browser, """mutation { extraUsageUpdate(input: {notifyThresholdPct:
        60}) { settings { userId enabled monthlyCap { amountMinor } notifyThresholdPct }
        errors { code } } }""")  # fmt: skip
    got = data["extraUsageUpdate"]["settings"]
    same_extra_usage({**rest, "notifyThresholdPct": 60}, got)
    failed = await browser.request("PUT", "/v1/billing/extra-usage",
                                   json={"notifyThresholdPct": 101})  # fmt: skip
    data = await gql_data(browser, """mutation { extraUsageUpdate(input: {notifyThresholdPct:
        101}) { errors { code message field } } }""")  # fmt: skip
    same_error(failed, data["extraUsageUpdate"]["errors"])


BILLING_READS.update({
    ("GET", "/v1/billing/extra-usage"): Read(
        "/v1/billing/extra-usage", """{ extraUsage { userId enabled monthlyCap { amountMinor }
        notifyThresholdPct } }""", same_extra_usage, signed_in_as("xg@example.com"),
        anonymous),
    ("GET", "/v1/billing/extra-usage/report"): Read(
        "/v1/billing/extra-usage/report?month=2026-01", """{ extraUsageReport(month: "2026-01")
        { yearMonth planId planName enabled overagePricePer1k { amountMinor }
        baseMonthlyLimit overage { amountMinor } nearLimit usedCapPct balance { amountMinor }
        } }""", same_report, signed_in_as("xr@example.com"), anonymous),
    ("GET", "/v1/billing/extra-usage/charges"): Read(
        "/v1/billing/extra-usage/charges", """{ extraUsageCharges { nodes { yearMonth }
        totalCount } }""", same_empty_list, signed_in_as("xc@example.com"), anonymous),
    ("GET", "/v1/billing/extra-usage/events"): Read(
        "/v1/billing/extra-usage/events", """{ extraUsageEvents { nodes { id } totalCount }
        }""", same_empty_list, signed_in_as("xe@example.com"), anonymous),
})  # fmt: skip
BILLING_FLOWS[("PUT", "/v1/billing/extra-usage")] = extra_usage_update

READS.update(BILLING_READS)
FLOWS.update(BILLING_FLOWS)

# == end of billing ======================================================================

# -- music (issue 13): the local catalog's routes against their twins -------------------

_CATALOG: dict[str, Path] = {}


async def with_catalog(api: Api) -> tuple[Api, dict[str, str]]:
    """The demo catalog imported into the running app's database; a signed-in browser
    and the raw ids of one song, its album, artist, the playlist and the chart."""
    app = api.http._transport.app  # type: ignore[attr-defined]
    if "dir" not in _CATALOG:
        _CATALOG["dir"] = Path(tempfile.mkdtemp(prefix="karpov-parity-"))
        write_demo(_CATALOG["dir"])
    store = app.state.container.adapters.catalog
    await CatalogImporter(store, MutagenScanner(), SystemClock()).import_directory(_CATALOG["dir"])
    browser, _ = await signed_in(api, f"music{len(_CATALOG)}@example.com")
    _CATALOG[f"user{len(_CATALOG)}"] = _CATALOG["dir"]
    found = (await browser.get("/v1/local/search/songs?q=paper")).json()["data"]["items"][0]
    lists = await gql_data(browser, """{ search(provider: LOCAL, query: "demo",
        type: PLAYLIST) { nodes { ... on Playlist { id } } } }""")  # fmt: skip
    playlist = lists["search"]["nodes"][0]["id"].split(":")[2]
    return browser, {"song": found["id"], "album": found["album"]["id"],
                     "artist": found["artists"][0]["id"], "playlist": playlist,
                     "chart": "recent"}  # fmt: skip


def music_flow(path: str, query: str, same: Callable[[Any, Any], None], missing: str) -> Flow:
    """A music route against its twin: equal answers; an unknown ``missing`` id (the
    kind's key in the ids) is the same 404 on both; without a caller, the same 401."""

    async def flow(api: Api) -> None:
        browser, ids = await with_catalog(api)
        rest = await browser.get(path.format(**ids))
        assert rest.status_code == 200, rest.text
        [gql] = (await gql_data(browser, query, {"id": f"local:{missing}:{ids[missing]}"}
                                if "$id" in query else {})).values()  # fmt: skip
        same(rest.json()["data"], gql)
        if "{" + missing + "}" in path:
            # Another user (the plan's 5 metered calls a second are per user).
            other, _ = await signed_in(api, f"other-{missing}-{len(_CATALOG)}@example.com")
            _CATALOG[f"other{len(_CATALOG)}"] = _CATALOG["dir"]
            gone = {**ids, missing: "0" * 32}
            result = await other.gql(query, {"id": f"local:{missing}:{'0' * 32}"})
            same_error(await other.get(path.format(**gone)), result["errors"])
        anonymous_caller = api.fresh()
        result = await anonymous_caller.gql(query, {"id": f"local:{missing}:{ids[missing]}"})
        same_error(await anonymous_caller.get(path.format(**ids)), result["errors"])

    return flow


def same_song(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert gql["id"] == f"local:song:{rest['id']}"
    assert (rest["title"], rest["durationMs"]) == (gql["title"], gql["durationMs"])
    assert rest["artist"] == " / ".join(a["name"] for a in gql["artists"])
    assert rest["album"]["title"] == gql["album"]["title"]


def same_url(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["audio"]["quality"] == gql["audio"]["quality"] == "FLAC"
    assert rest["audio"]["format"] == gql["audio"]["format"]
    assert (
        rest["audio"]["url"].split("/v1/local/stream/")[0]
        == (gql["audio"]["url"].split("/v1/local/stream/")[0])
    )


def same_lyrics(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["lyric"]["lrc"] == gql["lrc"] and "line 1" in gql["lrc"]


def same_search(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["total"] == gql["totalCount"]
    assert [s["title"] for s in rest["items"]] == [s["title"] for s in gql["nodes"]]


def same_album(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["title"] == gql["title"] and rest["songCount"] == gql["songCount"]
    assert [s["title"] for s in rest["songs"]] == [s["title"] for s in gql["songs"]["nodes"]]


def same_artist(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["name"] == gql["name"]
    assert rest["songs"]["total"] == gql["songs"]["totalCount"]


def same_playlist(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert (rest["title"], rest["songCount"]) == (gql["title"], gql["songCount"])
    assert [s["title"] for s in rest["songs"]] == [s["title"] for s in gql["songs"]["nodes"]]


def same_charts(rest: dict[str, Any], gql: list[dict[str, Any]]) -> None:
    assert [f"local:chart:{c['id']}" for c in rest["items"]] == [c["id"] for c in gql]


def same_chart(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["title"] == gql["title"] and rest["total"] == gql["songs"]["totalCount"]
    assert [s["title"] for s in rest["items"]] == [s["title"] for s in gql["songs"]["nodes"]]


_SONG = "id title durationMs artists { name } album { title }"


async def local_stream(api: Api) -> None:
    """No twin (a file): a play URL's link streams, with Range; a forged one is refused."""
    browser, ids = await with_catalog(api)
    url = (await browser.get(f"/v1/local/songs/{ids['song']}/url?quality=FLAC")).json()
    path = urlsplit(url["data"]["audio"]["url"]).path
    part = await api.fresh().get(path, headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == b"RIFF"
    forged = await api.fresh().get(path[:-4] + "AAAA")
    assert forged.status_code == 403 and forged.json()["code"] == 40300


async def local_cover(api: Api) -> None:
    """No twin (a file): a song's cover image, by the URL its answers carry."""
    browser, ids = await with_catalog(api)
    song = (await browser.get(f"/v1/local/songs/{ids['song']}")).json()["data"]
    cover = await api.fresh().get(urlsplit(song["album"]["cover"]).path)
    assert cover.status_code == 200 and cover.headers["content-type"] == "image/png"
    assert (await api.fresh().get("/v1/local/covers/" + "0" * 32)).status_code == 404


MUSIC_FLOWS: dict[tuple[str, str], Flow] = {
    ("GET", "/v1/{provider}/songs/{id}"): music_flow(
        "/v1/local/songs/{song}", f"query($id: ID!) {{ song(id: $id) {{ {_SONG} }} }}",
        same_song, "song"),
    ("GET", "/v1/{provider}/songs/{id}/url"): music_flow(
        "/v1/local/songs/{song}/url?quality=FLAC", """query($id: ID!) { songUrl(id: $id,
        quality: FLAC) { audio { url quality format } } }""", same_url, "song"),
    ("GET", "/v1/{provider}/songs/{id}/lyric"): music_flow(
        "/v1/local/songs/{song}/lyric", "query($id: ID!) { songLyrics(id: $id) { lrc } }",
        same_lyrics, "song"),
    ("GET", "/v1/{provider}/search/songs"): music_flow(
        "/v1/local/search/songs?q=aurora&page=1&page_size=2", """{ search(provider: LOCAL,
        query: "aurora", first: 2) { totalCount nodes { ... on Song { title } } } }""",
        same_search, "song"),
    ("GET", "/v1/{provider}/albums/{id}"): music_flow(
        "/v1/local/albums/{album}", """query($id: ID!) { album(id: $id) { title songCount
        songs { nodes { title } } } }""", same_album, "album"),
    ("GET", "/v1/{provider}/artists/{id}"): music_flow(
        "/v1/local/artists/{artist}", """query($id: ID!) { artist(id: $id) { name
        songs { totalCount } } }""", same_artist, "artist"),
    ("GET", "/v1/{provider}/playlists/{id}"): music_flow(
        "/v1/local/playlists/{playlist}?page=1&page_size=20", """query($id: ID!) {
        playlist(id: $id) { title songCount songs { nodes { title } } } }""",
        same_playlist, "playlist"),
    ("GET", "/v1/{provider}/charts"): music_flow(
        "/v1/local/charts", '{ charts(provider: LOCAL) { id } }', same_charts, "chart"),
    ("GET", "/v1/{provider}/charts/{id}"): music_flow(
        "/v1/local/charts/{chart}", """query($id: ID!) { chart(id: $id) { title
        songs { totalCount nodes { title } } } }""", same_chart, "chart"),
    ("GET", "/v1/local/stream/{token}"): local_stream,
    ("GET", "/v1/local/covers/{id}"): local_cover,
}  # fmt: skip

# -- end of music -------------------------------------------------------------------------


# -- upstreams (issue 15): admin QR logins against their twins ----------------------------

QR_START_GQL = """mutation($i: QrLoginStartInput!) { adminQrLoginStart(input: $i) {
    sessionId image expiresInSec platform errors { code field message } } }"""
QR_POLL_GQL = """mutation($i: QrLoginPollInput!) { adminQrLoginPoll(input: $i) {
    event error credential { provider label status } errors { code field message } } }"""


async def qr_login_start(api: Api) -> None:
    rest = await api.post("/v1/admin/login/qr/start", {"platform": "qq"}, headers=ADMIN)
    assert rest.status_code == 200, rest.text
    data = await gql_data(api, QR_START_GQL, {"i": {"platform": "qq"}}, headers=ADMIN)
    gql = data["adminQrLoginStart"]
    assert (rest.json()["platform"], rest.json()["expires_in_sec"]) == (
        gql["platform"], gql["expiresInSec"])  # fmt: skip
    assert rest.json()["image"][:22] == gql["image"][:22] == "data:image/png;base64,"
    assert len(rest.json()["session_id"]) == len(gql["sessionId"]) == 64
    for body, headers in [({"platform": "mobile"}, ADMIN), ({"platform": "qq"}, {})]:
        data = await gql_data(api.fresh(), QR_START_GQL, {"i": body}, headers=headers)
        same_error(await api.fresh().post("/v1/admin/login/qr/start", body, headers=headers),
                   data["adminQrLoginStart"]["errors"])  # fmt: skip


async def qr_login_poll(api: Api) -> None:
    async def started() -> str:
        answer = await api.post("/v1/admin/login/qr/start", {"platform": "qq"}, headers=ADMIN)
        return str(answer.json()["session_id"])

    rest_session, gql_session = await started(), await started()
    rest_events: list[dict[str, Any]] = []
    gql_events: list[dict[str, Any]] = []
    for _ in range(3):
        answer = await api.get(f"/v1/admin/login/qr/{rest_session}?label=p", headers=ADMIN)
        rest_events.append(answer.json())
        data = await gql_data(api, QR_POLL_GQL, {"i": {"sessionId": gql_session, "label": "p"}},
                              headers=ADMIN)  # fmt: skip
        gql_events.append(data["adminQrLoginPoll"])
    assert [e["event"] for e in rest_events] == [e["event"] for e in gql_events]
    assert rest_events[-1]["event"] == "done"
    rest_credential, gql_credential = rest_events[-1]["credential"], gql_events[-1]["credential"]
    assert (rest_credential["provider"], rest_credential["label"]) == ("qqmusic", "p")
    assert (gql_credential["provider"], gql_credential["label"]) == ("QQMUSIC", "p")
    data = await gql_data(api, QR_POLL_GQL, {"i": {"sessionId": gql_session}}, headers=ADMIN)
    same_error(await api.get(f"/v1/admin/login/qr/{rest_session}", headers=ADMIN),
               data["adminQrLoginPoll"]["errors"])  # fmt: skip


NETEASE_LOGIN_GQL = """mutation($i: NeteaseLoginInput!) { adminNeteaseLogin(input: $i) {
    answer errors { code field message } } }"""


def netease_login_flow(path: str, operation: str, body: dict[str, Any]) -> Flow:
    """A NetEase login route against ``adminNeteaseLogin``: the same answer (its code and
    fields) on both edges, each from the same upstream state (its own QR key, cookie or
    phone number); a signed-in non-admin gets the same refusal from both."""
    route = "/v1/netease/auth" + path
    get = path.endswith("/status")

    async def inputs(api: Api, edge: int) -> tuple[dict[str, Any], dict[str, str]]:
        fields = {k: v for k, v in body.items() if k not in ("cookie", "key")}
        headers = {**ADMIN}
        if body.get("cookie"):
            headers["X-Netease-Cookie"] = fields["cookie"] = NETEASE.issue_cookie("vip-listener")
        if "key" in body:
            key = (await api.post("/v1/netease/auth/login/qr/key", {}, headers=ADMIN)).json()
            fields["key"] = key["data"]["key"]
        if operation == "CAPTCHA_SENT":
            fields["phone"] = f"{fields['phone']}{edge}{len(NETEASE.calls)}"
        return fields, headers

    async def flow(api: Api) -> None:
        fields, headers = await inputs(api, 0)
        rest_fields = {k: v for k, v in fields.items() if k != "cookie"}
        rest = await (api.get(route, headers=headers) if get
                      else api.post(route, rest_fields, headers=headers))  # fmt: skip
        assert rest.status_code == 200, rest.text
        fields, _ = await inputs(api, 1)
        variables = {"operation": operation, **fields}
        data = await gql_data(api, NETEASE_LOGIN_GQL, {"i": variables}, headers=ADMIN)
        answer = data["adminNeteaseLogin"]["answer"]
        assert rest.json()["data"].get("code") == answer.get("code")
        assert set(rest.json()["data"]) == set(answer)
        user, _ = await signed_in(api, f"netease-{operation.lower()}@example.com")
        data = await gql_data(user, NETEASE_LOGIN_GQL, {"i": variables})
        refused = await (user.get(route) if get else user.post(route, rest_fields))
        same_error(refused, data["adminNeteaseLogin"]["errors"])

    return flow


_NETEASE_LOGINS: list[tuple[str, str, dict[str, Any]]] = [
    ("/login/cellphone", "LOGIN_CELLPHONE", {"phone": "13900000000", "password": "correct horse"}),
    ("/login/email", "LOGIN_EMAIL", {"email": "free@163.com", "password": "correct horse"}),
    ("/login/qr/key", "QR_KEY", {}),
    ("/login/qr/create", "QR_CREATE", {"key": True}),
    ("/login/qr/check", "QR_CHECK", {"key": True}),
    ("/login/refresh", "REFRESH", {"cookie": True}),
    ("/login/status", "STATUS", {"cookie": True}),
    ("/register/anonymous", "REGISTER_ANONYMOUS", {}),
    ("/captcha/sent", "CAPTCHA_SENT", {"phone": "13700000000"}),
    ("/captcha/verify", "CAPTCHA_VERIFY", {"phone": "13700000001", "captcha": "0000"}),
]  # fmt: skip

UPSTREAM_FLOWS: dict[tuple[str, str], Flow] = {
    ("POST", "/v1/admin/login/qr/start"): qr_login_start,
    ("GET", "/v1/admin/login/qr/{session}"): qr_login_poll,
    **{
        ("GET" if path.endswith("/status") else "POST", "/v1/netease/auth" + path):
        netease_login_flow(path, operation, body)
        for path, operation, body in _NETEASE_LOGINS
    },
}  # fmt: skip

# -- end of upstreams ---------------------------------------------------------------------


# -- payments (issue 16) ----------------------------------------------------------------

CALLBACK_FIELDS = (
    "id provider signatureOk processed result error orderId late amount { amountMinor }"
)


def same_callbacks(rest: list[dict[str, Any]], gql: dict[str, Any]) -> None:
    nodes = gql["nodes"]
    assert [r["id"] for r in rest] == [raw_id(n["id"]) for n in nodes]
    for r, n in zip(rest, nodes, strict=True):
        assert (r["provider"], r["signatureOk"], r["processed"], r["error"], r["late"]) == (
            n["provider"].lower(), n["signatureOk"], n["processed"], n["error"], n["late"],
        )  # fmt: skip
        assert r["result"] == n["result"].lower()
        assert r["orderId"] == (raw_id(n["orderId"]) if n["orderId"] else None)
        assert r["amountMinor"] == (n["amount"]["amountMinor"] if n["amount"] else None)


async def a_paid_mock_order(api: Api, email: str) -> tuple[Api, str]:
    browser, _ = await signed_in(api, email)
    order = gin(await browser.post("/v1/billing/orders",
                                   {"planId": "pro", "paymentProvider": "mock"}))  # fmt: skip
    fields = {"order_id": order["orderId"], "amount": "29.00"}
    assert (await browser.http.post("/v1/billing/callback/mock", data=fields)).text == "ok"
    assert (await browser.http.get("/v1/billing/callback/mock", params=fields)).text == "ok"
    return browser, order["orderId"]


async def callbacks_list(api: Api) -> None:
    browser, _ = await a_paid_mock_order(api, "cbs@example.com")
    boss = admin(api)
    rest = gin(await boss.get("/v1/admin/billing/callbacks?provider=mock"))
    data = await gql_data(boss, f"""{{ paymentCallbacks(provider: MOCK) {{ totalCount
        nodes {{ {CALLBACK_FIELDS} }} }} }}""")  # fmt: skip
    assert rest["total"] == data["paymentCallbacks"]["totalCount"] >= 2
    same_callbacks(rest["items"], data["paymentCallbacks"])
    failed = await browser.get("/v1/admin/billing/callbacks")
    errors = (await browser.gql("{ paymentCallbacks { totalCount } }"))["errors"]
    same_error(failed, errors)


async def order_callbacks(api: Api) -> None:
    browser, order_id = await a_paid_mock_order(api, "ocbs@example.com")
    boss = admin(api)
    rest = gin(await boss.get(f"/v1/admin/billing/orders/{order_id}/callbacks"))
    data = await gql_data(boss, f"""query($id: ID!) {{ paymentCallbacks(orderId: $id) {{
        totalCount nodes {{ {CALLBACK_FIELDS} }} }} }}""", {"id": order_id})  # fmt: skip
    assert [r["result"] for r in rest["items"]] == ["duplicate", "fulfilled"]
    same_callbacks(rest["items"], data["paymentCallbacks"])
    failed = await browser.get(f"/v1/admin/billing/orders/{order_id}/callbacks")
    errors = (await browser.gql("{ paymentCallbacks { totalCount } }"))["errors"]
    same_error(failed, errors)


async def order_reconcile(api: Api) -> None:
    _, order_id = await a_paid_mock_order(api, "recon@example.com")
    boss = admin(api)
    rest = gin(await boss.post(f"/v1/admin/billing/orders/{order_id}/reconcile"))
    data = await gql_data(boss, """mutation($id: ID!) { orderReconcile(input: {orderId: $id})
        { order { id status } errors { code } } }""", {"id": order_id})  # fmt: skip
    order = data["orderReconcile"]["order"]
    assert rest["id"] == raw_id(order["id"]) and rest["status"] == order["status"].lower()
    assert rest["status"] == "completed"
    missing = "0" * 32
    failed = await boss.post(f"/v1/admin/billing/orders/{missing}/reconcile")
    data = await gql_data(boss, """mutation($id: ID!) { orderReconcile(input: {orderId: $id})
        { errors { code message field } } }""", {"id": missing})  # fmt: skip
    same_error(failed, data["orderReconcile"]["errors"])


YIPAY_CHANNEL = {"provider": "yipay", "enabled": True, "yipayBaseUrl": "https://pay.example.com",
                 "yipayMerchantId": "1001", "yipayKey": "yipay-key-abcdefgh"}  # fmt: skip
CHANNEL_SETTINGS_FIELDS = "provider enabled callbackNetworks fields { name value }"


def same_channel_settings(rest: dict[str, Any], gql: list[dict[str, Any]]) -> None:
    assert [c["provider"] for c in rest["channels"]] == [c["provider"].lower() for c in gql]
    for r, g in zip(rest["channels"], gql, strict=True):
        assert r["enabled"] == g["enabled"] and r["callbackNetworks"] == g["callbackNetworks"]
        assert {k: v for k, v in r.items() if k not in ("provider", "enabled",
                "callbackNetworks")} == {f["name"]: f["value"] for f in g["fields"]}  # fmt: skip


async def payment_settings_get(api: Api) -> None:
    boss = admin(api)
    gin(await boss.request("PUT", "/v1/admin/settings/payment",
                           json={"channels": [YIPAY_CHANNEL]}))  # fmt: skip
    rest = gin(await boss.get("/v1/admin/settings/payment"))
    data = await gql_data(boss, f"{{ adminPaymentSettings {{ {CHANNEL_SETTINGS_FIELDS} }} }}")
    same_channel_settings(rest, data["adminPaymentSettings"])
    assert rest["channels"][0]["yipayKey"] == "yi****gh"
    browser, _ = await signed_in(api, "paysettings@example.com")
    failed = await browser.get("/v1/admin/settings/payment")
    errors = (await browser.gql("{ adminPaymentSettings { provider } }"))["errors"]
    same_error(failed, errors)


async def payment_settings_put(api: Api) -> None:
    boss = admin(api)
    rest = gin(await boss.request("PUT", "/v1/admin/settings/payment",
                                  json={"channels": [YIPAY_CHANNEL]}))  # fmt: skip
    data = await gql_data(boss, f"""mutation {{ adminPaymentSettingsUpdate(input: {{channels: [
        {{provider: YIPAY, enabled: true, fields: [{{name: "yipayKey", value: "yi****gh"}}]}}
        ]}}) {{ channels {{ {CHANNEL_SETTINGS_FIELDS} }} errors {{ code }} }} }}""")  # fmt: skip
    same_channel_settings(rest, data["adminPaymentSettingsUpdate"]["channels"])
    bad = {"channels": [{**YIPAY_CHANNEL, "yipayBaseUrl": "ftp://x"}]}
    failed = await boss.request("PUT", "/v1/admin/settings/payment", json=bad)
    data = await gql_data(boss, """mutation { adminPaymentSettingsUpdate(input: {channels: [
        {provider: YIPAY, enabled: true, fields: [{name: "yipayBaseUrl", value: "ftp://x"}]}
        ]}) { errors { code message field } } }""")  # fmt: skip
    same_error(failed, data["adminPaymentSettingsUpdate"]["errors"])


async def payment_channels_list(api: Api) -> None:
    gin(await admin(api).request("PUT", "/v1/admin/settings/payment",
                                 json={"channels": [YIPAY_CHANNEL]}))  # fmt: skip
    browser, _ = await signed_in(api, "channels@example.com")
    rest = gin(await browser.get("/v1/billing/payment-channels"))
    data = await gql_data(browser, "{ paymentChannels { provider displayName description icon } }")
    assert rest["channels"] == [
        {**c, "provider": c["provider"].lower()} for c in data["paymentChannels"]
    ]
    assert [c["provider"] for c in rest["channels"]] == ["mock", "yipay"]
    failed = await api.fresh().get("/v1/billing/payment-channels")
    errors = (await api.fresh().gql("{ paymentChannels { provider } }"))["errors"]
    same_error(failed, errors)


PAYMENT_FLOWS: dict[tuple[str, str], Flow] = {
    ("GET", "/v1/admin/settings/payment"): payment_settings_get,
    ("PUT", "/v1/admin/settings/payment"): payment_settings_put,
    ("GET", "/v1/billing/payment-channels"): payment_channels_list,
    ("GET", "/v1/admin/billing/callbacks"): callbacks_list,
    ("GET", "/v1/admin/billing/orders/{id}/callbacks"): order_callbacks,
    ("POST", "/v1/admin/billing/orders/{id}/reconcile"): order_reconcile,
}

# -- end of payments ----------------------------------------------------------------------


PARITY: dict[tuple[str, str], Read | Flow] = {**READS, **FLOWS, **MUSIC_FLOWS, **UPSTREAM_FLOWS}
"""Every /v1 route, once: a declarative read, or a flow."""
PARITY.update(PAYMENT_FLOWS)  # payments (issue 16)


def test_every_route_has_a_parity_case() -> None:
    assert not set(READS) & set(FLOWS)
    assert not (set(READS) | set(FLOWS)) & set(MUSIC_FLOWS)
    assert not (set(READS) | set(FLOWS) | set(MUSIC_FLOWS)) & set(PAYMENT_FLOWS)  # payments
    assert set(PARITY) == {(r.method, r.path) for r in ROUTES}


@pytest.mark.parametrize("route", list(PARITY), ids=lambda r: f"{r[0]} {r[1]}")
async def test_route_matches_its_graphql_twin(api: Api, route: tuple[str, str]) -> None:
    case = PARITY[route]
    if isinstance(case, Read):
        await check_read(api, route, case)
    else:
        await case(api)
