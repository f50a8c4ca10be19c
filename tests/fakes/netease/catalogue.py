"""The fake NetEase's music: a small catalogue, and the JSON NetEase answers about it.

Entry shapes follow NetEase's real answers (song detail with ``ar``/``al``/``dt``/``fee``,
the privilege with ``st``/``pl``/``maxBrLevel``/``plLevel``/``flLevel``, the play-URL item
with ``code``/``expi``/``level``/``freeTrialInfo``, playlist detail with a complete
``trackIds``, toplists, lyric v1 with ``lrc``/``tlyric``/``romalrc``/``yrc``) as captured in
public client fixtures and the NeteaseCloudMusicApi documentation.

What a caller may play follows NetEase's rules: a free or fee-8 song plays in full up to its
``free_level`` for anyone; a VIP (fee 1) song plays in full only to a VIP login and is a
~30 s preview (``freeTrialInfo``) for everyone else; a song without copyright has no URL
(item ``code`` 404) and a grey privilege (``st`` -200).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("standard", "higher", "exhigh", "lossless", "hires", "jyeffect", "sky", "jymaster")
"""NetEase's levels, worst to best."""

_BITRATE = {
    "standard": 128000,
    "higher": 192000,
    "exhigh": 320000,
    "lossless": 999000,
    "hires": 1999000,
    "jyeffect": 1999000,
    "sky": 1999000,
    "jymaster": 1999000,
}
_FILES = (("l", "standard"), ("m", "higher"), ("h", "exhigh"), ("sq", "lossless"), ("hr", "hires"))
PIC = "http://p1.music.126.net/{tag}==/{pic}.jpg"


def rank(level: str) -> int:
    return LEVELS.index(level)


def pic_url(seed: int) -> str:
    tag = hashlib.md5(str(seed).encode()).hexdigest()[:22]
    return PIC.format(tag=tag, pic=109951160000000000 + seed)


@dataclass
class FakeArtist:
    id: int
    name: str
    brief: str = ""
    aliases: list[str] = field(default_factory=list)


@dataclass
class FakeAlbum:
    id: int
    name: str
    artist_id: int
    publish_time: int
    description: str = ""
    company: str = "Karpov Records"


@dataclass
class FakeLyric:
    lrc: str
    tlyric: str = ""
    romalrc: str = ""
    yrc: str = ""


@dataclass
class FakeSong:
    id: int
    name: str
    artist_ids: list[int]
    album_id: int
    duration_ms: int
    fee: int = 0
    """0 free, 1 VIP, 4 sold by album, 8 a low level free for everyone."""
    max_level: str = "lossless"
    free_level: str | None = "exhigh"
    """The best level a login without VIP plays in full; ``None``: VIP only (previews)."""
    copyright: bool = True
    aliases: list[str] = field(default_factory=list)
    number: int = 1
    publish_time: int = 1_600_000_000_000
    mv: int = 0
    lyric: FakeLyric | None = None
    uncollected: bool = False
    """No lyric record at all (rather than a song marked as having no lyrics)."""


@dataclass
class FakePlaylist:
    id: int
    name: str
    track_ids: list[int]
    creator_id: int = 9001
    creator_name: str = "karpov-curator"
    description: str = ""
    play_count: int = 12345
    toplist: str | None = None
    """``ToplistType`` (S, N, O, H) when this playlist is a chart."""
    update_frequency: str = ""
    update_time: int = 1_767_225_600_000


