"""QQ Music's JSON shapes, read into the provider-independent music model.

Ids are the upstream's ``mid`` strings (``qqmusic:song:003OUlho2HcRHC``); playlists and
charts only have numeric ids. Durations arrive as seconds (``interval``). Covers and photos
are built from the album / singer mid on the image host, as QQ's own pages do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.music.model import (
    Album,
    AlbumRef,
    Artist,
    ArtistRef,
    Chart,
    Creator,
    Image,
    Kind,
    MusicId,
    Page,
    Playlist,
    ProviderName,
    Song,
)
from integrations.qqmusic.qualities import available_qualities
from integrations.qqmusic.raw import JsonObject, number, obj, objects, text

COVER_SIZES = (300, 800)
VIP_PAY_PLAY = 1
"""``pay.pay_play == 1``: only a VIP account (or a purchase) may play the song."""


def music_id(kind: Kind, provider_id: str) -> MusicId:
    return MusicId(ProviderName.QQMUSIC, kind, provider_id)


def parse_date(value: str) -> date | None:
    """``YYYY-MM-DD`` (or a prefix of it); QQ writes ``0000-00-00`` for "unknown"."""
    for length, fmt in ((10, "%Y-%m-%d"), (7, "%Y-%m"), (4, "%Y")):
        try:
            parsed = datetime.strptime(value[:length], fmt).date()
        except ValueError:
            continue
        return parsed
    return None


class Normaliser:
    def __init__(self, image_url: str) -> None:
        self._image_url = image_url if image_url.endswith("/") else image_url + "/"

    # -- images --------------------------------------------------------------------------

    def _photos(self, kind: str, mid: str) -> tuple[Image, ...]:
        if not mid:
            return ()
        return tuple(
            Image(f"{self._image_url}{kind}R{size}x{size}M000{mid}.jpg", size, size)
            for size in COVER_SIZES
        )

    def album_cover(self, album_mid: str) -> tuple[Image, ...]:
        return self._photos("T002", album_mid)

    def artist_photo(self, singer_mid: str) -> tuple[Image, ...]:
        return self._photos("T001", singer_mid)

    # -- songs ---------------------------------------------------------------------------

    def artist_refs(self, singers: list[JsonObject]) -> tuple[ArtistRef, ...]:
        refs = []
        for singer in singers:
            mid = text(singer, "mid", "singerMid", "singerMID", "SingerMid", "singer_mid")
            if mid:
                name = text(singer, "name", "title", "singerName", "Name", "singer_name")
                refs.append(ArtistRef(music_id(Kind.ARTIST, mid), name))
        return tuple(refs)

    def song(self, track: JsonObject) -> Song | None:
        """``None`` for a stub the upstream sends in place of an unknown song."""
        mid = text(track, "mid", "songmid", "songMid")
        if not mid:
            return None
        song_id = number(track, "id", "songid", "songId")
        album = obj(track, "album")
        album_mid = text(album, "mid", "albumMid", "albumMID", "pmid")
        singers = objects(track, "singer", "singers")
        file_info = obj(track, "file")
        qualities = available_qualities(file_info)
        album_ref = None
        if album_mid:
            album_ref = AlbumRef(
                music_id(Kind.ALBUM, album_mid),
                text(album, "name", "title", "albumName"),
                parse_date(text(album, "time_public")),
                self.album_cover(album_mid),
            )
        images = self.album_cover(album_mid)
        if not images and singers:
            images = self.artist_photo(text(singers[0], "mid", "singerMid"))
        provider_ids = [("qqId", str(song_id))] if song_id else []
        if media_mid := text(file_info, "media_mid"):
            provider_ids.append(("mediaMid", media_mid))
        return Song(
            id=music_id(Kind.SONG, mid),
            title=text(track, "name", "title", "songname"),
            artists=self.artist_refs(singers),
            album=album_ref,
            duration_ms=number(track, "interval") * 1000,
            playable=bool(qualities),
            requires_vip=number(obj(track, "pay"), "pay_play") == VIP_PAY_PLAY,
            available_qualities=qualities,
            subtitle=text(track, "subtitle"),
            publish_date=parse_date(text(track, "time_public")),
            track_number=number(track, "index_album") or None,
            images=images,
            provider_ids=tuple(provider_ids),
        )

    def songs(self, tracks: list[JsonObject]) -> list[Song]:
        return [song for song in map(self.song, tracks) if song is not None]

    # -- albums --------------------------------------------------------------------------

    def album_ref(self, item: JsonObject) -> AlbumRef | None:
        mid = text(item, "albumMid", "albumMID", "mid", "album_mid")
        if not mid:
            return None
        return AlbumRef(
            music_id(Kind.ALBUM, mid),
            text(item, "albumName", "name", "title"),
            parse_date(text(item, "publishDate", "publish_date", "time_public", "pub_time")),
            self.album_cover(mid),
        )

    def album(self, detail: JsonObject, songs: tuple[Song, ...], total: int) -> Album | None:
        info = obj(detail, "basicInfo")
        mid = text(info, "albumMid", "albumMID", "mid")
        if not mid:
            return None
        return Album(
            id=music_id(Kind.ALBUM, mid),
            title=text(info, "albumName", "name", "title"),
            artists=self.artist_refs(objects(obj(detail, "singer"), "singerList")),
            release_date=parse_date(text(info, "publishDate", "time_public")),
            images=self.album_cover(mid),
            description=text(info, "desc"),
            song_count=total or len(songs),
            songs=songs,
        )

    def album_summary(self, item: JsonObject) -> Album | None:
        """A search hit."""
        ref = self.album_ref(item)
        if ref is None:
            return None
        pic = text(item, "pic", "albumPic")
        return Album(
            id=ref.id,
            title=ref.title,
            artists=self.artist_refs(objects(item, "singer_list", "singers")),
            release_date=ref.release_date,
            images=ref.images or ((Image(pic),) if pic else ()),
            song_count=number(item, "song_count", "songNum", "totalNum") or None,
        )

    # -- artists -------------------------------------------------------------------------

    def artist(
        self,
        header: JsonObject,
        detail: JsonObject,
        songs: Page[Song] | None,
        albums: Page[AlbumRef] | None,
    ) -> Artist | None:
        info = obj(header, "Info")
        singer = obj(info, "Singer")
        mid = text(singer, "SingerMid", "singerMid", "mid")
        if not mid:
            return None
        base = obj(info, "BaseInfo")
        avatar = text(singer, "SingerPic") or text(base, "Avatar")
        images = (Image(avatar),) if avatar else self.artist_photo(mid)[:1]
        if background := text(base, "BackgroundImage"):
            images += (Image(background),)
        described = next(iter(objects(detail, "singer_list")), {})
        return Artist(
            id=music_id(Kind.ARTIST, mid),
            name=text(singer, "Name", "name") or text(base, "Name"),
            images=images,
            description=text(obj(described, "ex_info"), "desc") or text(described, "wiki"),
            songs=songs,
            albums=albums,
        )

    def artist_summary(self, item: JsonObject) -> Artist | None:
        mid = text(item, "singerMID", "singerMid", "mid")
        if not mid:
            return None
        pic = text(item, "singerPic", "pic")
        return Artist(
            id=music_id(Kind.ARTIST, mid),
            name=text(item, "singerName", "name"),
            images=(Image(pic),) if pic else self.artist_photo(mid)[:1],
        )

    # -- playlists -----------------------------------------------------------------------

    def playlist(self, answer: JsonObject, songs: Page[Song]) -> Playlist | None:
        info = obj(answer, "dirinfo")
        playlist_id = number(info, "id", "tid", "dissid")
        if not playlist_id:
            return None
        creator = obj(info, "creator")
        pic = text(info, "picurl", "logo", "cover")
        return Playlist(
            id=music_id(Kind.PLAYLIST, str(playlist_id)),
            title=text(info, "title", "dissname", "name"),
            description=text(info, "desc", "description"),
            images=(Image(pic),) if pic else (),
            creator=(
                Creator(
                    text(creator, "musicid", "encrypt_uin"),
                    text(creator, "nick", "name"),
                    text(creator, "headurl") or None,
                )
                if creator
                else None
            ),
            song_count=number(answer, "total_song_num") or number(info, "songnum"),
            play_count=number(info, "listennum") or None,
            songs=songs,
        )

    def playlist_summary(self, item: JsonObject) -> Playlist | None:
        playlist_id = number(item, "dissid", "id", "tid")
        if not playlist_id:
            return None
        pic = text(item, "logo", "picurl", "cover")
        creator_name = text(item, "nickname") or text(obj(item, "creator"), "name", "nick")
        return Playlist(
            id=music_id(Kind.PLAYLIST, str(playlist_id)),
            title=text(item, "dissname", "title", "name"),
            description=text(item, "desc", "introduction", "description"),
            images=(Image(pic),) if pic else (),
            creator=Creator("", creator_name) if creator_name else None,
            song_count=number(item, "songnum", "song_count", "songNum"),
            play_count=number(item, "listennum", "play_cnt", "playCnt") or None,
        )

    # -- charts --------------------------------------------------------------------------

    def chart(self, summary: JsonObject, songs: Page[Song] | None = None) -> Chart | None:
        top_id = number(summary, "topId", "id")
        if not top_id:
            return None
        pictures = [text(summary, key) for key in ("headPicUrl", "frontPicUrl")]
        updated = parse_date(text(summary, "updateTime"))
        return Chart(
            id=music_id(Kind.CHART, str(top_id)),
            title=text(summary, "title", "titleDetail"),
            description=text(summary, "intro"),
            images=tuple(Image(url) for url in dict.fromkeys(pictures) if url),
            period=text(summary, "period") or None,
            updated_at=datetime(updated.year, updated.month, updated.day, tzinfo=UTC)
            if updated
            else None,
            songs=songs,
        )
