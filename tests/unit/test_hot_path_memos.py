"""perf (issue 18): the memos on the API-key hot path give what recomputing gives, and are
dropped when what they were derived from changes (the key, the owner's plan, the
operations, the declarations, a calendar bucket, a plan change)."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.accounts.model import Role
from domain.apikeys.format import BASE62, KeyHasher, _base62, _checksum, generate_key, parse_key
from domain.apikeys.model import ApiKey
from domain.apikeys.verifier import VerifiedKey
from domain.clock import ManualClock
from domain.music.errors import UnknownMusicProvider
from domain.music.model import Kind, MusicId, ProviderName
from domain.principal import AuthMethod, Principal
from domain.quota import access, metering
from domain.quota.access import (
    Operation,
    declare_scope,
    derive_key_admission,
    key_admission,
    key_caller,
)
from domain.quota.errors import MissingScope
from domain.quota.metering import Meter, Metered, metering_of
from domain.quota.service import Caller, QuotaService
from resolvers import music as resolvers_music
from rest import music as rest_music
from tests.support.services import build, unit_settings

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def api_key(**changes: Any) -> ApiKey:
    key = ApiKey(
        id="k1", user_id="u1", key_hash=b"h" * 32, prefix="mk_abcde", last4="wxyz",
        name="n", description="", scopes=("music:read",), ip_allowlist=(),
        rate_limit_rpm=60, rate_limit_daily=1000, enabled=True, created_at=NOW,
        updated_at=NOW,
    )  # fmt: skip
    return key.with_changes(**changes) if changes else key


def verified(key: ApiKey, plan_id: str = "free") -> VerifiedKey:
    return VerifiedKey(key, Role.USER, plan_id)


SONG = (Operation("song", mutation=False),)
USAGE = (Operation("usageSummary", mutation=False),)


# -- the gate's per-key admission -------------------------------------------------------------


@pytest.mark.parametrize("operations", [SONG, USAGE, (), SONG + USAGE])
@pytest.mark.parametrize("scopes", [(), ("music:read",), ("quota:read",), ("*",)])
def test_a_key_admission_is_what_recomputing_gives(
    operations: tuple[Operation, ...], scopes: tuple[str, ...]
) -> None:
    key = verified(api_key(scopes=scopes))
    first = key_admission(key, operations)
    again = key_admission(verified(key.key), operations)  # a new VerifiedKey, same key
    assert again is first
    fresh = derive_key_admission(key, operations)
    assert (first.caller, first.metered, first.missing_scope) == (
        fresh.caller, fresh.metered, fresh.missing_scope,
    )  # fmt: skip
    assert first.caller == key_caller(key)
    assert first.metered == tuple(
        m for op in operations if (m := metering_of(op.field)) is not None
    )


def test_a_changed_key_or_plan_gets_a_new_admission() -> None:
    key = api_key()
    first = key_admission(verified(key), SONG)
    # The verifier hands out a new object for a changed key (every change is re-read).
    changed = key.with_changes(rate_limit_rpm=5, scopes=("quota:read",))
    after = key_admission(verified(changed), SONG)
    assert after is not first
    assert after.caller.key_rpm == 5 and after.missing_scope == "music:read"
    upgraded = key_admission(verified(key, "pro"), SONG)
    assert upgraded.caller.plan_id == "pro"
    assert key_admission(verified(key), SONG) is first  # the old key's entry is still right


def test_operations_that_are_not_a_tuple_are_not_memoised() -> None:
    key = verified(api_key())
    listed = list(SONG)
    first = key_admission(key, listed)
    assert key_admission(key, listed) is not first
    assert first.caller == key_caller(key)


def test_a_declaration_drops_the_memo() -> None:
    key = verified(api_key(scopes=("music:read",)))
    operations = (Operation("testHotPathMemo", mutation=False),)
    assert key_admission(key, operations).missing_scope is None
    try:
        declare_scope("testHotPathMemo", "admin:read")
        assert key_admission(key, operations).missing_scope == "admin:read"
        declared = metering.metered("testHotPathMemo", "test.hot", 2)
        assert key_admission(key, operations).metered == (declared,)
    finally:
        access._SCOPES.pop("testHotPathMemo", None)
        metering._METERED.pop("testHotPathMemo", None)
        access._KEY_ADMISSIONS.clear()
    assert key_admission(key, operations).metered == ()


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access, "_KEY_ADMISSIONS_MAX", 3)
    key = verified(api_key())
    for n in range(10):
        key_admission(key, (Operation(f"field{n}", mutation=False),))
        assert len(access._KEY_ADMISSIONS) <= 3


def _principal() -> Principal:
    return Principal(AuthMethod.API_KEY, user_id="u1", api_key_id="k1")


async def test_the_gate_admits_a_route_call_as_it_admits_the_same_operations() -> None:
    """The memoised path (a /v1 route: no ``metered``) and the general one (``metered``
    given, as GraphQL gives it) reserve the same limits and report the same states."""
    clock = ManualClock(NOW)
    routed = build(clock, settings=unit_settings()).services.gate
    general = build(ManualClock(NOW), settings=unit_settings()).services.gate
    key = verified(api_key())
    for _ in range(3):
        a = await routed.enter(_principal(), key, SONG)
        b = await general.enter(
            _principal(),
            key,
            list(SONG),
            metered=[m for op in SONG if (m := metering_of(op.field))],
        )
        assert a is not None and b is not None
        assert a.states == b.states and a.caller == b.caller and a.metered == b.metered
    with pytest.raises(MissingScope):
        await routed.enter(_principal(), verified(api_key(scopes=("quota:read",))), SONG)


# -- the quota service's limits by identity ----------------------------------------------------


def quota(clock: ManualClock) -> QuotaService:
    return build(clock, settings=unit_settings(timezone="Asia/Shanghai")).services.gate.quota


async def test_limits_by_identity_are_the_limits_by_value() -> None:
    clock = ManualClock(NOW)
    service = quota(clock)
    caller = Caller("u1", "free", "k1", 60, 1000)
    metered = (Metered("song"),)
    plan = await service.plan("free")
    first = service.limits(caller, plan, metered, clock.now())
    assert service.limits(caller, plan, metered, clock.now()) is first
    # Equal values, other objects: the value memo's list (the same limits).
    equal = service.limits(Caller("u1", "free", "k1", 60, 1000), plan, (Metered("song"),),
                           clock.now())  # fmt: skip
    assert equal is first
    assert first == service._build_limits(caller, plan, metered, clock.now())


async def test_limits_by_identity_end_with_their_bucket_and_with_a_plan_change() -> None:
    clock = ManualClock(datetime(2026, 11, 27, 15, 59, 59, tzinfo=UTC))  # 23:59:59 Shanghai
    service = quota(clock)
    caller = Caller("u1", "free", "k1", 60, 1000)
    metered = (Metered("song"),)
    plan = await service.plan("free")
    today = service.limits(caller, plan, metered, clock.now())
    clock.advance(1)  # the next local day: new buckets
    tomorrow = service.limits(caller, plan, metered, clock.now())
    assert tomorrow is not today
    assert tomorrow == service._build_limits(caller, plan, metered, clock.now())
    clock.set(datetime(2026, 11, 27, 15, 59, 59, tzinfo=UTC))  # a clock that goes back
    back = service.limits(caller, plan, metered, clock.now())
    assert back == today and back is not tomorrow
    service.forget_plan("free")
    assert service._limits_by_id == {}
    assert service.limits(caller, plan, metered, clock.now()) is not back


async def test_a_list_of_operations_is_not_memoised_by_identity() -> None:
    clock = ManualClock(NOW)
    service = quota(clock)
    caller = Caller("u1", "free", "k1", 60, 1000)
    plan = await service.plan("free")
    listed = [Metered("song")]
    service.limits(caller, plan, listed, clock.now())
    assert service._limits_by_id == {}


async def test_admit_uses_a_changed_plan_after_forget_plan() -> None:
    clock = ManualClock(NOW)
    service = quota(clock)
    caller = Caller("u1", "free", "k1", 60, 1000)
    metered = (Metered("song"),)
    before = await service.admit(caller, metered)
    fresh = await service.plan("free")
    assert before.plan is fresh
    service.forget_plan("free")
    after = await service.admit(caller, metered)
    assert after.plan == fresh


# -- claims, music ids, providers -------------------------------------------------------------


def test_a_claim_is_the_metering_it_stands_for() -> None:
    meter = Meter({"song": 2, "songUrl": 1})
    declared = metering_of("song")
    assert declared is not None
    one = meter.claim("song", ProviderName.LOCAL)
    two = meter.claim("song", "local")
    assert one == two == Metered(f"local.{declared.operation}", declared.weight)
    url = meter.claim("songUrl", ProviderName.NETEASE)
    assert url.operation.startswith("netease.") and url.weight == metering_of("songUrl").weight  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "provider"),
    [("s1", "local"), ("local:song:s1", "local"), ("abc", "netease"), ("x" * 128, "qqmusic")],
)
def test_a_memoised_music_id_is_the_parsed_one(text: str, provider: str) -> None:
    expected = resolvers_music.music_id(text, Kind.SONG, provider=provider)
    assert rest_music._music_id(text, Kind.SONG, provider) == expected
    assert rest_music._music_id(text, Kind.SONG, provider) == expected
    assert isinstance(expected, MusicId)


def test_a_refused_music_id_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(UnknownMusicProvider):
            rest_music._music_id("s1", Kind.SONG, "nope")
        with pytest.raises(Exception) as error:
            rest_music._music_id("", Kind.SONG, "local")
        assert "not a valid id" in str(error.value)
    assert ("", "song", "local") not in rest_music._IDS


def test_the_music_id_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rest_music, "_IDS_MAX", 3)
    for n in range(10):
        rest_music._music_id(f"s{n}", Kind.SONG, "local")
        assert len(rest_music._IDS) <= 3


# -- the key format's fast paths ---------------------------------------------------------------


def test_the_unrolled_checksum_is_the_base62_crc() -> None:
    rng = random.Random(18)
    bodies = ["", "0" * 33, "z" * 33] + [
        "".join(rng.choice(BASE62) for _ in range(33)) for _ in range(2000)
    ]
    import zlib

    for body in bodies:
        assert _checksum(body) == _base62(zlib.crc32(body.encode("ascii")), 6)
    key = generate_key()
    assert parse_key(key) == key


def test_the_key_hash_is_hmac_sha256_with_or_without_the_openssl_object() -> None:
    secret = bytes(range(32))
    hasher = KeyHasher(secret)
    python_only = KeyHasher(secret)
    python_only._base = hmac.new(secret, digestmod=hashlib.sha256)  # the wrapper's path
    for _ in range(3):
        key = generate_key()
        expected = hmac.new(secret, key.encode(), hashlib.sha256).digest()
        assert hasher.hash(key) == expected == python_only.hash(key)


def test_a_provider_by_member_is_the_provider_by_name() -> None:
    music = build(ManualClock(NOW), settings=unit_settings()).services.music
    for name in ProviderName:
        try:
            expected: object = music.provider(name.value)
        except Exception as error:  # not wired in this world: the same refusal
            with pytest.raises(type(error), match=re.escape(str(error))):
                music.provider(name)
        else:
            assert music.provider(name) is expected


# -- the router's choice for a path with parameters --------------------------------------------


class _Raw:
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not called")


async def _not_direct(request: Any) -> Any:
    raise AssertionError("not called")


def test_a_memoised_route_choice_sets_the_scope_as_the_first_choice_did() -> None:
    from starlette.routing import Route as StarletteRoute

    from gateway import routing
    from gateway.routing import IndexedRouter

    first, second = _Raw(), _Raw()
    router = IndexedRouter(
        [
            StarletteRoute("/v1/{provider}/songs/{id}", first, methods=["GET"]),
            StarletteRoute("/v1/{provider}/songs/{id}", second, methods=["DELETE"]),
            StarletteRoute("/n/{id:int}", first, methods=["GET"]),
            StarletteRoute("/v1/{provider}/albums/{id}", _not_direct, methods=["GET"]),
        ],
        direct=lambda endpoint: isinstance(endpoint, _Raw),
    )

    def scope(method: str, path: str, **extra: Any) -> dict[str, Any]:
        return {"type": "http", "method": method, "path": path, "root_path": "", **extra}

    cases = [
        ("GET", "/v1/qq/songs/42"), ("DELETE", "/v1/qq/songs/42"), ("PUT", "/v1/qq/songs/42"),
        ("GET", "/n/7"), ("GET", "/n/seven"), ("GET", "/v1/qq/albums/1"), ("GET", "/x/y/z"),
    ]  # fmt: skip
    for method, path in cases:
        fresh = IndexedRouter(router.routes, direct=lambda e: isinstance(e, _Raw))
        expected_scope = scope(method, path)
        expected = fresh.direct_endpoint(expected_scope)
        seen = []
        for _ in range(3):  # the first call chooses, the others are memoised
            got_scope = scope(method, path)
            assert router.direct_endpoint(got_scope) is expected
            assert got_scope == expected_scope
            if "path_params" in got_scope:
                seen.append(got_scope["path_params"])
        assert len({id(p) for p in seen}) == len(seen)  # a new dict every time
    # Parameters already in the scope are kept under the route's, as Route.matches does.
    given = scope("GET", "/n/8", path_params={"outer": "x", "id": "old"})
    router.direct_endpoint(given)
    assert given["path_params"] == {"outer": "x", "id": 8}
    assert router._chosen  # the memo answered
    long_path = "/v1/qq/songs/" + "9" * routing.MAX_MEMO_PATH
    assert router.direct_endpoint(scope("GET", long_path)) is first
    assert ("/v1/qq/songs/" + "9" * routing.MAX_MEMO_PATH, "GET") not in router._chosen


def test_the_route_choice_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.routing import Route as StarletteRoute

    from gateway import routing
    from gateway.routing import IndexedRouter

    monkeypatch.setattr(routing, "MAX_MEMO_ENTRIES", 3)
    router = IndexedRouter(
        [StarletteRoute("/s/{id}", _Raw(), methods=["GET"])],
        direct=lambda endpoint: isinstance(endpoint, _Raw),
    )
    for n in range(10):
        router.direct_endpoint({"type": "http", "method": "GET", "path": f"/s/{n}"})
        assert len(router._chosen) <= 3


@pytest.mark.parametrize("reset", [5.0, 0.5, 0.0, -0.0, -1.0, float("nan"), float("inf")])
def test_the_states_in_turn_are_as_with_max(reset: float) -> None:
    import math

    from domain.quota.coalescing import _states_in_turn
    from domain.quota.gate import LimitKind, LimitState, RateLimit

    limit = RateLimit(LimitKind.KEY_RPM, "key:k1", 60, 60.0, owner="u1")
    for later in (0, 1, 3):
        (state,) = _states_in_turn([limit], [LimitState(limit, 10, reset)], later)
        expected = max(reset - later * limit.cost * limit.period / limit.limit, 0.0)
        assert state.remaining == 10 + later * limit.cost
        if math.isnan(expected):
            assert math.isnan(state.reset_after)
        else:
            assert state.reset_after == expected
            assert math.copysign(1, state.reset_after) == math.copysign(1, expected)
