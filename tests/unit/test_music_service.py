"""The music service over a scripted provider and a counting leaser: leases only where
the operation's need asks for one, retries on another credential only for retryable
failures (at most 3), each lease released with its taxonomy result; failures mapped to
the errors callers see; caching with the right lifetimes; single flight.

(The service is built here from its parts: the providers and the leaser are what these
tests script. The wired service, over the local catalog, is tested through
``tests/support/services.build`` in ``test_local_catalog.py``.)"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from domain.clock import ManualClock
from domain.errors import DomainError
from domain.leases import CredentialSecret, Lease, LeaseResult
from domain.music import codec
from domain.music.errors import (
    MusicNoRights,
    MusicNotFound,
    MusicOperationUnsupported,
    MusicProviderUnavailable,
    MusicUpstreamFailed,
    MusicUpstreamRateLimited,
    NoUsableCredential,
    ProviderFailure,
    UnknownMusicProvider,
    UpstreamAuthFailed,
    UpstreamNoRights,
    UpstreamNotFound,
    UpstreamRateLimit,
    UpstreamUnreachable,
)
from domain.music.model import (
    Album,
    AlbumRef,
    Artist,
    ArtistRef,
    AudioResource,
    Chart,
    Kind,
    Lyrics,
    MusicId,
    Page,
    PageRequest,
    Playlist,
    PlayUrl,
    ProviderName,
    Quality,
    SearchItem,
    SearchType,
    Song,
    UnavailableReason,
)
from domain.music.ports import Capability, CredentialNeed
from domain.music.service import MusicService
from persistence.memory.music_cache import MemoryMusicCache

QQ = ProviderName.QQMUSIC
SONG_ID = MusicId(QQ, Kind.SONG, "003OUlho2HcRHC")
PAYLOAD = b"musickey=W_X-secret-cookie"


def a_song(provider_id: str = "003OUlho2HcRHC") -> Song:
    return Song(
        id=MusicId(QQ, Kind.SONG, provider_id), title="Qing Tian",
        artists=(ArtistRef(MusicId(QQ, Kind.ARTIST, "0025NhlN2yWrP4"), "Jay Chou"),),
        album=AlbumRef(MusicId(QQ, Kind.ALBUM, "000MkMni19ClKG"), "Ye Hui Mei"),
        duration_ms=269000, available_qualities=(Quality.MP3_128, Quality.MP3_320),
    )  # fmt: skip


@dataclass
class ScriptedMusic:
    """A ``MusicProvider`` whose answers and failures a test scripts; counts its calls
    and remembers the credentials it was handed."""

    name: ProviderName = QQ
    display_name: str = "Scripted"
    needs_map: dict[Capability, CredentialNeed] = field(
        default_factory=lambda: {
            **dict.fromkeys(Capability, CredentialNeed.NONE),
            Capability.PLAY_URL: CredentialNeed.REQUIRED,
            Capability.PLAYLIST: CredentialNeed.OPTIONAL,
        }
    )
    failures: list[ProviderFailure] = field(default_factory=list)
    """Raised by the next calls, in order, before answering."""
    calls: dict[str, int] = field(default_factory=dict)
    credentials: list[CredentialSecret | None] = field(default_factory=list)
    delay: float = 0.0
    expires_in: timedelta = timedelta(minutes=5)
    clock: ManualClock = field(default_factory=ManualClock)

    @property
    def needs(self) -> Mapping[Capability, CredentialNeed]:
        return self.needs_map

    async def _call(self, name: str, credential: CredentialSecret | None) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        self.credentials.append(credential)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)

    async def song(self, provider_id: str, credential: CredentialSecret | None) -> Song:
        await self._call("song", credential)
        return a_song(provider_id)

    async def songs(
        self, provider_ids: Sequence[str], credential: CredentialSecret | None
    ) -> list[Song | None]:
        await self._call("songs", credential)
        return [a_song(i) if i != "missing" else None for i in provider_ids]

    async def search(
        self, query: str, type: SearchType, page: PageRequest, credential: CredentialSecret | None
    ) -> Page[SearchItem]:
        await self._call("search", credential)
        return Page((a_song(),), page.offset, 1, False)

    async def play_url(
        self, provider_id: str, qualities: Sequence[Quality], credential: CredentialSecret | None
    ) -> PlayUrl:
        await self._call("play_url", credential)
        audio = AudioResource(
            url=f"https://ws.stream.example/{provider_id}.mp3?vkey=V", quality=qualities[-1],
            format="mp3", expires_at=self.clock.now() + self.expires_in,
        )  # fmt: skip
        return PlayUrl(MusicId(QQ, Kind.SONG, provider_id), qualities[0], audio)

    async def lyrics(self, provider_id: str, credential: CredentialSecret | None) -> Lyrics:
        await self._call("lyrics", credential)
        return Lyrics(MusicId(QQ, Kind.SONG, provider_id), lrc="[00:00.00]la")

    async def album(self, provider_id: str, credential: CredentialSecret | None) -> Album:
        await self._call("album", credential)
        return Album(MusicId(QQ, Kind.ALBUM, provider_id), "Ye Hui Mei", (), songs=(a_song(),))

    async def artist(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Artist:
        raise NotImplementedError

    async def playlist(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Playlist:
        await self._call("playlist", credential)
        return Playlist(MusicId(QQ, Kind.PLAYLIST, provider_id), "Mix")

    async def charts(self, credential: CredentialSecret | None) -> list[Chart]:
        await self._call("charts", credential)
        return [Chart(MusicId(QQ, Kind.CHART, "26"), "Hot")]

    async def chart(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Chart:
        raise NotImplementedError


@dataclass
class CountingLeaser:
    """A ``CredentialLeaser`` over ``credentials`` ids: counts acquisitions and records
    every release with its result."""

    credentials: list[str] = field(default_factory=lambda: ["c1", "c2", "c3", "c4"])
    acquired: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    released: list[tuple[str, LeaseResult]] = field(default_factory=list)

    async def acquire(
        self, provider: str, capability: str, *, exclude: Collection[str] = ()
    ) -> Lease | None:
        self.acquired.append((provider, capability, tuple(exclude)))
        for credential in self.credentials:
            if credential not in exclude:
                secret = CredentialSecret(credential, PAYLOAD + credential.encode())
                return Lease(f"lease-{len(self.acquired)}", secret)
        return None

    async def release(self, lease: Lease, result: LeaseResult) -> None:
        self.released.append((lease.secret.credential_id, result))


@dataclass
class World:
    provider: ScriptedMusic
    leaser: CountingLeaser
    cache: MemoryMusicCache
    clock: ManualClock
    service: MusicService


@pytest.fixture
def world() -> World:
    clock = ManualClock()
    provider = ScriptedMusic(clock=clock)
    leaser = CountingLeaser()
    cache = MemoryMusicCache(clock)
    service = MusicService(
        {QQ: provider}, leaser=leaser, cache=cache, clock=clock,
        unavailable={ProviderName.NETEASE: "NetEase is not connected here"},
    )  # fmt: skip
    return World(provider, leaser, cache, clock, service)


# -- leases ---------------------------------------------------------------------------------


async def test_an_operation_that_needs_no_account_takes_no_lease(world: World) -> None:
    await world.service.song(SONG_ID)
    await world.service.search(QQ, "qing tian", SearchType.SONG, PageRequest())
    assert world.leaser.acquired == [] and world.leaser.released == []
    assert world.provider.credentials == [None, None]


async def test_a_play_url_takes_one_lease_and_releases_it_ok(world: World) -> None:
    url = await world.service.play_url(SONG_ID, Quality.MP3_320)
    assert url.audio is not None
    assert world.leaser.acquired == [("qqmusic", "play_url", ())]
    assert world.leaser.released == [("c1", LeaseResult.OK)]
    assert world.provider.credentials[0] == CredentialSecret("c1", PAYLOAD + b"c1")


async def test_retryable_failures_try_other_credentials_at_most_three(world: World) -> None:
    world.provider.failures = [UpstreamUnreachable("reset")] * 5
    with pytest.raises(MusicUpstreamFailed):
        await world.service.play_url(SONG_ID, Quality.MP3_128)
    assert [exclude for *_, exclude in world.leaser.acquired] == [(), ("c1",), ("c1", "c2")]
    assert world.leaser.released == [
        ("c1", LeaseResult.NETWORK_ERROR), ("c2", LeaseResult.NETWORK_ERROR),
        ("c3", LeaseResult.NETWORK_ERROR),
    ]  # fmt: skip
    assert world.provider.calls["play_url"] == 3


async def test_a_dead_login_is_released_as_such_and_the_next_credential_answers(
    world: World,
) -> None:
    world.provider.failures = [UpstreamAuthFailed("expired", upstream_code=1000)]
    url = await world.service.play_url(SONG_ID, Quality.MP3_128)
    assert url.audio is not None
    assert world.leaser.released == [("c1", LeaseResult.AUTH_FAILED), ("c2", LeaseResult.OK)]


@pytest.mark.parametrize(
    ("failure", "result", "error"),
    [
        (UpstreamNotFound("gone"), LeaseResult.NOT_FOUND, MusicNotFound),
        (UpstreamNoRights("no", reason="vip_required"), LeaseResult.NO_RIGHTS, None),
    ],
)
async def test_content_failures_are_not_retried_and_cost_the_account_nothing(
    world: World, failure: ProviderFailure, result: LeaseResult, error: type[DomainError] | None
) -> None:
    world.provider.failures = [failure]
    if error is None:
        # No rights to play is an answer, not an error: the URL says why.
        url = await world.service.play_url(SONG_ID, Quality.FLAC)
        assert url.audio is None and url.unavailable_reason is UnavailableReason.VIP_REQUIRED
    else:
        with pytest.raises(error):
            await world.service.play_url(SONG_ID, Quality.FLAC)
    assert world.leaser.released == [("c1", result)]
    assert len(world.leaser.acquired) == 1


async def test_an_upstream_rate_limit_answers_503_with_retry_after(world: World) -> None:
    world.provider.failures = [UpstreamRateLimit("2001", retry_after=42.2)] * 3
    with pytest.raises(MusicUpstreamRateLimited) as raised:
        await world.service.play_url(SONG_ID, Quality.MP3_128)
    assert raised.value.http_status == 503 and raised.value.retry_after == 43
    assert [r for _, r in world.leaser.released] == [LeaseResult.RATE_LIMITED] * 3


async def test_no_usable_credential_is_503(world: World) -> None:
    world.leaser.credentials = []
    with pytest.raises(NoUsableCredential) as raised:
        await world.service.play_url(SONG_ID, Quality.MP3_128)
    assert raised.value.http_status == 503 and world.provider.calls == {}


async def test_an_optional_account_is_used_when_there_is_one_else_none(world: World) -> None:
    playlist = MusicId(QQ, Kind.PLAYLIST, "7")
    await world.service.playlist(playlist, PageRequest())
    assert world.leaser.released == [("c1", LeaseResult.OK)]
    world.leaser.credentials = []
    await world.service.playlist(playlist, PageRequest(offset=20))
    assert world.provider.credentials[-1] is None


async def test_an_unexpected_client_error_still_frees_the_slot(world: World) -> None:
    world.provider.failures = [RuntimeError("bug")]  # type: ignore[list-item]
    with pytest.raises(RuntimeError):
        await world.service.play_url(SONG_ID, Quality.MP3_128)
    assert world.leaser.released == [("c1", LeaseResult.UPSTREAM_ERROR)]


# -- providers and errors ---------------------------------------------------------------------


async def test_unknown_unwired_and_unsupported(world: World) -> None:
    with pytest.raises(UnknownMusicProvider) as unknown:
        world.service.provider("spotify")
    assert unknown.value.http_status == 404
    with pytest.raises(MusicProviderUnavailable, match="NetEase is not connected here"):
        world.service.provider("netease")
    del world.provider.needs_map[Capability.CHARTS]
    with pytest.raises(MusicOperationUnsupported):
        await world.service.charts(QQ)
    infos = {i.name: i for i in world.service.providers()}
    assert infos[QQ].available and Capability.CHARTS not in infos[QQ].capabilities
    assert not infos[ProviderName.NETEASE].available
    assert infos[ProviderName.LOCAL].message  # not configured in this world


async def test_no_rights_errors_carry_their_reason(world: World) -> None:
    from domain.music.service import caller_error

    error = caller_error(UpstreamNoRights(reason="vip_required"))
    assert isinstance(error, MusicNoRights) and error.reason == "vip_required"
    assert error.http_status == 403


# -- caching and single flight ----------------------------------------------------------------


async def test_fifty_concurrent_identical_queries_reach_the_upstream_once(world: World) -> None:
    world.provider.delay = 0.02
    results = await asyncio.gather(
        *(world.service.search(QQ, "qing  tian ", SearchType.SONG, PageRequest())
          for _ in range(50))
    )  # fmt: skip
    assert world.provider.calls == {"search": 1}
    assert all(r == results[0] for r in results)
    # ... and the same query later is a cache hit.
    await world.service.search(QQ, "qing tian", SearchType.SONG, PageRequest())
    assert world.provider.calls == {"search": 1}


async def test_concurrent_play_urls_share_one_lease(world: World) -> None:
    world.provider.delay = 0.02
    await asyncio.gather(*(world.service.play_url(SONG_ID, Quality.FLAC) for _ in range(50)))
    assert world.provider.calls == {"play_url": 1} and len(world.leaser.acquired) == 1


async def test_a_failed_flight_fails_every_waiter_and_is_not_cached(world: World) -> None:
    world.provider.delay = 0.01
    world.provider.failures = [UpstreamNotFound()]
    outcomes = await asyncio.gather(
        *(world.service.song(SONG_ID) for _ in range(10)), return_exceptions=True
    )
    assert all(isinstance(o, MusicNotFound) for o in outcomes)
    assert (await world.service.song(SONG_ID)).title == "Qing Tian"
    assert world.provider.calls == {"song": 2}


async def test_searches_are_cached_ten_minutes_and_metadata_an_hour(world: World) -> None:
    search = world.service.search
    await search(QQ, "a", SearchType.SONG, PageRequest())
    await world.service.song(SONG_ID)
    world.clock.advance(599)
    await search(QQ, "a", SearchType.SONG, PageRequest())
    assert world.provider.calls == {"search": 1, "song": 1}
    world.clock.advance(2)
    await search(QQ, "a", SearchType.SONG, PageRequest())
    await world.service.song(SONG_ID)
    assert world.provider.calls == {"search": 2, "song": 1}
    world.clock.advance(3600)
    await world.service.song(SONG_ID)
    assert world.provider.calls["song"] == 2


async def test_answers_kept_in_process_skip_the_shared_cache_and_never_outlive_it(
    world: World,
) -> None:
    """perf (issue 18): with ``local_ttl`` a decoded answer is served from the process for
    that long, never past the shared entry's end; a play URL is never kept so."""
    service = MusicService(
        {QQ: world.provider}, leaser=world.leaser, cache=world.cache, clock=world.clock,
        unavailable={}, local_ttl=2.0,
    )  # fmt: skip
    reads: list[str] = []
    shared_get = world.cache.get_with_ttl

    async def counted(key: str) -> tuple[bytes, float] | None:
        reads.append(key)
        return await shared_get(key)

    world.cache.get_with_ttl = counted  # type: ignore[method-assign]
    first = await service.song(SONG_ID)  # a miss: loaded, kept in both
    assert await service.song(SONG_ID) == first
    assert len(reads) == 1 and world.provider.calls == {"song": 1}
    world.clock.advance(2.5)  # the local copy lapsed: the shared cache answers again
    assert await service.song(SONG_ID) == first
    assert len(reads) == 2 and world.provider.calls == {"song": 1}
    world.clock.advance(3600 - 2.5 - 1)  # one second left in the shared cache
    assert await service.song(SONG_ID) == first
    world.clock.advance(1.01)  # past the shared entry: not served from the process
    await service.song(SONG_ID)
    assert world.provider.calls == {"song": 2}
    await service.play_url(SONG_ID, Quality.MP3_128)
    await service.play_url(SONG_ID, Quality.MP3_128)
    assert world.provider.calls["play_url"] == 1  # from the shared cache, not kept locally
    assert not any(":url:" in key for key in service._local)  # looking underneath


