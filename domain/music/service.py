"""The music service: every music query, whichever provider answers it.

For each operation it finds the provider, borrows a pool credential only when the
operation's ``CredentialNeed`` calls for one, retries on another credential only after a
retryable failure (at most ``max_attempts`` credentials), releases every lease with the
outcome's taxonomy result, and turns provider failures into the errors callers see.
Answers are cached (metadata 1 h, searches 10 min, play URLs no longer than their own
expiry and at most 10 min) under keys that name the provider, the operation and its
arguments, never a credential; concurrent identical upstream requests share one call
(single flight).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from domain.clock import Clock
from domain.leases import CredentialLeaser, CredentialSecret, LeaseResult
from domain.music import codec
from domain.music.errors import (
    MusicNoRights,
    MusicNotFound,
    MusicOperationUnsupported,
    MusicProviderUnavailable,
    MusicQueryTooLong,
    MusicUpstreamFailed,
    MusicUpstreamRateLimited,
    NoUsableCredential,
    ProviderFailure,
    UnknownMusicProvider,
    UpstreamAuthFailed,
    UpstreamNoRights,
    UpstreamNotFound,
    UpstreamRateLimit,
)
from domain.music.model import (
    Album,
    Artist,
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
    fallback_chain,
)
from domain.music.ports import Capability, CredentialNeed, MusicCache, MusicProvider
from domain.observations import Observations
from domain.singleflight import SingleFlight

log = logging.getLogger("karpov.music")

T = TypeVar("T")

METADATA_TTL = 3600.0
SEARCH_TTL = 600.0
PLAY_URL_MAX_TTL = 600.0
MAX_ATTEMPTS = 3
MAX_QUERY = 200
CACHE_VERSION = "v1"
LOCAL_TTL = 2.0
"""perf (issue 18): what ``bootstrap`` keeps decoded answers for in each process."""
LOCAL_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    name: ProviderName
    display_name: str
    available: bool
    capabilities: tuple[Capability, ...]
    """What the provider can answer (empty when it is not available here)."""
    message: str | None = None
    """Why it is not available, when it is not."""


class MusicService:
    def __init__(
        self,
        providers: Mapping[ProviderName, MusicProvider],
        *,
        leaser: CredentialLeaser,
        cache: MusicCache,
        clock: Clock,
        unavailable: Mapping[ProviderName, str],
        max_attempts: int = MAX_ATTEMPTS,
        local_ttl: float = 0.0,
        observations: Observations | None = None,  # worker (issue 17): metrics
    ) -> None:
        """``unavailable``: providers without a client on this server, and the message
        their callers get (503). ``local_ttl`` (perf, issue 18): seconds a decoded answer
        with a fixed lifetime (metadata, searches; never a play URL) is also kept in this
        process, in front of the shared cache; 0 keeps none."""
        self._observe = observations or Observations()
        self._providers = dict(providers)
        self._leaser = leaser
        self._cache = cache
        self._clock = clock
        self._unavailable = dict(unavailable)
        self._max_attempts = max_attempts
        self._flights = SingleFlight()
        # perf (issue 18): when a kept answer lapses, every request in flight for it
        # misses at once; they share one shared-cache read and one decode.
        self._refreshes = SingleFlight()
        self._local_ttl = local_ttl
        self._local: dict[str, tuple[float, Any]] = {}

    # -- providers ------------------------------------------------------------------------

    def providers(self) -> list[ProviderInfo]:
        infos: list[ProviderInfo] = []
        for name in ProviderName:
            provider = self._providers.get(name)
            if provider is not None:
                infos.append(ProviderInfo(name, provider.display_name, True, tuple(provider.needs)))
            else:
                message = self._unavailable.get(name, _NOT_CONFIGURED)
                infos.append(ProviderInfo(name, _DISPLAY.get(name, name.value), False, (), message))
        return infos

    def provider(self, name: str | ProviderName) -> MusicProvider:
        """The provider called ``name``: 404 when there is no such provider, 503 when it
        has no client on this server."""
        if type(name) is ProviderName:  # perf (issue 18): already one (every call)
            key = name
        else:
            try:
                key = ProviderName(name)
            except ValueError:
                raise UnknownMusicProvider(f"unknown music provider {name!r}") from None
        found = self._providers.get(key)
        if found is None:
            raise MusicProviderUnavailable(self._unavailable.get(key, _NOT_CONFIGURED))
        return found

    # -- operations -----------------------------------------------------------------------

    async def song(self, id: MusicId) -> Song:
        _kind(id, Kind.SONG)
        provider = self.provider(id.provider)
        return await self._cached(
            _key(id.provider, "song", id.provider_id), METADATA_TTL,
            lambda: self._call(provider, Capability.SONG,
                               lambda c: provider.song(id.provider_id, c)),
        )  # fmt: skip

    async def songs(self, ids: Sequence[MusicId]) -> list[Song | None]:
        """In the order asked; ``None`` for a song nobody knows. One upstream call per
        provider for the songs not cached."""
        found: dict[MusicId, Song | None] = {}
        missing: dict[ProviderName, list[MusicId]] = {}
        for id in dict.fromkeys(ids):
            _kind(id, Kind.SONG)
            cached = await self._cache_get(_key(id.provider, "song", id.provider_id))
            if isinstance(cached, Song):
                found[id] = cached
            else:
                missing.setdefault(id.provider, []).append(id)
        for name, wanted in missing.items():
            loaded = await self._songs_of(self.provider(name), wanted)
            found.update(zip(wanted, loaded, strict=True))
        return [found.get(id) for id in ids]

    async def _songs_of(self, provider: MusicProvider, ids: list[MusicId]) -> list[Song | None]:
        raw = sorted({i.provider_id for i in ids})
        if Capability.SONGS not in provider.needs:
            singles = await asyncio.gather(*(self._maybe_song(i) for i in ids))
            return list(singles)

        async def load() -> dict[str, Song | None]:
            songs = await self._call(provider, Capability.SONGS, lambda c: provider.songs(raw, c))
            for song in songs:
                if song is not None:
                    await self._cache_set(
                        _key(provider.name, "song", song.id.provider_id), song, METADATA_TTL
                    )
            return dict(zip(raw, songs, strict=True))

        key = _key(provider.name, "songs", *raw)
        by_id = await self._flights.run(key, load)
        return [by_id.get(i.provider_id) for i in ids]

    async def _maybe_song(self, id: MusicId) -> Song | None:
        try:
            return await self.song(id)
        except MusicNotFound:
            return None

    async def search(
        self, provider_name: str | ProviderName, query: str, type: SearchType, page: PageRequest
    ) -> Page[SearchItem]:
        provider = self.provider(provider_name)
        text = " ".join(query.split())
        if not 1 <= len(text) <= MAX_QUERY:
            raise MusicQueryTooLong(field="query")
        key = _key(provider.name, "search", type.value, str(page.offset), str(page.limit), text)
        return await self._cached(
            key, SEARCH_TTL,
            lambda: self._call(provider, Capability.SEARCH,
                               lambda c: provider.search(text, type, page, c)),
        )  # fmt: skip

    async def play_url(self, id: MusicId, quality: Quality) -> PlayUrl:
        """A URL at ``quality`` or the next lower one available, or none with the reason
        (never an error for "not playable": the answer says why)."""
        _kind(id, Kind.SONG)
        provider = self.provider(id.provider)
        chain = fallback_chain(quality)

        def ttl(answer: PlayUrl) -> float:
            if answer.audio is None:
                return PLAY_URL_MAX_TTL
            left = (answer.audio.expires_at - self._clock.now()).total_seconds()
            return min(PLAY_URL_MAX_TTL, left)

        async def load() -> PlayUrl:
            try:
                return await self._call(
                    provider, Capability.PLAY_URL,
                    lambda c: provider.play_url(id.provider_id, chain, c),
                )  # fmt: skip
            except MusicNoRights as refused:
                reason = _reason(refused.reason)
                return PlayUrl(song_id=id, requested=quality, audio=None, unavailable_reason=reason)

        return await self._cached(
            _key(id.provider, "url", id.provider_id, quality.value), ttl, load
        )

    async def lyrics(self, id: MusicId) -> Lyrics:
        _kind(id, Kind.SONG)
        provider = self.provider(id.provider)
        return await self._cached(
            _key(id.provider, "lyrics", id.provider_id), METADATA_TTL,
            lambda: self._call(provider, Capability.LYRICS,
                               lambda c: provider.lyrics(id.provider_id, c)),
        )  # fmt: skip

    async def album(self, id: MusicId) -> Album:
        _kind(id, Kind.ALBUM)
        provider = self.provider(id.provider)
        return await self._cached(
            _key(id.provider, "album", id.provider_id), METADATA_TTL,
            lambda: self._call(provider, Capability.ALBUM,
                               lambda c: provider.album(id.provider_id, c)),
        )  # fmt: skip

    async def artist(self, id: MusicId, page: PageRequest) -> Artist:
        _kind(id, Kind.ARTIST)
        provider = self.provider(id.provider)
        key = _key(id.provider, "artist", id.provider_id, str(page.offset), str(page.limit))
        return await self._cached(
            key, METADATA_TTL,
            lambda: self._call(provider, Capability.ARTIST,
                               lambda c: provider.artist(id.provider_id, page, c)),
        )  # fmt: skip

    async def playlist(self, id: MusicId, page: PageRequest) -> Playlist:
        _kind(id, Kind.PLAYLIST)
        provider = self.provider(id.provider)
        key = _key(id.provider, "playlist", id.provider_id, str(page.offset), str(page.limit))
        return await self._cached(
            key, METADATA_TTL,
            lambda: self._call(provider, Capability.PLAYLIST,
                               lambda c: provider.playlist(id.provider_id, page, c)),
        )  # fmt: skip

    async def charts(self, provider_name: str | ProviderName) -> list[Chart]:
        provider = self.provider(provider_name)
        found = await self._cached(
            _key(provider.name, "charts"), METADATA_TTL,
            lambda: self._call(provider, Capability.CHARTS, lambda c: provider.charts(c)),
        )  # fmt: skip
        return list(found)

    async def chart(self, id: MusicId, page: PageRequest) -> Chart:
        _kind(id, Kind.CHART)
        provider = self.provider(id.provider)
        key = _key(id.provider, "chart", id.provider_id, str(page.offset), str(page.limit))
        return await self._cached(
            key, METADATA_TTL,
            lambda: self._call(provider, Capability.CHARTS,
                               lambda c: provider.chart(id.provider_id, page, c)),
        )  # fmt: skip

    # -- caching and single flight --------------------------------------------------------

    async def _cached(
        self, key: str, ttl: float | Callable[[Any], float], load: Callable[[], Awaitable[T]]
    ) -> T:
        local = self._local_ttl > 0 and not callable(ttl)
        now = self._clock.now().timestamp() if local else 0.0
        if local:
            hit = self._local.get(key)
            if hit is not None and now < hit[0]:
                return hit[1]  # type: ignore[no-any-return]  # (perf: cast() is a call)
        if local:
            fresh = await self._refreshes.run(key, lambda: self._cache_get_fresh(key))
            if fresh is not None:
                self._keep_locally(key, fresh[0], now, fresh[1])
                return cast(T, fresh[0])
        else:
            cached = await self._cache_get(key)
            if cached is not None:
                return cast(T, cached)

        async def load_and_keep() -> T:
            value = await load()
            seconds = ttl(value) if callable(ttl) else ttl
            if seconds > 0:
                await self._cache_set(key, value, seconds)
                if local:
                    self._keep_locally(key, value, self._clock.now().timestamp(), seconds)
            return value

        return await self._flights.run(key, load_and_keep)

    def _keep_locally(self, key: str, value: Any, now: float, left: float) -> None:
        """The decoded answer, for ``local_ttl`` seconds and never past the shared entry's
        own end (``left`` seconds): a metered call's cache hit then costs neither a
        shared-cache round trip nor a decode, and serves what the shared cache would."""
        if len(self._local) >= LOCAL_MAX_ENTRIES:
            self._local.clear()
        self._local[key] = (now + min(self._local_ttl, left), value)

    async def _cache_get_fresh(self, key: str) -> tuple[Any, float] | None:
        try:
            found = await self._cache.get_with_ttl(key)
            return None if found is None else (codec.decode(found[0]), found[1])
        except Exception:
            log.warning("music cache read failed", exc_info=True, extra={"key": key})
            return None

    async def _cache_get(self, key: str) -> Any:
        try:
            raw = await self._cache.get(key)
            return None if raw is None else codec.decode(raw)
        except Exception:
            # A cache that fails (Redis down, an old entry) only costs an upstream call.
            log.warning("music cache read failed", exc_info=True, extra={"key": key})
            return None

    async def _cache_set(self, key: str, value: Any, ttl: float) -> None:
        try:
            await self._cache.set(key, codec.encode(value), ttl)
        except Exception:
            log.warning("music cache write failed", exc_info=True, extra={"key": key})

    # -- credentials and failures ---------------------------------------------------------

    async def _call(
        self,
        provider: MusicProvider,
        capability: Capability,
        op: Callable[[CredentialSecret | None], Awaitable[T]],
    ) -> T:
        timed = self._timed(provider.name.value, capability.value, op)
        return await self._call_with_credentials(provider, capability, timed)

    def _timed(
        self, provider: str, operation: str, op: Callable[[CredentialSecret | None], Awaitable[T]]
    ) -> Callable[[CredentialSecret | None], Awaitable[T]]:
        """``op`` reporting each call's status and latency (worker, issue 17: metrics)."""

        async def call(secret: CredentialSecret | None) -> T:
            started, status = time.perf_counter(), "error"
            try:
                result = await op(secret)
                status = "ok"
                return result
            except ProviderFailure as failure:
                status = failure.result.value
                raise
            except asyncio.CancelledError:
                status = "cancelled"
                raise
            finally:
                self._observe.upstream_call(
                    provider, operation, status, time.perf_counter() - started
                )

        return call

    async def _call_with_credentials(
        self,
        provider: MusicProvider,
        capability: Capability,
        op: Callable[[CredentialSecret | None], Awaitable[T]],
    ) -> T:
        need = provider.needs.get(capability)
        if need is None:
            raise MusicOperationUnsupported(
                f"{provider.name.value} does not offer {capability.value}"
            )
        if need is CredentialNeed.NONE:
            return await _without_credential(op)
        tried: list[str] = []
        last: ProviderFailure | None = None
        for _ in range(self._max_attempts):
            lease = await self._leaser.acquire(
                provider.name.value, capability.value, exclude=tuple(tried)
            )
            if lease is None:
                if need is CredentialNeed.OPTIONAL and not tried:
                    return await _without_credential(op)
                break
            tried.append(lease.secret.credential_id)
            try:
                result = await op(lease.secret)
            except ProviderFailure as failure:
                await self._leaser.release(lease, failure.result)
                log.info(
                    "music upstream failed",
                    extra={"provider": provider.name.value, "capability": capability.value,
                           "credential": lease.secret.credential_id,
                           "result": failure.result.value, "upstream_code": failure.upstream_code},
                )  # fmt: skip
                if not failure.retryable:
                    raise caller_error(failure) from None
                last = failure
                continue
            except asyncio.CancelledError:
                # The caller went away: not the account's fault (no penalty), slot freed.
                await asyncio.shield(self._leaser.release(lease, LeaseResult.NOT_FOUND))
                raise
            except Exception:
                await self._leaser.release(lease, LeaseResult.UPSTREAM_ERROR)
                raise
            await self._leaser.release(lease, LeaseResult.OK)
            return result
        if last is None:
            raise NoUsableCredential()
        raise caller_error(last) from None


