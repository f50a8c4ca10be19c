"""Our real HIBP client against a fake range server speaking the real wire protocol."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from domain.accounts.errors import BreachCheckUnavailable, PwnedPassword
from domain.accounts.policy import AccountPolicy, BreachCheckMode
from domain.accounts.service import PasswordRules
from integrations import hibp
from integrations.hibp import HibpClient
from tests.fakes.hibp_server import FakeHibpServer, sha1_hex

RANGE_URL = "http://hibp.test/range/"
PWNED = "Tr0ub4dor&3-horse"  # strong enough for the default strength rule (3)
PWNED_COUNT = 4_213
UNKNOWN = "Correct-Horse-Battery-9"
FAST_TIMEOUT = 0.2


@dataclass
class Setup:
    server: FakeHibpServer
    http: httpx.AsyncClient

    def client(
        self, *, timeout: float = 5.0, cache_size: int = 1024, cache_ttl: float = 3600.0
    ) -> HibpClient:
        return HibpClient(
            RANGE_URL, http=self.http, timeout=timeout, cache_size=cache_size, cache_ttl=cache_ttl
        )


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    server = FakeHibpServer({PWNED: PWNED_COUNT, "password": 9_545_824})
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hibp.test") as http:
        yield Setup(server, http)


# -- the range protocol ------------------------------------------------------------------


async def test_a_breached_password_returns_its_count(setup: Setup) -> None:
    assert await setup.client().times_pwned(PWNED) == PWNED_COUNT


async def test_an_unknown_password_returns_zero(setup: Setup) -> None:
    assert await setup.client().times_pwned(UNKNOWN) == 0


async def test_a_padding_row_for_our_own_suffix_is_ignored(setup: Setup) -> None:
    setup.server.add_padding_collision(UNKNOWN)

    assert await setup.client().times_pwned(UNKNOWN) == 0

    [request] = setup.server.requests
    assert request.headers["add-padding"] == "true"


async def test_a_padding_row_does_not_mask_a_real_row_with_the_same_suffix(setup: Setup) -> None:
    digest = sha1_hex(PWNED)
    setup.server.add_raw_line(digest[:5], f"{digest[5:]}:0")

    assert await setup.client().times_pwned(PWNED) == PWNED_COUNT


async def test_padded_answers_really_carry_decoy_rows(setup: Setup) -> None:
    response = await setup.http.get(
        "/range/" + sha1_hex(UNKNOWN)[:5], headers={"Add-Padding": "true"}
    )
    rows = response.text.split("\r\n")
    assert 800 <= len(rows) <= 1000
    assert all(row.endswith(":0") for row in rows)


async def test_only_the_five_character_prefix_leaves_the_process(setup: Setup) -> None:
    await setup.client().times_pwned(PWNED)

    [request] = setup.server.requests
    digest = sha1_hex(PWNED)
    assert request.method == "GET"
    assert request.path == f"/range/{digest[:5]}"
    assert request.query == ""
    sent = request.path + "".join(f"{k}:{v}" for k, v in request.headers.items())
    assert digest[5:] not in sent.upper()
    assert PWNED not in sent


async def test_add_padding_and_user_agent_headers_are_sent(setup: Setup) -> None:
    await setup.client().times_pwned(UNKNOWN)

    [request] = setup.server.requests
    assert request.headers["add-padding"] == "true"
    assert request.headers["user-agent"] == "karpov-hibp/1.0"


async def test_lower_case_suffixes_and_bare_lf_line_endings_parse(setup: Setup) -> None:
    setup.server.lowercase = True
    setup.server.line_ending = "\n"

    assert await setup.client().times_pwned(PWNED) == PWNED_COUNT


async def test_lines_without_a_colon_are_skipped(setup: Setup) -> None:
    setup.server.add_raw_line(sha1_hex(PWNED)[:5], "this line has no separator")

    assert await setup.client().times_pwned(PWNED) == PWNED_COUNT


async def test_an_unparsable_count_on_another_row_is_ignored(setup: Setup) -> None:
    setup.server.add_raw_line(sha1_hex(PWNED)[:5], "0" * 35 + ":lots")

    assert await setup.client().times_pwned(PWNED) == PWNED_COUNT


async def test_an_unparsable_count_on_our_row_makes_the_check_unavailable(setup: Setup) -> None:
    digest = sha1_hex(UNKNOWN)
    setup.server.add_raw_line(digest[:5], f"{digest[5:]}:12x")

    with pytest.raises(BreachCheckUnavailable):
        await setup.client().times_pwned(UNKNOWN)


@pytest.mark.parametrize("status", [404, 429, 500, 503])
async def test_a_non_200_answer_makes_the_check_unavailable(setup: Setup, status: int) -> None:
    setup.server.status = status

    with pytest.raises(BreachCheckUnavailable):
        await setup.client().times_pwned(PWNED)


async def test_a_slow_server_makes_the_check_unavailable(setup: Setup) -> None:
    setup.server.delay = 10

    with pytest.raises(BreachCheckUnavailable):
        await setup.client(timeout=FAST_TIMEOUT).times_pwned(PWNED)


async def test_a_transport_error_makes_the_check_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        with pytest.raises(BreachCheckUnavailable):
            await HibpClient(RANGE_URL, http=http).times_pwned(PWNED)


async def test_failures_never_log_the_password_or_its_hash(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    setup.server.status = 500
    caplog.set_level(logging.DEBUG)

    with pytest.raises(BreachCheckUnavailable):
        await setup.client().times_pwned(PWNED)

    digest = sha1_hex(PWNED)
    standard = set(vars(logging.makeLogRecord({})))
    records = [r for r in caplog.records if r.name.startswith("karpov")]
    assert records
    for record in records:
        extra = {k: v for k, v in vars(record).items() if k not in standard}
        text = f"{record.getMessage()} {record.args!r} {extra!r}".upper()
        assert digest[:5] not in text  # so neither the hash nor its suffix either
        assert digest[5:] not in text
        assert PWNED.upper() not in text
        assert extra["prefix_length"] == 5


# -- the range cache ---------------------------------------------------------------------


async def test_a_cached_prefix_is_not_fetched_again(setup: Setup) -> None:
    client = setup.client()

    assert await client.times_pwned(PWNED) == PWNED_COUNT
    assert await client.times_pwned(PWNED) == PWNED_COUNT

    assert len(setup.server.requests) == 1


async def test_the_cache_answers_for_other_passwords_under_the_same_prefix(setup: Setup) -> None:
    first, second = "Neighbour-481!", "Neighbour-653!"  # both hash to prefix CACCF
    assert sha1_hex(first)[:5] == sha1_hex(second)[:5]
    setup.server.add_breached(first, 3)
    setup.server.add_breached(second, 7)
    client = setup.client()

    assert await client.times_pwned(first) == 3
    assert await client.times_pwned(second) == 7

    assert len(setup.server.requests) == 1


async def test_cached_entries_expire(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000.0]
    monkeypatch.setattr(hibp, "monotonic", lambda: now[0])
    client = setup.client(cache_ttl=60)

    await client.times_pwned(PWNED)
    now[0] += 59
    await client.times_pwned(PWNED)
    assert len(setup.server.requests) == 1

    now[0] += 1
    await client.times_pwned(PWNED)
    assert len(setup.server.requests) == 2


async def test_the_least_recently_used_prefix_is_evicted(setup: Setup) -> None:
    client = setup.client(cache_size=2)

    for password in (PWNED, UNKNOWN, PWNED, "third-password"):  # evicts UNKNOWN
        await client.times_pwned(password)
    assert len(setup.server.requests) == 3

    await client.times_pwned(PWNED)
    assert len(setup.server.requests) == 3
    await client.times_pwned(UNKNOWN)
    assert len(setup.server.requests) == 4


async def test_failures_are_not_cached(setup: Setup) -> None:
    client = setup.client()
    setup.server.status = 500
    with pytest.raises(BreachCheckUnavailable):
        await client.times_pwned(PWNED)

    setup.server.status = 200
    assert await client.times_pwned(PWNED) == PWNED_COUNT
    assert len(setup.server.requests) == 2


async def test_an_answer_with_a_malformed_row_is_not_cached(setup: Setup) -> None:
    digest = sha1_hex(UNKNOWN)
    setup.server.add_raw_line(digest[:5], f"{digest[5:]}:?")
    client = setup.client()

    for _ in range(2):
        with pytest.raises(BreachCheckUnavailable):
            await client.times_pwned(UNKNOWN)

    assert len(setup.server.requests) == 2


# -- PasswordRules with the real client ------------------------------------------------


def rules(setup: Setup, mode: BreachCheckMode) -> PasswordRules:
    return PasswordRules(AccountPolicy(breach_check=mode), setup.client(timeout=FAST_TIMEOUT))


async def test_mode_off_makes_no_request_and_accepts_a_pwned_password(setup: Setup) -> None:
    await rules(setup, BreachCheckMode.OFF).check(PWNED)

    assert setup.server.requests == []


@pytest.mark.parametrize("mode", [BreachCheckMode.FAIL_OPEN, BreachCheckMode.FAIL_CLOSED])
async def test_a_pwned_password_is_rejected(setup: Setup, mode: BreachCheckMode) -> None:
    with pytest.raises(PwnedPassword) as caught:
        await rules(setup, mode).check(PWNED, field="newPassword")

    assert caught.value.field == "newPassword"


@pytest.mark.parametrize("mode", [BreachCheckMode.FAIL_OPEN, BreachCheckMode.FAIL_CLOSED])
async def test_an_unknown_password_is_accepted(setup: Setup, mode: BreachCheckMode) -> None:
    await rules(setup, mode).check(UNKNOWN)

    assert len(setup.server.requests) == 1


async def test_fail_open_accepts_when_the_check_times_out(setup: Setup) -> None:
    setup.server.delay = 10

    await rules(setup, BreachCheckMode.FAIL_OPEN).check(PWNED)

    assert len(setup.server.requests) == 1


async def test_fail_open_accepts_when_the_check_errors(setup: Setup) -> None:
    setup.server.status = 500

    await rules(setup, BreachCheckMode.FAIL_OPEN).check(PWNED)


async def test_fail_closed_refuses_when_the_check_times_out(setup: Setup) -> None:
    setup.server.delay = 10

    with pytest.raises(BreachCheckUnavailable):
        await rules(setup, BreachCheckMode.FAIL_CLOSED).check(PWNED)


async def test_fail_closed_refuses_when_the_check_errors(setup: Setup) -> None:
    setup.server.status = 503

    with pytest.raises(BreachCheckUnavailable):
        await rules(setup, BreachCheckMode.FAIL_CLOSED).check(UNKNOWN)