async def test_requests_that_miss_a_lapsed_local_copy_together_share_one_shared_read(
    world: World,
) -> None:
    """perf (issue 18): when the kept answer lapses, the requests in flight for it all
    miss; one shared-cache read (and decode) answers them all."""
    service = MusicService(
        {QQ: world.provider}, leaser=world.leaser, cache=world.cache, clock=world.clock,
        unavailable={}, local_ttl=2.0,
    )  # fmt: skip
    first = await service.song(SONG_ID)
    world.clock.advance(2.5)
    reads: list[str] = []
    shared_get = world.cache.get_with_ttl

    async def slow(key: str) -> tuple[bytes, float] | None:
        reads.append(key)
        await asyncio.sleep(0.01)  # the round trip, during which the others arrive
        return await shared_get(key)

    world.cache.get_with_ttl = slow  # type: ignore[method-assign]
    answers = await asyncio.gather(*(service.song(SONG_ID) for _ in range(20)))
    assert answers == [first] * 20
    assert len(reads) == 1 and world.provider.calls == {"song": 1}
    assert await service.song(SONG_ID) == first and len(reads) == 1  # kept again


@pytest.mark.parametrize(
    ("expires", "kept"), [(timedelta(minutes=2), 120), (timedelta(hours=2), 600)]
)
async def test_play_urls_never_outlive_their_expiry_nor_ten_minutes(
    world: World, expires: timedelta, kept: int
) -> None:
    world.provider.expires_in = expires
    await world.service.play_url(SONG_ID, Quality.MP3_128)
    world.clock.advance(kept - 1)
    await world.service.play_url(SONG_ID, Quality.MP3_128)
    assert world.provider.calls == {"play_url": 1}
    world.clock.advance(2)
    await world.service.play_url(SONG_ID, Quality.MP3_128)
    assert world.provider.calls == {"play_url": 2}