async def _without_credential(op: Callable[[CredentialSecret | None], Awaitable[T]]) -> T:
    try:
        return await op(None)
    except UpstreamAuthFailed:
        raise NoUsableCredential() from None
    except ProviderFailure as failure:
        raise caller_error(failure) from None


def caller_error(failure: ProviderFailure) -> Exception:
    """What the caller sees of a provider failure."""
    if isinstance(failure, UpstreamNotFound):
        return MusicNotFound()
    if isinstance(failure, UpstreamNoRights):
        reason = _reason(failure.reason)
        return MusicNoRights(_NO_RIGHTS_MESSAGES[reason], reason=reason.value)
    if isinstance(failure, UpstreamRateLimit):
        return MusicUpstreamRateLimited(retry_after=math.ceil(failure.retry_after or 60))
    if isinstance(failure, UpstreamAuthFailed):
        return NoUsableCredential()
    return MusicUpstreamFailed()


def _reason(text: str | None) -> UnavailableReason:
    try:
        return UnavailableReason(text or UnavailableReason.NO_RIGHTS)
    except ValueError:
        return UnavailableReason.NO_RIGHTS


_NO_RIGHTS_MESSAGES = {
    UnavailableReason.VIP_REQUIRED: "this song needs a VIP account",
    UnavailableReason.NO_RIGHTS: "this content cannot be played",
    UnavailableReason.QUALITY_UNAVAILABLE: "no playable quality for this song",
}
_NOT_CONFIGURED = "this music provider is not available on this server"
_DISPLAY = {ProviderName.QQMUSIC: "QQ Music", ProviderName.NETEASE: "NetEase Cloud Music",
            ProviderName.LOCAL: "Local catalog"}  # fmt: skip


def _kind(id: MusicId, kind: Kind) -> None:
    if id.kind is not kind:
        raise MusicNotFound(f"{id} is not a {kind.value}")


def _key(provider: ProviderName, operation: str, *args: str) -> str:
    """``music:v1:<provider>:<operation>:<args>``; long arguments are hashed so a key stays
    short. Credentials never take part."""
    joined = "\x1f".join(args)
    if len(joined) > 120:
        joined = "#" + hashlib.sha256(joined.encode()).hexdigest()
    # perf (issue 18): a member's ``_value_`` is its ``value`` without the property.
    return f"music:{CACHE_VERSION}:{provider._value_}:{operation}:{joined}"