class Catalogue:
    def __init__(self) -> None:
        self.artists: dict[int, FakeArtist] = {}
        self.albums: dict[int, FakeAlbum] = {}
        self.songs: dict[int, FakeSong] = {}
        self.playlists: dict[int, FakePlaylist] = {}

    def add(self, item: FakeArtist | FakeAlbum | FakeSong | FakePlaylist) -> None:
        if isinstance(item, FakeArtist):
            self.artists[item.id] = item
        elif isinstance(item, FakeAlbum):
            self.albums[item.id] = item
        elif isinstance(item, FakeSong):
            self.songs[item.id] = item
        else:
            self.playlists[item.id] = item

    # -- what a login may play ---------------------------------------------------------

    @staticmethod
    def full_level(song: FakeSong, vip: bool) -> str | None:
        """The best level this caller plays in full (``None``: previews only)."""
        if vip:
            return song.max_level
        if song.fee in (1, 4) or song.free_level is None:
            return None
        return LEVELS[min(rank(song.free_level), rank(song.max_level))]

    # -- JSON --------------------------------------------------------------------------

    def artist_ref(self, artist_id: int) -> dict[str, Any]:
        artist = self.artists[artist_id]
        return {"id": artist.id, "name": artist.name, "tns": [], "alias": artist.aliases}

    def album_ref(self, album_id: int) -> dict[str, Any]:
        album = self.albums[album_id]
        pic = 109951160000000000 + album.id
        return {
            "id": album.id,
            "name": album.name,
            "picUrl": pic_url(album.id),
            "tns": [],
            "pic_str": str(pic),
            "pic": pic,
        }

    def song_entry(self, song: FakeSong) -> dict[str, Any]:
        files: dict[str, Any] = {}
        for key, level in _FILES:
            has_file = rank(level) <= rank(song.max_level)
            files[key] = (
                {
                    "br": _BITRATE[level],
                    "fid": 0,
                    "size": _BITRATE[level] // 8 * song.duration_ms // 1000,
                    "vd": -52000,
                    "sr": 44100 if rank(level) < rank("hires") else 48000,
                }
                if has_file
                else None
            )
        return {
            "name": song.name,
            "id": song.id,
            "pst": 0,
            "t": 0,
            "ar": [self.artist_ref(a) for a in song.artist_ids],
            "alia": song.aliases,
            "pop": 100,
            "st": 0,
            "rt": "",
            "fee": song.fee,
            "v": 12,
            "crbt": None,
            "cf": "",
            "al": self.album_ref(song.album_id),
            "dt": song.duration_ms,
            **files,
            "a": None,
            "cd": "01",
            "no": song.number,
            "rtUrl": None,
            "ftype": 0,
            "rtUrls": [],
            "djId": 0,
            "copyright": 1,
            "s_id": 0,
            "mark": 8192,
            "originCoverType": 0,
            "originSongSimpleData": None,
            "tagPicList": None,
            "resourceState": True,
            "version": 12,
            "songJumpInfo": None,
            "entertainmentTags": None,
            "awardTags": None,
            "single": 0,
            "noCopyrightRcmd": None
            if song.copyright
            else {"type": 0, "typeDesc": "暂无版权推荐", "songId": None},
            "mv": song.mv,
            "rtype": 0,
            "rurl": None,
            "mst": 9,
            "cp": 7003,
            "publishTime": song.publish_time,
        }

    def privilege(self, song: FakeSong, vip: bool) -> dict[str, Any]:
        full = self.full_level(song, vip) if song.copyright else None
        free = None if song.fee in (1, 4) else song.free_level
        top = _BITRATE[song.max_level]
        play = _BITRATE[full] if full else 0
        return {
            "id": song.id,
            "fee": song.fee,
            "payed": 1 if vip and song.fee in (1, 4) else 0,
            "st": 0 if song.copyright else -200,
            "pl": play,
            "dl": play,
            "sp": 7 if song.copyright else 0,
            "cp": 1 if song.copyright else 0,
            "subp": 1 if song.copyright else 0,
            "cs": False,
            "maxbr": top,
            "fl": _BITRATE[free] if free and song.copyright else 0,
            "toast": False,
            "flag": 4 if song.fee == 8 else (1028 if song.fee == 1 else 256),
            "preSell": False,
            "playMaxbr": top,
            "downloadMaxbr": top,
            "maxBrLevel": song.max_level,
            "playMaxBrLevel": song.max_level,
            "downloadMaxBrLevel": song.max_level,
            "plLevel": full or "none",
            "dlLevel": full or "none",
            "flLevel": free if free and song.copyright else "none",
            "rscl": None,
            "freeTrialPrivilege": {
                "resConsumable": False,
                "userConsumable": False,
                "listenType": None,
            },
            "chargeInfoList": [
                {"rate": rate, "chargeUrl": None, "chargeMessage": None, "chargeType": 1}
                for rate in (128000, 192000, 320000, 999000)
            ],
        }

    def song_with_privilege(self, song: FakeSong, vip: bool) -> dict[str, Any]:
        return {**self.song_entry(song), "privilege": self.privilege(song, vip)}

    def url_item(self, song_id: int, asked: str, vip: bool, now_ms: int) -> dict[str, Any]:
        song = self.songs.get(song_id)
        base: dict[str, Any] = {
            "id": song_id,
            "url": None,
            "br": 0,
            "size": 0,
            "md5": None,
            "code": 404,
            "expi": 1200,
            "type": None,
            "gain": 0.0,
            "peak": 0,
            "closedGain": 0.0,
            "closedPeak": 0.0,
            "fee": song.fee if song else 0,
            "uf": None,
            "payed": 0,
            "flag": 0,
            "canExtend": False,
            "freeTrialInfo": None,
            "level": None,
            "encodeType": None,
            "channelLayout": None,
            "freeTrialPrivilege": {
                "resConsumable": False,
                "userConsumable": False,
                "listenType": None,
                "cannotListenReason": None,
                "playReason": None,
                "freeLimitTagType": None,
            },
            "freeTimeTrialPrivilege": {
                "resConsumable": False,
                "userConsumable": False,
                "type": 0,
                "remainTime": 0,
            },
            "urlSource": 0,
            "rightSource": 0,
            "podcastCtrp": None,
            "effectTypes": None,
            "time": song.duration_ms if song else 0,
            "message": None,
            "levelConfuse": None,
            "musicId": str(song_id),
            "accompany": None,
            "sr": None,
            "auEff": None,
            "immerseType": None,
            "beatType": 0,
        }
        if song is None or not song.copyright:
            return base
        full = self.full_level(song, vip)
        preview = full is None
        level = LEVELS[min(rank(asked), rank(song.max_level))]
        if full is not None:
            level = LEVELS[min(rank(level), rank(full))]
        if preview:
            level = LEVELS[min(rank(level), rank("exhigh"))]
        ext = "flac" if rank(level) >= rank("lossless") else "mp3"
        digest = hashlib.md5(f"{song_id}-{level}-{preview}".encode()).hexdigest()
        size = _BITRATE[level] // 8 * (30_000 if preview else song.duration_ms) // 1000
        kind = "trial" if preview else "obj"
        stamp = now_ms // 1000
        return {
            **base,
            "url": f"http://m701.music.126.net/{stamp}/{digest}/jdymusic/{kind}/{song_id}/"
            f"{level}/{digest}.{ext}",
            "br": _BITRATE[level],
            "size": size,
            "md5": digest,
            "code": 200,
            "type": ext,
            "payed": 1 if vip and song.fee in (1, 4) else 0,
            "flag": 4 if song.fee == 8 else 256,
            "freeTrialInfo": {"fragmentType": 0, "start": 0, "end": 30, "algData": None}
            if preview
            else None,
            "level": level,
            "encodeType": ext,
            "freeTrialPrivilege": {
                **base["freeTrialPrivilege"],
                "resConsumable": preview,
                "cannotListenReason": 1 if preview else None,
            },
            "immerseType": "c51" if level == "sky" else None,
        }

    def album_entry(self, album: FakeAlbum) -> dict[str, Any]:
        artist = self.artists[album.artist_id]
        artist_json = {
            "img1v1Id": 18686200114669622,
            "topicPerson": 0,
            "picId": 0,
            "musicSize": 0,
            "albumSize": 0,
            "briefDesc": "",
            "followed": False,
            "img1v1Url": pic_url(artist.id * 7),
            "trans": "",
            "picUrl": pic_url(artist.id),
            "alias": artist.aliases,
            "name": artist.name,
            "id": artist.id,
            "picId_str": str(artist.id),
            "img1v1Id_str": "18686200114669622",
        }
        pic = 109951160000000000 + album.id
        size = len([s for s in self.songs.values() if s.album_id == album.id])
        return {
            "songs": [],
            "paid": False,
            "onSale": False,
            "mark": 0,
            "awardTags": None,
            "artists": [artist_json],
            "copyrightId": 7003,
            "picId": pic,
            "artist": artist_json,
            "publishTime": album.publish_time,
            "company": album.company,
            "briefDesc": "",
            "picUrl": pic_url(album.id),
            "commentThreadId": f"R_AL_3_{album.id}",
            "blurPicUrl": pic_url(album.id),
            "companyId": 0,
            "pic": pic,
            "status": 1,
            "subType": "录音室版",
            "alias": [],
            "description": album.description,
            "tags": "",
            "name": album.name,
            "id": album.id,
            "type": "专辑",
            "size": size,
            "picId_str": str(pic),
        }

    def artist_entry(self, artist: FakeArtist) -> dict[str, Any]:
        return {
            "img1v1Id": 109951160000000000 + artist.id * 7,
            "topicPerson": 0,
            "followed": False,
            "alias": artist.aliases,
            "picId": 109951160000000000 + artist.id,
            "briefDesc": artist.brief,
            "musicSize": len(self.songs_by(artist.id)),
            "albumSize": len(self.albums_by(artist.id)),
            "picUrl": pic_url(artist.id),
            "img1v1Url": pic_url(artist.id * 7),
            "trans": "",
            "mvSize": 0,
            "publishTime": 1_500_000_000_000,
            "name": artist.name,
            "id": artist.id,
            "picId_str": str(109951160000000000 + artist.id),
            "img1v1Id_str": str(109951160000000000 + artist.id * 7),
        }

    def artist_search_entry(self, artist: FakeArtist) -> dict[str, Any]:
        return {
            "id": artist.id,
            "name": artist.name,
            "picUrl": pic_url(artist.id),
            "alias": artist.aliases,
            "albumSize": len(self.albums_by(artist.id)),
            "picId": 109951160000000000 + artist.id,
            "fansGroup": None,
            "img1v1Url": pic_url(artist.id * 7),
            "img1v1": 109951160000000000 + artist.id * 7,
            "mvSize": 0,
            "followed": False,
            "alg": "alg_search_precision_artist_tab_basic",
            "alia": artist.aliases,
            "trans": None,
        }

    def creator(self, playlist: FakePlaylist) -> dict[str, Any]:
        return {
            "defaultAvatar": False,
            "province": 110000,
            "authStatus": 0,
            "followed": False,
            "avatarUrl": pic_url(playlist.creator_id),
            "accountStatus": 0,
            "gender": 0,
            "city": 110101,
            "birthday": 0,
            "userId": playlist.creator_id,
            "userType": 0,
            "nickname": playlist.creator_name,
            "signature": "",
            "description": "",
            "detailDescription": "",
            "avatarImgId": 109951160000000000 + playlist.creator_id,
            "backgroundImgId": 0,
            "backgroundUrl": "",
            "authority": 0,
            "mutual": False,
            "expertTags": None,
            "experts": None,
            "djStatus": 0,
            "vipType": 0,
            "remarkName": None,
            "authenticationTypes": 0,
            "avatarDetail": None,
            "anchor": False,
        }

    def playlist_header(self, playlist: FakePlaylist) -> dict[str, Any]:
        cover = 109951160000000000 + playlist.id
        header: dict[str, Any] = {
            "subscribers": [],
            "subscribed": None,
            "creator": None if playlist.toplist else self.creator(playlist),
            "artists": None,
            "tracks": None,
            "updateFrequency": playlist.update_frequency or None,
            "backgroundCoverId": 0,
            "backgroundCoverUrl": None,
            "titleImage": 0,
            "titleImageUrl": None,
            "englishTitle": None,
            "opRecommend": False,
            "recommendInfo": None,
            "socialPlaylistCover": None,
            "trackNumberUpdateTime": playlist.update_time,
            "adType": 0,
            "userId": 1 if playlist.toplist else playlist.creator_id,
            "subscribedCount": 4024,
            "cloudTrackCount": 0,
            "createTime": 1_404_115_136_883,
            "highQuality": False,
            "specialType": 10 if playlist.toplist else 0,
            "updateTime": playlist.update_time,
            "coverImgId": cover,
            "newImported": False,
            "anonimous": False,
            "trackUpdateTime": playlist.update_time,
            "trackCount": len(playlist.track_ids),
            "totalDuration": 0,
            "coverImgUrl": pic_url(playlist.id),
            "commentThreadId": f"A_PL_0_{playlist.id}",
            "privacy": 0,
            "playCount": playlist.play_count,
            "ordered": True,
            "tags": [],
            "description": playlist.description,
            "status": 0,
            "name": playlist.name,
            "id": playlist.id,
            "coverImgId_str": str(cover),
        }
        if playlist.toplist:
            header["ToplistType"] = playlist.toplist
        return header

    def playlist_search_entry(self, playlist: FakePlaylist) -> dict[str, Any]:
        creator = self.creator(playlist)
        return {
            "id": playlist.id,
            "name": playlist.name,
            "coverImgUrl": pic_url(playlist.id),
            "creator": {
                "nickname": creator["nickname"],
                "userId": creator["userId"],
                "userType": 0,
                "avatarUrl": creator["avatarUrl"],
                "authStatus": 0,
                "expertTags": None,
                "experts": None,
            },
            "subscribed": False,
            "trackCount": len(playlist.track_ids),
            "userId": playlist.creator_id,
            "playCount": playlist.play_count,
            "bookCount": 10,
            "specialType": 0,
            "officialTags": None,
            "action": None,
            "actionType": None,
            "recommendText": None,
            "score": None,
            "description": playlist.description,
            "highQuality": False,
        }

    # -- look-ups ----------------------------------------------------------------------

    def songs_by(self, artist_id: int) -> list[FakeSong]:
        return [s for s in self.songs.values() if artist_id in s.artist_ids]

    def albums_by(self, artist_id: int) -> list[FakeAlbum]:
        return [a for a in self.albums.values() if a.artist_id == artist_id]


