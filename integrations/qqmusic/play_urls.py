"""Play URLs: which file of a song to ask for, on which host, and why there is none.

The track info says which quality files exist (their sizes). Every wanted quality that
exists is asked for in one body (plain files from ``UrlGetVkey``, encrypted ones from
``CgiGetEVkey``); the first quality, in the caller's order, whose answer carries a ``purl``
wins. An empty ``purl`` means the account may not play that file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from domain.clock import Clock
from domain.music.model import (
    AudioResource,
    Kind,
    PlayUrl,
    Quality,
    UnavailableReason,
)
from integrations.qqmusic import calls
from integrations.qqmusic.config import QQMusicConfig
from integrations.qqmusic.credential import QQCredential
from integrations.qqmusic.normalise import VIP_PAY_PLAY, music_id
from integrations.qqmusic.qualities import QUALITY_FILES, QualityFile
from integrations.qqmusic.raw import JsonObject, number, obj, objects, strings, text
from integrations.qqmusic.transport import MusicuTransport

REFUSED_CDN_MARK = "dl.stream"
"""``sip`` hosts on ``dl.stream.qqmusic.qq.com`` refuse most clients; others are preferred."""


def choose_host(sips: Sequence[str], default: str) -> str:
    for host in sips:
        if host.startswith(("http://", "https://")) and REFUSED_CDN_MARK not in host:
            return host if host.endswith("/") else host + "/"
    return default if default.endswith("/") else default + "/"


class PlayUrlResolver:
    def __init__(self, config: QQMusicConfig, transport: MusicuTransport, clock: Clock) -> None:
        self._config = config
        self._transport = transport
        self._clock = clock

    async def resolve(
        self,
        provider_id: str,
        track: JsonObject,
        qualities: Sequence[Quality],
        credential: QQCredential | None,
    ) -> PlayUrl:
        song_id = music_id(Kind.SONG, provider_id)
        requested = qualities[0]
        file_info = obj(track, "file")
        existing = [QUALITY_FILES[q] for q in QUALITY_FILES if QUALITY_FILES[q].size(file_info)]
        if not existing:
            # No file at all: the song is delisted or blocked for everyone.
            return PlayUrl(song_id, requested, None, UnavailableReason.NO_RIGHTS)
        wanted = [QUALITY_FILES[q] for q in dict.fromkeys(qualities)]
        candidates = [f for f in wanted if f.size(file_info)]
        if not candidates:
            return PlayUrl(song_id, requested, None, UnavailableReason.QUALITY_UNAVAILABLE)

        mid = text(track, "mid")
        answers = await self._ask(mid, text(file_info, "media_mid"), candidates, credential)
        for candidate in candidates:
            found = answers.get(candidate.quality)
            if found is not None:
                url, expiration = found
                return PlayUrl(
                    song_id, requested, self._audio(candidate, url, file_info, expiration)
                )
        vip_only = number(obj(track, "pay"), "pay_play") == VIP_PAY_PLAY
        reason = UnavailableReason.VIP_REQUIRED if vip_only else UnavailableReason.NO_RIGHTS
        return PlayUrl(song_id, requested, None, reason)

    async def _ask(
        self,
        mid: str,
        media_mid: str,
        candidates: list[QualityFile],
        credential: QQCredential | None,
    ) -> dict[Quality, tuple[str, int]]:
        """Quality -> (full URL, the upstream's expiration in seconds) for every file the
        upstream hands out."""
        uin = credential.uin if credential else "0"
        groups = [
            [f for f in candidates if f.encrypted is encrypted] for encrypted in (False, True)
        ]
        groups = [group for group in groups if group]
        requests = [
            calls.play_urls(
                [f.file_name(mid, media_mid) for f in group],
                mid,
                uin,
                self._transport.guid,
                encrypted=group[0].encrypted,
            )
            for group in groups
        ]
        answers = await self._transport.call_many(requests, credential, comm=self._config.vkey_comm)
        found: dict[Quality, tuple[str, int]] = {}
        for group, answer in zip(groups, answers, strict=True):
            host = choose_host(strings(answer, "sip"), self._config.stream_url)
            expiration = number(answer, "expiration")
            names = [f.file_name(mid, media_mid) for f in group]
            by_name = {
                text(item, "filename") or (names[i] if i < len(names) else ""): item
                for i, item in enumerate(objects(answer, "midurlinfo"))
            }
            for f in group:
                item = by_name.get(f.file_name(mid, media_mid), {})
                path = text(item, "purl", "wifiurl")
                if path:
                    found[f.quality] = (host + path.lstrip("/"), expiration)
        return found

    def _audio(
        self, file: QualityFile, url: str, file_info: JsonObject, expiration: int
    ) -> AudioResource:
        ttl = self._config.play_url_max_ttl_s
        if expiration > 0:
            ttl = min(ttl, expiration)
        return AudioResource(
            url=url,
            quality=file.quality,
            format=file.format,
            expires_at=self._clock.now() + timedelta(seconds=ttl),
            size_bytes=file.size(file_info) or None,
            bitrate_kbps=file.bitrate_kbps,
        )
