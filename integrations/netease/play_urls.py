"""Reading NetEase's play-URL answers (``/song/enhance/player/url/v1``).

Each answer item is one song at the level NetEase chose: the level asked for, or the best
one below it this login may play (NetEase steps down on its own and says which in
``level``). An item is unavailable when it has no URL (``code`` 404: no copyright, or a VIP
song without a VIP login) or when it is only a preview: a VIP song played without VIP comes
back with a ~30 s clip and ``freeTrialInfo`` giving its bounds. A clip is never passed off
as the song: it is ``vip_required``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.music.model import AudioResource, Quality, UnavailableReason
from integrations.netease.levels import Level, parse_level
from integrations.netease.normalise import VIP_FEES, as_dict, as_int, as_list, as_str

MAX_URL_LIFETIME = 600
"""Seconds: a URL's ``expires_at`` is NetEase's ``expi`` (usually 1,200 s) capped at ten
minutes, so no cache keeps it past what the platform allows."""

_FORMATS = frozenset({"mp3", "flac", "m4a", "mp4", "ogg", "wav", "aac", "ec3"})


@dataclass(frozen=True, slots=True)
class UrlItem:
    url: str
    code: int
    level: Level | None
    fee: int
    trial: bool
    bitrate: int
    size: int
    file_type: str
    expires_in: int

    @classmethod
    def read(cls, entry: dict[str, Any]) -> UrlItem:
        return cls(
            url=as_str(entry.get("url")),
            code=as_int(entry.get("code")),
            level=parse_level(entry.get("level")),
            fee=as_int(entry.get("fee")),
            trial=bool(entry.get("freeTrialInfo")),
            bitrate=as_int(entry.get("br")),
            size=as_int(entry.get("size")),
            file_type=as_str(entry.get("type")).lower(),
            expires_in=as_int(entry.get("expi")),
        )

    @property
    def unavailable_reason(self) -> UnavailableReason | None:
        if self.trial:
            return UnavailableReason.VIP_REQUIRED
        if not self.url or self.code != 200:
            if self.fee in VIP_FEES:
                return UnavailableReason.VIP_REQUIRED
            return UnavailableReason.NO_RIGHTS
        return None

    @property
    def format(self) -> str:
        if self.file_type in _FORMATS:
            return self.file_type
        extension = self.url.rsplit("?", 1)[0].rsplit(".", 1)[-1].lower()
        return extension if extension in _FORMATS else "mp3"

    def audio(self, quality: Quality, now: datetime) -> AudioResource:
        # An answer without expi gets the cap: still never past the platform's limit.
        lifetime = (
            min(self.expires_in, MAX_URL_LIFETIME) if self.expires_in > 0 else MAX_URL_LIFETIME
        )
        return AudioResource(
            url=self.url,
            quality=quality,
            format=self.format,
            expires_at=now + timedelta(seconds=lifetime),
            size_bytes=self.size or None,
            bitrate_kbps=self.bitrate // 1000 or None,
        )


def item_for(body: dict[str, Any], song_id: int) -> UrlItem | None:
    """The answer's item for ``song_id`` (``None`` when NetEase left it out)."""
    entries = [as_dict(e) for e in as_list(body.get("data"))]
    for entry in entries:
        if as_int(entry.get("id")) == song_id:
            return UrlItem.read(entry)
    return None
