"""The admin QR logins and NetEase logins (upstreams, issue 15) through
``tests.support.services.build``, on scripted upstream flows; and each provider's own
default request rate for new pool credentials."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from domain.clock import ManualClock
from domain.errors import Unauthenticated
from domain.music.errors import UpstreamAuthFailed, UpstreamUnreachable
from domain.pool.commands import AddCredential
from domain.pool.errors import (
    PoolAdminRequired,
    PoolInvalidInput,
    QrLoginFailed,
    QrLoginNotFound,
    QrLoginUnavailable,
    UpstreamLoginFailed,
)
from domain.pool.ports import LoginReply, NeteaseLoginOperation, QrLoginPolled, QrLoginStarted
from domain.principal import AuthMethod, Principal, Role
from tests.support.services import Built, build, offline, unit_settings

ADMIN = Principal(AuthMethod.ADMIN_TOKEN, role=Role.SUPERADMIN)
USER = Principal(AuthMethod.SESSION, user_id="u" * 32, session_id="s")
ANONYMOUS = Principal(AuthMethod.ANONYMOUS)
PAYLOAD = json.dumps({"cookie": "MUSIC_U=from-the-scan"}).encode()


class ScriptedQr:
    provider = "netease"  # no lifecycle in these tests: any payload is accepted
    platforms = ("qq", "wx")

    def __init__(self) -> None:
        self.events = ["waiting", "scanned", "done"]
        self.failure: Exception | None = None
        self.states: list[str] = []

    async def start(self, platform: str) -> QrLoginStarted:
        if self.failure is not None:
            raise self.failure
        return QrLoginStarted(f"{platform}-secret-state-0", "data:image/png;base64,AA==", 180)

    async def poll(self, platform: str, state: str) -> QrLoginPolled:
        self.states.append(state)
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise failure
        if not state.startswith(platform):
            raise ValueError("not this platform's state")
        event = self.events.pop(0)
        step = int(state.rsplit("-", 1)[1]) + 1
        payload = PAYLOAD if event == "done" else None
        return QrLoginPolled(event, f"{platform}-secret-state-{step}", payload)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def qr() -> ScriptedQr:
    return ScriptedQr()


@pytest.fixture
def built(clock: ManualClock, qr: ScriptedQr) -> Built:
    return build(clock, outbound=offline(qr_login=qr))


async def test_a_qr_login_polls_to_a_pooled_credential(built: Built, qr: ScriptedQr) -> None:
    logins = built.services.qr_logins
    started = await logins.start(ADMIN, "qq", label="scanned")
    assert len(started.session_id) == 64 and started.expires_in_sec == 180
    assert [(await logins.poll(ADMIN, started.session_id)).event for _ in range(2)] == [
        "waiting", "scanned",
    ]  # fmt: skip
    done = await logins.poll(ADMIN, started.session_id)
    assert done.event == "done" and done.credential is not None
    assert (done.credential.provider, done.credential.label) == ("netease", "scanned")
    assert qr.states == ["qq-secret-state-0", "qq-secret-state-1", "qq-secret-state-2"]
    with pytest.raises(QrLoginNotFound):
        await logins.poll(ADMIN, started.session_id)
    lease = await built.services.pool.acquire("netease", "play_url")
    assert lease is not None and lease.secret.payload == PAYLOAD


async def test_the_session_state_is_sealed_in_the_store(built: Built) -> None:
    started = await built.services.qr_logins.start(ADMIN, "wx")
    raw = await built.adapters.qr_sessions.get(started.session_id)
    assert raw is not None and b"secret-state" not in raw
    assert b"secret-state" not in base64.b64decode(json.loads(raw)["state"])


async def test_a_session_ends_with_its_ttl(built: Built, clock: ManualClock) -> None:
    started = await built.services.qr_logins.start(ADMIN, "qq")
    clock.advance(timedelta(seconds=181))
    with pytest.raises(QrLoginNotFound):
        await built.services.qr_logins.poll(ADMIN, started.session_id)


async def test_only_admins_use_qr_logins(built: Built) -> None:
    started = await built.services.qr_logins.start(ADMIN, "qq")
    for principal, error in ((USER, PoolAdminRequired), (ANONYMOUS, Unauthenticated)):
        with pytest.raises(error):
            await built.services.qr_logins.start(principal, "qq")
        with pytest.raises(error):
            await built.services.qr_logins.poll(principal, started.session_id)


@pytest.mark.parametrize("platform", ["mobile", "icq", ""])
async def test_other_platforms_are_refused_naming_the_field(built: Built, platform: str) -> None:
    with pytest.raises(PoolInvalidInput) as caught:
        await built.services.qr_logins.start(ADMIN, platform)
    assert caught.value.field == "platform"


async def test_upstream_failures(built: Built, qr: ScriptedQr) -> None:
    logins = built.services.qr_logins
    qr.failure = UpstreamUnreachable("ptlogin2 timed out")
    with pytest.raises(QrLoginFailed):
        await logins.start(ADMIN, "qq")
    qr.failure = None
    started = await logins.start(ADMIN, "qq")
    qr.failure = UpstreamUnreachable("ptlogin2 timed out")
    polled = await logins.poll(ADMIN, started.session_id)
    assert (polled.event, polled.error) == ("other", "ptlogin2 timed out")
    assert (await logins.poll(ADMIN, started.session_id)).event == "waiting"  # kept
    qr.failure = UpstreamAuthFailed("the QQ login was refused")
    assert (await logins.poll(ADMIN, started.session_id)).event == "other"
    with pytest.raises(QrLoginNotFound):  # a refused login cannot finish: session gone
        await logins.poll(ADMIN, started.session_id)


async def test_without_a_flow_qr_logins_are_unavailable(clock: ManualClock) -> None:
    built = build(clock)
    with pytest.raises(QrLoginUnavailable):
        await built.services.qr_logins.start(ADMIN, "qq")


class ScriptedNetease:
    provider = "netease"

    def __init__(self) -> None:
        self.calls: list[tuple[NeteaseLoginOperation, dict[str, str | None]]] = []
        self.failure: Exception | None = None

    async def call(
        self, operation: NeteaseLoginOperation, fields: dict[str, str | None]
    ) -> LoginReply:
        self.calls.append((operation, fields))
        if self.failure is not None:
            raise self.failure
        if not fields.get("phone"):
            raise ValueError("phone: is required")
        return LoginReply({"code": 200, "cookie": "MUSIC_U=x"}, PAYLOAD)


async def test_netease_logins_are_admin_only_and_can_store(clock: ManualClock) -> None:
    netease = ScriptedNetease()
    built = build(clock, outbound=offline(netease_login=netease))
    service = built.services.netease_logins
    op = NeteaseLoginOperation.LOGIN_CELLPHONE
    with pytest.raises(PoolAdminRequired):
        await service.call(USER, op, {"phone": "1"})
    assert netease.calls == []
    plain = await service.call(ADMIN, op, {"phone": "1"})
    assert plain.answer["code"] == 200 and plain.credential is None
    stored = await service.call(ADMIN, op, {"phone": "1"}, store=True)
    assert stored.credential is not None and stored.credential.label == "NetEase phone login"
    with pytest.raises(PoolInvalidInput) as caught:
        await service.call(ADMIN, op, {})
    assert caught.value.field == "phone"
    with pytest.raises(PoolInvalidInput) as caught:
        await service.call(ADMIN, NeteaseLoginOperation.QR_KEY, {}, store=True)
    assert caught.value.field == "store"
    netease.failure = UpstreamUnreachable("down")
    with pytest.raises(UpstreamLoginFailed):
        await service.call(ADMIN, op, {"phone": "1"})


async def test_each_provider_has_its_own_default_request_rate(clock: ManualClock) -> None:
    settings = unit_settings(qqmusic_requests_per_second=7)
    pool = build(clock, settings=settings).services.pool
    cookie = base64.b64encode(b'{"cookie": "c"}').decode()
    qq = await pool.add(ADMIN, AddCredential("qqmusic", "q", cookie))
    netease = await pool.add(ADMIN, AddCredential("netease", "n", cookie))
    explicit = await pool.add(ADMIN, AddCredential("qqmusic", "e", cookie, requests_per_second=2))
    assert (qq.requests_per_second, netease.requests_per_second) == (7, 3)
    assert explicit.requests_per_second == 2
