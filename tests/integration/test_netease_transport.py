"""The NetEase transport against the fake: each upstream error code to its
``ProviderFailure``, unreadable answers, timeouts, encrypted eapi answers and the
concurrency cap."""

from __future__ import annotations

import asyncio

import pytest

from domain.music.errors import (
    ProviderFailure,
    UpstreamAuthFailed,
    UpstreamBadAnswer,
    UpstreamNoRights,
    UpstreamNotFound,
    UpstreamRateLimit,
    UpstreamUnreachable,
)
from domain.music.model import PageRequest, SearchType
from domain.pool.model import LeaseResult
from integrations.netease.transport import Crypto
from tests.fakes.netease import FakeNetease
from tests.fakes.netease.ciphers import encrypt_answer
from tests.integration.netease_harness import harness

SONG_DETAIL = "/api/v3/song/detail"
LYRICS = "/api/song/lyric/v1"


@pytest.mark.parametrize(
    ("body", "failure", "result"),
    [
        ({"code": -460, "msg": "Cheating"}, UpstreamRateLimit, LeaseResult.RATE_LIMITED),
        ({"code": -460, "message": "网络太拥挤，请稍候再试！"}, UpstreamRateLimit,
         LeaseResult.RATE_LIMITED),
        ({"code": -462, "data": {"blockText": "安全风险"}}, UpstreamRateLimit,
         LeaseResult.RATE_LIMITED),
        ({"msg": "操作频繁，请稍候再试", "code": 405}, UpstreamRateLimit, LeaseResult.RATE_LIMITED),
        ({"code": 406, "msg": "操作频繁，请稍候再试"}, UpstreamRateLimit, LeaseResult.RATE_LIMITED),
        ({"code": "-460", "msg": "Cheating"}, UpstreamRateLimit, LeaseResult.RATE_LIMITED),
        ({"msg": "需要登录", "code": 301, "message": "需要登录"}, UpstreamAuthFailed,
         LeaseResult.AUTH_FAILED),
        ({"code": -2, "message": "无权限访问"}, UpstreamNoRights, LeaseResult.NO_RIGHTS),
        ({"code": 404, "msg": "该资源不存在。"}, UpstreamNotFound, LeaseResult.NOT_FOUND),
        ({"code": 400, "msg": "参数错误"}, UpstreamBadAnswer, LeaseResult.UPSTREAM_ERROR),
        ({"code": 250, "message": "风险提示"}, UpstreamBadAnswer, LeaseResult.UPSTREAM_ERROR),
        ({"code": 500, "msg": "服务器错误"}, UpstreamBadAnswer, LeaseResult.UPSTREAM_ERROR),
    ],
)  # fmt: skip
async def test_each_upstream_code_is_its_failure(
    body: dict[str, object], failure: type[ProviderFailure], result: LeaseResult
) -> None:
    async with harness() as h:
        for crypto, api_path in ((Crypto.WEAPI, SONG_DETAIL), (Crypto.EAPI, LYRICS)):
            h.fake.inject(api_path, body)
            with pytest.raises(failure) as caught:
                await h.transport.call(crypto, api_path, {"c": "[]", "id": 1})
            assert caught.value.result is result
            assert str(caught.value.upstream_code) == str(body["code"])
            assert "MUSIC_U" not in str(caught.value)


async def test_provider_operations_raise_the_mapped_failures() -> None:
    async with harness() as h:
        h.fake.inject(None, {"code": -460, "msg": "Cheating"})
        with pytest.raises(UpstreamRateLimit):
            await h.provider.search("x", SearchType.SONG, PageRequest(), None)
        h.fake.inject(None, {"msg": "需要登录", "code": 301})
        with pytest.raises(UpstreamAuthFailed):
            await h.provider.playlist("5001", PageRequest(), h.secret())


async def test_a_json_error_on_an_error_status_is_still_read() -> None:
    async with harness() as h:
        h.fake.inject(SONG_DETAIL, {"code": -460, "msg": "Cheating"}, status=403)
        with pytest.raises(UpstreamRateLimit):
            await h.provider.song("2001", None)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", 502),
        (b"", 200),
        (b"not json and not AES", 200),
        (b"\x00" * 32, 200),  # AES-sized, but not an encrypted answer
        (b'["a list"]', 200),
    ],
)
async def test_unreadable_answers_are_bad_answers(raw: bytes, status: int) -> None:
    async with harness() as h:
        h.fake.inject(LYRICS, raw=raw, status=status)
        with pytest.raises(UpstreamBadAnswer):
            await h.provider.lyrics("2001", None)