async def test_cache_keys_and_values_never_hold_a_credential(world: World) -> None:
    await world.service.play_url(SONG_ID, Quality.MP3_320)
    await world.service.playlist(MusicId(QQ, Kind.PLAYLIST, "7"), PageRequest())
    items = world.cache._items  # looking underneath
    assert items
    for key, (_, value) in items.items():
        assert key.startswith("music:v1:qqmusic:")
        for secret in (PAYLOAD, b"c1", b"lease-"):
            assert secret.decode() not in key
            assert secret not in value


async def test_a_batch_fetches_only_uncached_songs_in_one_call(world: World) -> None:
    await world.service.song(SONG_ID)
    ids = [SONG_ID, MusicId(QQ, Kind.SONG, "a"), MusicId(QQ, Kind.SONG, "missing")]
    found = await world.service.songs(ids)
    assert [s.id.provider_id if s else None for s in found] == ["003OUlho2HcRHC", "a", None]
    assert world.provider.calls == {"song": 1, "songs": 1}
    await world.service.songs(ids[:2])
    assert world.provider.calls == {"song": 1, "songs": 1}


def test_the_cache_encoding_round_trips_the_model() -> None:
    song = a_song()
    page: Page[SearchItem] = Page((song, Album(song.id, "x", ())), 0, 2, False)
    assert codec.decode(codec.encode(page)) == page
    url = PlayUrl(SONG_ID, Quality.FLAC, None, UnavailableReason.VIP_REQUIRED)
    assert codec.decode(codec.encode(url)) == url
    assert codec.decode(codec.encode([song, None])) == [song, None]
    with pytest.raises(codec.CodecError):
        codec.decode(b'{"$": "Popen", "args": "rm -rf /"}')


async def test_the_memory_cache_is_bounded() -> None:
    cache = MemoryMusicCache(ManualClock(), max_entries=2)
    for key in ("a", "b", "c"):
        await cache.set(key, key.encode(), 60)
    assert await cache.get("a") is None and await cache.get("c") == b"c"


def test_an_upstream_rate_limit_tells_both_edges_when_to_retry() -> None:
    from graphql import GraphQLError

    from rest.envelope import Style, domain_failure
    from schema.extensions import map_error

    error = MusicUpstreamRateLimited(retry_after=42)
    response = domain_failure(Style.GIN, error)
    assert response.status_code == 503 and response.headers["Retry-After"] == "42"
    mapped = map_error(GraphQLError(error.message, original_error=error), "req-1")
    assert mapped.extensions == {"code": "MUSIC_UPSTREAM_RATE_LIMITED", "retryAfter": 42}
