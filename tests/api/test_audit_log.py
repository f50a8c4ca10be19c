"""The security audit log: what a user's journey leaves in it, how admins read it (/v1 and
GraphQL, with filters and paging), and that no secret ever reaches it or the application log.

Mail goes through our real ``SmtpMailer`` to a real SMTP server on loopback; time is a
``ManualClock`` (whole seconds, real start) stepped between actions, so each event's time is
known. The client address comes from ``X-Forwarded-For`` (the harness peer is a trusted
proxy here) and every request carries a recognisable ``User-Agent``.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from domain.clock import ManualClock
from persistence.sql.engine import create_engine
from persistence.sql.tables import audit_events
from tests.api.harness import (
    ADMIN_TOKEN,
    OTHER_STRONG_PASSWORD,
    STRONG_PASSWORD,
    Api,
    running_app,
)
from tests.fakes.hibp_server import FakeHibpServer
from tests.fakes.smtp_server import SERVER_LOGGER, FakeSmtpServer

EMAIL = "alice@example.com"
CLIENT_IP = "198.51.100.23"
USER_AGENT = "KarpovAuditTest/1.0 (journey)"
HEADERS = {"X-Forwarded-For": CLIENT_IP, "User-Agent": USER_AGENT}
ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
WRONG_PASSWORD = "Wrong-Password-Guess-31"
THIRD_PASSWORD = "Yet-Another#Strong-Pass-77"
CODE = re.compile(r"(?<![0-9])([0-9]{6})(?![0-9])")
TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_-]+)")


@dataclass
class Env:
    api: Api
    clock: ManualClock
    smtp: FakeSmtpServer
    database_url: str

    def tick(self, seconds: float = 10) -> None:
        self.clock.advance(seconds)

    def browser(self) -> Api:
        """A fresh browser at the journey's address, with the journey's user agent."""
        browser = self.api.fresh()
        browser.http.headers.update(HEADERS)
        return browser

    async def mail_text(self, address: str) -> str:
        return FakeSmtpServer.text_of(await self.smtp.wait_for(address))

    async def code_for(self, address: str) -> str:
        [code] = CODE.findall(await self.mail_text(address))
        return str(code)

    async def token_for(self, address: str) -> str:
        match = TOKEN.search(await self.mail_text(address))
        assert match is not None
        return match.group(1)

    def totp(self, secret: str) -> str:
        return pyotp.TOTP(secret).at(self.clock.now())


@asynccontextmanager
async def audit_app(
    backend: tuple[str, str | None], hibp: FakeHibpServer, **settings: Any
) -> AsyncIterator[Env]:
    database_url, redis_url = backend
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    settings.setdefault("trusted_proxies", "203.0.113.0/24")
    async with FakeSmtpServer() as smtp:
        settings.update(smtp_host=smtp.host, smtp_port=smtp.port, smtp_tls="none")
        app = running_app(database_url, redis_url=redis_url, hibp=hibp, clock=clock, **settings)
        async with app as (api, _):
            api.http.headers.update(HEADERS)
            yield Env(api, clock, smtp, database_url)


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def raw_id(global_id: str) -> str:
    padded = global_id + "=" * (-len(global_id) % 4)
    return base64.urlsafe_b64decode(padded).decode().split(":", 1)[1]


async def ok(response: Any) -> Any:
    response = await response
    assert response.status_code == 200, response.text
    return response.json()


async def audit(api: Api, **params: Any) -> dict[str, Any]:
    response = await api.get("/v1/admin/audit", headers=ADMIN, params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def every_event(api: Api, **params: Any) -> list[dict[str, Any]]:
    return list((await audit(api, limit=200, **params))["items"])


AUDIT_QUERY = """query($f: AuditEventFilter, $first: Int!, $after: String) {
    adminAuditEvents(filter: $f, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id action createdAt actor subjectUserId clientIp userAgent
                            details } } } }"""


async def gql_events(api: Api, **variables: Any) -> dict[str, Any]:
    variables.setdefault("first", 100)
    result = await api.gql(AUDIT_QUERY, variables, headers=ADMIN)
    assert "errors" not in result, result
    return result["data"]["adminAuditEvents"]  # type: ignore[no-any-return]


def is_subsequence(wanted: list[str], actions: list[str]) -> bool:
    remaining = iter(actions)
    return all(any(a == w for a in remaining) for w in wanted)


# -- a journey ----------------------------------------------------------------------------


@dataclass
class Journey:
    user_id: str
    other_id: str
    times: dict[str, datetime]


async def account_journey(env: Env) -> Journey:
    """Register, a failed and a good login, a password change, a revoked session, TOTP on,
    and two admin changes; each step 10 s after the previous one."""
    times: dict[str, datetime] = {}
    alice = env.browser()
    times["register"] = env.clock.now()
    body = await ok(alice.post("/v1/auth/register", {"email": EMAIL, "password": STRONG_PASSWORD}))
    user_id = body["userId"]
    other_id = (
        await ok(
            env.browser().post(
                "/v1/auth/register", {"email": "bob@example.com", "password": STRONG_PASSWORD}
            )
        )
    )["userId"]
    env.tick()
    times["login.failed"] = env.clock.now()
    failed = await alice.post("/v1/auth/login", {"email": EMAIL, "password": WRONG_PASSWORD})
    assert failed.status_code == 401
    env.tick()
    times["login.succeeded"] = env.clock.now()
    await ok(alice.post("/v1/auth/login", {"email": EMAIL, "password": STRONG_PASSWORD}))
    env.tick()
    times["password.changed"] = env.clock.now()
    await ok(
        alice.post(
            "/v1/auth/password/change",
            {"oldPassword": STRONG_PASSWORD, "newPassword": OTHER_STRONG_PASSWORD},
        )
    )
    env.tick()
    other = env.browser()
    await ok(other.post("/v1/auth/login", {"email": EMAIL, "password": OTHER_STRONG_PASSWORD}))
    sessions = (await ok(alice.get("/v1/auth/sessions")))["data"]["items"]
    [other_session] = [s["id"] for s in sessions if not s["current"]]
    times["session.revoked"] = env.clock.now()
    await ok(alice.delete(f"/v1/auth/sessions/{other_session}"))
    env.tick()
    secret = (await ok(alice.post("/v1/auth/totp/enable", {})))["secretBase32"]
    times["totp.enabled"] = env.clock.now()
    await ok(alice.post("/v1/auth/totp/enable/confirm", {"code": env.totp(secret)}))
    env.tick()
    times["admin.user_updated"] = env.clock.now()
    await ok(env.api.patch(f"/v1/admin/users/{user_id}", {"status": "disabled"}, headers=ADMIN))
    env.tick()
    times["admin.user_updated again"] = env.clock.now()
    await ok(env.api.patch(f"/v1/admin/users/{user_id}", {"status": "active"}, headers=ADMIN))
    env.tick()
    return Journey(user_id, other_id, times)


EXPECTED = [  # newest first
    "admin.user_updated",
    "admin.user_updated",
    "totp.enabled",
    "session.revoked",
    "password.changed",
    "login.failed",
    "register",
]


async def test_a_journey_is_recorded_with_actor_subject_address_agent_and_time(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with audit_app(backend, hibp) as env:
        journey = await account_journey(env)
        uid = journey.user_id
        events = await every_event(env.api, userId=uid)
        actions = [e["action"] for e in events]
        assert is_subsequence(EXPECTED, actions), actions
        assert all(e["userId"] == uid for e in events)
        by_action: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            by_action.setdefault(event["action"], []).append(event)
            assert set(event) == {
                "id", "action", "createdAt", "actor", "userId", "ip", "userAgent", "details",
            }  # fmt: skip
            assert event["ip"] == CLIENT_IP, event
            assert re.fullmatch(r"[0-9a-f]{32}", event["id"])
        times = [instant(e["createdAt"]) for e in events]
        assert times == sorted(times, reverse=True)

        for action in ("register", "login.failed", "password.changed", "session.revoked"):
            [event] = by_action[action]
            assert instant(event["createdAt"]) == journey.times[action], action
        [totp] = by_action["totp.enabled"]
        assert instant(totp["createdAt"]) == journey.times["totp.enabled"]
        assert by_action["register"][0]["actor"] is None
        assert by_action["login.failed"][0]["actor"] is None
        for action in ("password.changed", "session.revoked", "totp.enabled"):
            [event] = by_action[action]
            assert event["actor"] == f"user:{uid}", event
            assert event["userAgent"] == USER_AGENT, event
        assert by_action["login.failed"][0]["userAgent"] == USER_AGENT

        enabled, disabled = by_action["admin.user_updated"]
        assert instant(disabled["createdAt"]) == journey.times["admin.user_updated"]
        assert instant(enabled["createdAt"]) == journey.times["admin.user_updated again"]
        for event, status, previous in (
            (disabled, "disabled", "active"),
            (enabled, "active", "disabled"),
        ):
            assert event["actor"] == "admin-token"
            assert event["userAgent"] == USER_AGENT
            assert event["details"]["status"] == status
            assert event["details"]["previous_status"] == previous
            assert event["details"]["role"] == "user"

        # GraphQL gives the same events, in the same order, with the same facts.
        gql = await gql_events(env.api, f={"userId": uid})
        assert gql["totalCount"] == len(events)
        nodes = [edge["node"] for edge in gql["edges"]]
        assert [raw_id(n["id"]) for n in nodes] == [e["id"] for e in events]
        for node, event in zip(nodes, events, strict=True):
            assert node["action"] == event["action"]
            assert instant(node["createdAt"]) == instant(event["createdAt"])
            assert node["actor"] == event["actor"]
            assert node["subjectUserId"] == event["userId"]
            assert node["clientIp"] == event["ip"]
            assert node["userAgent"] == event["userAgent"]
            assert node["details"] == event["details"]
        # The global user id filters the same way as the raw one.
        global_uid = base64.urlsafe_b64encode(f"User:{uid}".encode()).decode().rstrip("=")
        assert (await gql_events(env.api, f={"userId": global_uid}))["totalCount"] == len(events)


async def test_email_verification_and_password_reset_are_recorded(
    backend: tuple[str, str | None], hibp: FakeHibpServer, request: pytest.FixtureRequest
) -> None:
    async with audit_app(backend, hibp, account_activation="required") as env:
        browser = env.browser()
        uid = (
            await ok(
                browser.post("/v1/auth/register", {"email": EMAIL, "password": STRONG_PASSWORD})
            )
        )["userId"]
        env.tick()
        verified_at = env.clock.now()
        await ok(browser.post("/v1/auth/email/verify", {"token": await env.token_for(EMAIL)}))
        env.tick()
        requested_at = env.clock.now()
        await ok(browser.post("/v1/auth/password/reset/request", {"email": EMAIL}))
        env.tick()
        reset_at = env.clock.now()
        token = await env.token_for(EMAIL)
        await ok(
            browser.post(
                "/v1/auth/password/reset", {"token": token, "newPassword": OTHER_STRONG_PASSWORD}
            )
        )
        events = {e["action"]: e for e in await every_event(env.api, userId=uid)}
        for action, at in (
            ("email.verified", verified_at),
            ("password.reset_requested", requested_at),
            ("password.reset", reset_at),
        ):
            event = events[action]
            assert instant(event["createdAt"]) == at, action
            assert (event["userId"], event["ip"], event["actor"]) == (uid, CLIENT_IP, None)


async def test_a_successful_login_is_recorded(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with audit_app(backend, hibp) as env:
        journey = await account_journey(env)
        events = await every_event(env.api, userId=journey.user_id, action="login.succeeded")
        assert len(events) == 2, events  # the journey signs in from two browsers
        event = events[-1]  # newest first: the first sign-in is last
        assert instant(event["createdAt"]) == journey.times["login.succeeded"]
        assert (event["ip"], event["userAgent"]) == (CLIENT_IP, USER_AGENT)


async def test_a_sign_in_completed_with_a_second_factor_is_recorded(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    """A login challenge completed with a TOTP code is a sign-in like any other (it used to
    go unrecorded: two-factor completion had a session issuer without the audit log)."""
    async with audit_app(backend, hibp) as env:
        browser = env.browser()
        credentials = {"email": EMAIL, "password": STRONG_PASSWORD}
        await ok(browser.post("/v1/auth/register", credentials))
        await ok(browser.post("/v1/auth/login", credentials))
        user_id = (await ok(browser.get("/v1/auth/me")))["id"]
        secret = (await ok(browser.post("/v1/auth/totp/enable", {})))["secretBase32"]
        await ok(browser.post("/v1/auth/totp/enable/confirm", {"code": env.totp(secret)}))
        env.tick(30)
        other = env.browser()
        challenge = await ok(other.post("/v1/auth/login", credentials))
        assert challenge["totpRequired"] is True
        verified = {"challengeId": challenge["challengeId"], "code": env.totp(secret)}
        await ok(other.post("/v1/auth/totp/verify", verified))
        events = await every_event(env.api, userId=user_id, action="login.succeeded")
        assert len(events) == 2, events
        assert instant(events[0]["createdAt"]) == env.clock.now()
        assert (events[0]["ip"], events[0]["userAgent"]) == (CLIENT_IP, USER_AGENT)


async def test_anonymous_flows_record_the_user_agent(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with audit_app(backend, hibp) as env:
        browser = env.browser()
        await ok(browser.post("/v1/auth/register", {"email": EMAIL, "password": STRONG_PASSWORD}))
        await ok(browser.post("/v1/auth/password/reset/request", {"email": EMAIL}))
        events = await every_event(env.api)
        agents = {e["action"]: e["userAgent"] for e in events}
        assert agents == {"register": USER_AGENT, "password.reset_requested": USER_AGENT}


# -- filters and paging -------------------------------------------------------------------


async def test_filters_and_paging(backend: tuple[str, str | None], hibp: FakeHibpServer) -> None:
    async with audit_app(backend, hibp) as env:
        journey = await account_journey(env)
        uid = journey.user_id
        everything = await every_event(env.api)
        assert {e["userId"] for e in everything} >= {uid, journey.other_id}

        changed = await audit(env.api, action="password.changed")
        assert changed["total"] == 1
        assert [e["action"] for e in changed["items"]] == ["password.changed"]
        registers = await every_event(env.api, action="register")
        assert sorted(e["userId"] for e in registers) == sorted([uid, journey.other_id])
        bob = await every_event(env.api, userId=journey.other_id)
        assert [e["action"] for e in bob] == ["register"]
        assert await every_event(env.api, userId=uid, action="register") == [
            e for e in registers if e["userId"] == uid
        ]
        admin_events = await every_event(env.api, actor="admin-token")
        assert [e["action"] for e in admin_events] == ["admin.user_updated"] * 2

        # since is inclusive, until exclusive: together they split the log exactly.
        split = journey.times["password.changed"].isoformat().replace("+00:00", "Z")
        later = await every_event(env.api, since=split)
        earlier = await every_event(env.api, until=split)
        assert {e["id"] for e in later} | {e["id"] for e in earlier} == {
            e["id"] for e in everything
        }
        assert not {e["id"] for e in later} & {e["id"] for e in earlier}
        assert "password.changed" in [e["action"] for e in later]
        assert all(instant(e["createdAt"]) >= journey.times["password.changed"] for e in later)
        assert all(instant(e["createdAt"]) < journey.times["password.changed"] for e in earlier)
        window = await every_event(
            env.api,
            since=journey.times["login.failed"].isoformat(),
            until=journey.times["session.revoked"].isoformat(),
        )
        assert {e["action"] for e in window if e["userId"] == uid} >= {
            "login.failed",
            "password.changed",
        }
        assert "session.revoked" not in {e["action"] for e in window}
        assert "register" not in {e["action"] for e in window}

        # Pages of two cover the same events in the same order.
        pages: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await audit(env.api, limit=2, offset=offset)
            assert page["total"] == len(everything)
            assert (page["limit"], page["offset"]) == (2, offset)
            if not page["items"]:
                break
            assert len(page["items"]) <= 2
            pages += page["items"]
            offset += 2
        assert [e["id"] for e in pages] == [e["id"] for e in everything]

        # GraphQL: the same filters, and cursors.
        gql_changed = await gql_events(env.api, f={"action": "password.changed"})
        assert [raw_id(e["node"]["id"]) for e in gql_changed["edges"]] == [
            e["id"] for e in changed["items"]
        ]
        since = journey.times["password.changed"].isoformat()
        gql_later = await gql_events(env.api, f={"since": since})
        assert [raw_id(e["node"]["id"]) for e in gql_later["edges"]] == [e["id"] for e in later]
        seen: list[str] = []
        after = None
        while True:
            page = await gql_events(env.api, first=3, after=after)
            assert page["totalCount"] == len(everything)
            seen += [raw_id(e["node"]["id"]) for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == [e["id"] for e in everything]


async def test_bad_filters_are_400(backend: tuple[str, str | None], hibp: FakeHibpServer) -> None:
    async with audit_app(backend, hibp) as env:
        for params in ({"action": "no.such"}, {"since": "yesterday"}, {"limit": "x"}):
            response = await env.api.get("/v1/admin/audit", headers=ADMIN, params=params)
            assert response.status_code == 400, (params, response.text)
            assert response.json()["code"] == 40000
        result = await env.api.gql(AUDIT_QUERY, {"f": {"action": "no.such"}, "first": 5}, ADMIN)
        assert result["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_only_admins_read_the_audit_log(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with audit_app(backend, hibp) as env:
        anonymous = env.browser()
        response = await anonymous.get("/v1/admin/audit")
        assert response.status_code == 401, response.text
        assert response.json()["code"] == 40100
        result = await anonymous.gql(AUDIT_QUERY, {"first": 5})
        assert result["data"] == {"adminAuditEvents": None}  # nullable: fails alone
        assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

        user = env.browser()
        await ok(user.post("/v1/auth/register", {"email": EMAIL, "password": STRONG_PASSWORD}))
        await ok(user.post("/v1/auth/login", {"email": EMAIL, "password": STRONG_PASSWORD}))
        response = await user.get("/v1/admin/audit")
        assert response.status_code == 403, response.text
        assert response.json()["code"] == 40300
        result = await user.gql(AUDIT_QUERY, {"first": 5})
        assert result["errors"][0]["extensions"]["code"] == "INSUFFICIENT_ROLE"

        # A session admin may read it.
        uid = (await ok(user.get("/v1/auth/me")))["id"]
        await ok(env.api.patch(f"/v1/admin/users/{uid}", {"role": "admin"}, headers=ADMIN))
        admin = env.browser()
        await ok(admin.post("/v1/auth/login", {"email": EMAIL, "password": STRONG_PASSWORD}))
        assert (await admin.get("/v1/admin/audit")).status_code == 200


# -- no secret anywhere -------------------------------------------------------------------


def everything_in(record: logging.LogRecord) -> str:
    """The message, its arguments, every ``extra`` field and any traceback, as text."""
    parts = [record.getMessage(), repr(record.__dict__)]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(repr(record.exc_info[1]))
    if record.exc_text:
        parts.append(record.exc_text)
    return "\n".join(parts)


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    """The names of the secrets found in ``text`` (six-digit codes only as whole numbers,
    so that ids, hashes and timestamps that happen to contain the digits do not count)."""
    found = []
    for name, secret in secrets.items():
        if CODE.fullmatch(secret):
            if re.search(rf"(?<![0-9A-Za-z]){secret}(?![0-9A-Za-z])", text):
                found.append(name)
        elif secret in text:
            found.append(name)
    return found


async def test_no_secret_reaches_the_audit_log_or_the_application_log(
    backend: tuple[str, str | None],
    hibp: FakeHibpServer,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets: dict[str, str] = {
        "password 1": STRONG_PASSWORD,
        "password 2": OTHER_STRONG_PASSWORD,
        "password 3": THIRD_PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "admin token": ADMIN_TOKEN,
    }
    async with audit_app(
        backend, hibp, email_verification="required", account_activation="required"
    ) as env:
        browser = env.browser()
        await ok(browser.post("/v1/auth/email/send-code", {"email": EMAIL}))
        secrets["e-mail code"] = await env.code_for(EMAIL)
        registration = {"email": EMAIL, "password": STRONG_PASSWORD}
        registration["verificationCode"] = secrets["e-mail code"]
        await ok(browser.post("/v1/auth/register", registration))
        secrets["activation token"] = await env.token_for(EMAIL)
        await ok(browser.post("/v1/auth/email/verify", {"token": secrets["activation token"]}))
        env.tick()
        failed = await browser.post("/v1/auth/login", {"email": EMAIL, "password": WRONG_PASSWORD})
        assert failed.status_code == 401
        body = await ok(
            browser.post("/v1/auth/login", {"email": EMAIL, "password": STRONG_PASSWORD})
        )
        secrets["session 1"] = body["sid"]
        await ok(
            browser.post(
                "/v1/auth/password/change",
                {"oldPassword": STRONG_PASSWORD, "newPassword": OTHER_STRONG_PASSWORD},
            )
        )
        env.tick(61)
        await ok(browser.post("/v1/auth/password/reset/request", {"email": EMAIL}))
        secrets["reset token"] = await env.token_for(EMAIL)
        await ok(
            browser.post(
                "/v1/auth/password/reset",
                {"token": secrets["reset token"], "newPassword": THIRD_PASSWORD},
            )
        )
        browser = env.browser()
        body = await ok(
            browser.post("/v1/auth/login", {"email": EMAIL, "password": THIRD_PASSWORD})
        )
        secrets["session 2"] = body["sid"]
        secrets["totp secret"] = (await ok(browser.post("/v1/auth/totp/enable", {})))[
            "secretBase32"
        ]
        secrets["totp code 1"] = env.totp(secrets["totp secret"])
        confirmed = await ok(
            browser.post("/v1/auth/totp/enable/confirm", {"code": secrets["totp code 1"]})
        )
        for i, code in enumerate(confirmed["recoveryCodes"]):
            secrets[f"recovery code {i}"] = code
        env.tick(30)
        challenge = await ok(
            env.browser().post("/v1/auth/login", {"email": EMAIL, "password": THIRD_PASSWORD})
        )
        secrets["totp code 2"] = env.totp(secrets["totp secret"])
        verified = await ok(
            env.browser().post(
                "/v1/auth/totp/verify",
                {"challengeId": challenge["challengeId"], "code": secrets["totp code 2"]},
            )
        )
        secrets["session 3"] = verified["sid"]
        inline = {
            "email": EMAIL,
            "password": THIRD_PASSWORD,
            "totpCode": secrets["recovery code 0"],
        }
        recovered = await ok(env.browser().post("/v1/auth/login", inline))
        secrets["session 4"] = recovered["sid"]
        graphql = await env.browser().gql(
            """mutation($i: AccountLoginInput!) { accountLogin(input: $i) {
            result { challengeId } errors { code } } }""",
            {"i": {"email": EMAIL, "password": THIRD_PASSWORD}},
        )
        assert graphql["data"]["accountLogin"]["errors"] == []
        listing = await audit(env.api, limit=200)
        assert listing["total"] >= 8

        engine = create_engine(env.database_url)
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(select(audit_events))).mappings().all()
        finally:
            await engine.dispose()

    assert len(rows) == listing["total"]
    actions = {row["action"] for row in rows}
    assert {"register", "email.verified", "login.failed", "password.changed",
            "password.reset", "totp.enabled"} <= actions  # fmt: skip
    for row in rows:
        assert leaks(repr(dict(row)), secrets) == [], dict(row)
    assert leaks(repr(listing), secrets) == []

    records = list(caplog.records)
    app_records = [r for r in records if not r.name.startswith(SERVER_LOGGER)]
    assert app_records, "nothing was logged: the capture is not working"
    for record in app_records:
        assert leaks(everything_in(record), secrets) == [], (record.name, record.getMessage())
    # The check can see secrets: the fake server's own DATA log does hold the mailed ones.
    server_text = "\n".join(everything_in(r) for r in records if r.name.startswith(SERVER_LOGGER))
    assert {"e-mail code", "activation token", "reset token"} <= set(leaks(server_text, secrets))