async def test_a_json_answer_without_a_code_on_an_error_status_is_a_bad_answer() -> None:
    async with harness() as h:
        h.fake.inject(SONG_DETAIL, {"error": "overloaded"}, status=503)
        with pytest.raises(UpstreamBadAnswer) as caught:
            await h.provider.song("2001", None)
        assert caught.value.upstream_code == 503


async def test_an_unknown_path_is_a_bad_answer_not_a_missing_song() -> None:
    async with harness() as h:
        with pytest.raises(UpstreamBadAnswer):
            await h.transport.call(Crypto.EAPI, "/api/no/such/thing", {})


async def test_a_hung_upstream_is_unreachable() -> None:
    async with harness(timeout=0.05) as h:
        h.fake.delay = 5.0
        with pytest.raises(UpstreamUnreachable) as caught:
            await h.provider.song("2001", None)
        assert caught.value.result is LeaseResult.NETWORK_ERROR


@pytest.mark.parametrize("compress", [False, True])
async def test_encrypted_eapi_answers_are_decrypted(compress: bool) -> None:
    fake = FakeNetease()
    fake.encrypted_gzip = compress
    async with harness(fake, encrypted_answers=True) as h:
        lyrics = await h.provider.lyrics("2001", None)
        assert "Lights over the sea" in lyrics.lrc
        assert h.fake.calls_to(LYRICS)[0].payload["e_r"] is True
        h.fake.inject(LYRICS, {"code": -460, "msg": "Cheating"})  # errors come plain
        with pytest.raises(UpstreamRateLimit):
            await h.provider.lyrics("2001", None)


@pytest.mark.parametrize("brace", [b"{", b"["])
async def test_an_encrypted_answer_that_starts_with_a_brace_is_still_decrypted(
    brace: bytes,
) -> None:
    # AES blocks look random: about one answer in 128 starts like JSON. The counter comes
    # first so that the first block differs from one answer to the next.
    answers = ({"n": n, "code": 200, "lrc": {"lyric": f"[00:01.00]Line {n}"}} for n in range(9999))
    body = next(b for answer in answers if (b := encrypt_answer(answer))[:1] == brace)
    async with harness(FakeNetease(), encrypted_answers=True) as h:
        h.fake.inject(LYRICS, raw=body)
        lyrics = await h.provider.lyrics("2001", None)
        assert lyrics.lrc.startswith("[00:01.00]Line ")


async def test_plain_eapi_calls_ask_for_plain_answers() -> None:
    async with harness() as h:
        await h.provider.lyrics("2001", None)
        assert h.fake.calls_to(LYRICS)[0].payload["e_r"] is False


async def test_at_most_max_concurrency_calls_are_in_flight() -> None:
    async with harness(max_concurrency=3) as h:
        h.fake.gate = asyncio.Event()
        calls = [asyncio.create_task(h.provider.lyrics("2001", None)) for _ in range(10)]
        async with asyncio.timeout(5):
            await h.fake.wait_in_flight(3)
        for _ in range(20):  # give the other seven every chance to slip through
            await asyncio.sleep(0)
        assert h.fake.in_flight == 3
        h.fake.gate.set()
        results = await asyncio.gather(*calls)
        assert all(r.lrc for r in results)
        assert h.fake.max_in_flight == 3 and len(h.fake.calls_to(LYRICS)) == 10


async def test_real_ip_is_sent_only_when_configured() -> None:
    async with harness() as h:
        await h.provider.song("2001", None)
        assert "x-real-ip" not in h.fake.calls[-1].headers
    async with harness(real_ip="203.0.113.9") as h:
        await h.provider.song("2001", None)
        await h.provider.lyrics("2001", None)
        for call in h.fake.calls:
            assert call.headers["x-real-ip"] == "203.0.113.9"
            assert call.headers["x-forwarded-for"] == "203.0.113.9"


async def test_an_answer_past_the_size_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from integrations.netease import transport

    monkeypatch.setattr(transport, "MAX_ANSWER_BYTES", 4096)
    async with harness() as h:
        h.fake.inject(LYRICS, {"code": 200, "lrc": {"lyric": "x" * 5000}})
        with pytest.raises(UpstreamBadAnswer):
            await h.provider.lyrics("2001", None)
        assert (await h.provider.lyrics("2001", None)).lrc  # a normal answer still reads