def demo_catalogue() -> Catalogue:
    """The catalogue the tests use:

    * 2001 free song (max lossless, full exhigh for everyone) with lrc, translation,
      romanisation and word-level lyrics;
    * 2002 VIP song (fee 1, max hires): previews without VIP, full with it;
    * 2003 no-copyright song;
    * 2004 fee-8 song (standard for everyone, up to lossless with VIP), no lyrics;
    * 2005 VIP master (fee 1, up to jymaster: every level);
    * 3001..3075 filler songs; playlist 5001 holds all 75 (more than one page);
    * albums 4001 (2001, 2002, 2004) and 4002 (2003, 2005); artists 1001, 1002;
    * toplists 19723756 (飙升榜, 30 songs) and 3779629 (新歌榜, 20 songs).
    """
    c = Catalogue()
    c.add(FakeArtist(1001, "Aurora Lane", brief="An invented band for tests.", aliases=["极光"]))
    c.add(FakeArtist(1002, "北岛乐队", brief="另一支测试乐队"))
    c.add(FakeAlbum(4001, "Northern Lights", 1001, 1_577_836_800_000, "The first album."))
    c.add(FakeAlbum(4002, "南方", 1002, 1_609_459_200_000))
    c.add(FakeAlbum(4003, "Fillers", 1002, 1_640_995_200_000))
    lyric = FakeLyric(
        lrc="[00:00.000] 作词 : Aurora Lane\n[00:12.340]Lights over the sea\n",
        tlyric="[00:12.340]海上的光\n",
        romalrc="[00:12.340]hai shang de guang\n",
        yrc='{"t":0,"c":[{"tx":"作词: "},{"tx":"Aurora Lane"}]}\n'
        "[12340,2100](12340,500,0)Lights (12840,400,0)over (13240,300,0)the (13540,900,0)sea\n",
    )
    c.add(
        FakeSong(2001, "Lights Over the Sea", [1001], 4001, 215_000, fee=0, max_level="lossless",
                 free_level="exhigh", aliases=["海上的光"], number=1, mv=5436712, lyric=lyric)
    )  # fmt: skip
    c.add(
        FakeSong(2002, "Velvet Hours", [1001], 4001, 243_500, fee=1, max_level="hires",
                 free_level=None, number=2,
                 lyric=FakeLyric(lrc="[00:01.000]Velvet hours\n"))
    )  # fmt: skip
    c.add(FakeSong(2003, "灰色的歌", [1002], 4002, 198_000, copyright=False, number=1))
    c.add(
        FakeSong(2004, "Low Tide", [1001, 1002], 4001, 180_250, fee=8, max_level="lossless",
                 free_level="standard", number=3, uncollected=True)
    )  # fmt: skip
    c.add(
        FakeSong(2005, "母带", [1002], 4002, 301_000, fee=1, max_level="jymaster",
                 free_level=None, number=2)
    )  # fmt: skip
    for n in range(1, 76):
        c.add(FakeSong(3000 + n, f"Filler {n:02d}", [1002], 4003, 120_000 + n, number=n))
    filler = [3000 + n for n in range(1, 76)]
    c.add(FakePlaylist(5001, "Seventy-five", filler, description="A playlist longer than a page."))
    c.add(FakePlaylist(5002, "Aurora favourites", [2001, 2002, 2004]))
    c.add(
        FakePlaylist(19723756, "飙升榜", filler[:30], toplist="S", update_frequency="每天更新",
                     description="云音乐中每天热度上升最快的100首单曲，每日更新。")
    )  # fmt: skip
    c.add(
        FakePlaylist(3779629, "新歌榜", filler[30:50], toplist="N", update_frequency="每天更新",
                     description="云音乐新歌榜")
    )  # fmt: skip
    return c
