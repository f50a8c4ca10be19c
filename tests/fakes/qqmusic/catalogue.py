"""The fake upstream's small music catalogue: the things a test can look up, by the ids
QQ Music uses (string ``mid``s for songs, albums and singers; numbers for playlists and
charts). ``default_catalogue()`` is what the fake serves unless a test builds its own."""

from __future__ import annotations

from dataclasses import dataclass, field

FREE = "free"
VIP = "vip"

QUALITY_FILES: dict[str, tuple[str, str, str]] = {
    # prefix: (extension, where the track info states its size, who may play it)
    "M500": (".mp3", "size_128mp3", FREE),
    "C200": (".m4a", "size_48aac", FREE),
    "C400": (".m4a", "size_96aac", FREE),
    "O400": (".ogg", "size_96ogg", FREE),
    "M800": (".mp3", "size_320mp3", VIP),
    "C600": (".m4a", "size_192aac", VIP),
    "O600": (".ogg", "size_192ogg", VIP),
    "O800": (".ogg", "size_new.3", VIP),
    "O801": (".ogg", "size_new.5", VIP),
    "F000": (".flac", "size_flac", VIP),
    "AI00": (".flac", "size_new.0", VIP),
    "Q000": (".flac", "size_new.1", VIP),
    "Q001": (".flac", "size_new.2", VIP),
    "Q003": (".ogg", "size_new.6", VIP),
    "D004": (".mp4", "size_dolby", VIP),
    "DT03": (".mp4", "size_new.9", VIP),
}
ENCRYPTED_FILES: dict[str, tuple[str, str, str]] = {
    "F0M0": (".mflac", "size_flac", VIP),
    "AIM0": (".mflac", "size_new.0", VIP),
    "O8M0": (".mgg", "size_new.3", VIP),
    "O8M1": (".mgg", "size_new.5", VIP),
}
SIZE_KEYS = (
    "size_24aac",
    "size_48aac",
    "size_96aac",
    "size_192aac",
    "size_96ogg",
    "size_192ogg",
    "size_128mp3",
    "size_320mp3",
    "size_flac",
    "size_dts",
    "size_dolby",
    "size_try",
)


@dataclass
class FakeSong:
    mid: str
    id: int
    name: str
    artist_mids: list[str]
    album_mid: str
    interval: int = 240
    sizes: dict[str, int] = field(default_factory=dict)
    """``size_128mp3`` etc., and ``size_new.<i>`` for the newer array."""
    media_mid: str = ""
    pay_play: int = 0
    has_rights: bool = True
    """False: no account may play any file (purls always empty)."""
    subtitle: str = ""
    time_public: str = "2020-01-01"
    index_album: int = 1

    def size(self, key: str) -> int:
        return self.sizes.get(key, 0)


@dataclass
class FakeAlbum:
    mid: str
    id: int
    name: str
    artist_mids: list[str]
    song_mids: list[str]
    publish_date: str = "2020-01-01"
    description: str = ""


@dataclass
class FakeArtist:
    mid: str
    id: int
    name: str
    description: str = ""
    background: str = ""


@dataclass
class FakePlaylist:
    id: int
    title: str
    song_mids: list[str]
    description: str = ""
    creator_musicid: int = 10001
    creator_nick: str = "dj"
    listen_count: int = 12345


@dataclass
class FakeChart:
    top_id: int
    title: str
    song_mids: list[str]
    group_id: int = 0
    group_name: str = "Peak charts"
    intro: str = ""
    period: str = "2026-01-01"
    update_time: str = "2026-01-01"


@dataclass
class FakeLyrics:
    lrc: str = ""
    qrc: str = ""
    trans: str = ""
    roma: str = ""


@dataclass
class Catalogue:
    songs: dict[str, FakeSong] = field(default_factory=dict)
    albums: dict[str, FakeAlbum] = field(default_factory=dict)
    artists: dict[str, FakeArtist] = field(default_factory=dict)
    playlists: dict[int, FakePlaylist] = field(default_factory=dict)
    charts: dict[int, FakeChart] = field(default_factory=dict)
    lyrics: dict[str, FakeLyrics] = field(default_factory=dict)

    def song(self, key: str | int) -> FakeSong | None:
        if isinstance(key, int) or (isinstance(key, str) and key.isdecimal()):
            return next((s for s in self.songs.values() if s.id == int(key)), None)
        return self.songs.get(key)

    def album(self, key: str | int) -> FakeAlbum | None:
        if isinstance(key, int) or (isinstance(key, str) and key.isdecimal()):
            return next((a for a in self.albums.values() if a.id == int(key)), None)
        return self.albums.get(key)

    def songs_of(self, artist_mid: str) -> list[FakeSong]:
        return [s for s in self.songs.values() if artist_mid in s.artist_mids]

    def albums_of(self, artist_mid: str) -> list[FakeAlbum]:
        return [a for a in self.albums.values() if artist_mid in a.artist_mids]


# -- the default catalogue ------------------------------------------------------------------

JAY = "0025NhlN2yWrP4"
LIN = "001BLpXF2DyJe2"
YE_HUI_MEI = "000MkMni19ClKG"
BIG_ALBUM = "003BigAlbum001"
LIN_ALBUM = "002LinAlbum001"

FREE_SONG = "0039MnYb0qxYhV"
FREE_MEDIA = "002FreeMedia01"
VIP_SONG = "004VipOnly0001"
NO_RIGHTS_SONG = "005NoRights001"
ALL_QUALITIES_SONG = "001AllQual0001"
DELISTED_SONG = "006Delisted001"

BIG_PLAYLIST = 7256912512
SHORT_PLAYLIST = 1000001
POP_CHART = 4
HOT_CHART = 26
WEST_CHART = 3

FREE_LRC = "[ti:Qing Tian]\n[ar:Zhou Jielun]\n[00:01.00]Gu shi de xiao huang hua\n[00:05.20]Cong chu sheng na nian jiu piao zhe\n"  # noqa: E501
FREE_QRC = "[ti:Qing Tian]\n[1000,4200]Gu(1000,500)shi(1500,500)de(2000,400) xiao(2400,900)huang(3300,900)hua(4200,1000)\n"  # noqa: E501
FREE_TRANS = "[00:01.00]The little yellow flower of the story\n[00:05.20]Drifting since the year I was born\n"  # noqa: E501
FREE_ROMA = "[1000,4200]Gu(1000,500) shi(1500,500) de(2000,400) xiao(2400,900)\n"
VIP_LRC = "[00:00.50]A song for members only\n"

_STANDARD_SIZES = {"size_128mp3": 4_300_000, "size_48aac": 1_700_000, "size_96aac": 3_300_000}
_HIGH_SIZES = {
    **_STANDARD_SIZES,
    "size_96ogg": 3_200_000,
    "size_192ogg": 6_400_000,
    "size_192aac": 6_300_000,
    "size_320mp3": 10_800_000,
    "size_flac": 31_000_000,
}
_EVERY_SIZE = {
    **_HIGH_SIZES,
    "size_dolby": 52_000_000,
    **{f"size_new.{i}": 100_000_000 + i for i in (0, 1, 2, 3, 5, 6, 9)},
}


def default_catalogue() -> Catalogue:
    cat = Catalogue()
    cat.artists[JAY] = FakeArtist(
        JAY, 4558, "Zhou Jielun", "Singer, songwriter, producer.", "https://img.test/jay-bg.jpg"
    )
    cat.artists[LIN] = FakeArtist(LIN, 5062, "Lin Junjie", "A singer.")

    specials = [
        FakeSong(
            FREE_SONG,
            97773,
            "Qing Tian",
            [JAY],
            YE_HUI_MEI,
            269,
            dict(_HIGH_SIZES),
            media_mid=FREE_MEDIA,
            subtitle="Sunny day",
            time_public="2003-07-31",
        ),
        FakeSong(
            VIP_SONG,
            97774,
            "Member Song",
            [JAY],
            YE_HUI_MEI,
            200,
            {"size_128mp3": 3_000_000, "size_320mp3": 8_000_000, "size_flac": 25_000_000},
            pay_play=1,
            index_album=2,
        ),
        FakeSong(
            NO_RIGHTS_SONG,
            97775,
            "Locked Song",
            [JAY],
            YE_HUI_MEI,
            180,
            dict(_STANDARD_SIZES),
            has_rights=False,
            index_album=3,
        ),
        FakeSong(
            ALL_QUALITIES_SONG,
            97776,
            "Every Quality",
            [JAY, LIN],
            YE_HUI_MEI,
            300,
            dict(_EVERY_SIZE),
            index_album=4,
        ),
        FakeSong(DELISTED_SONG, 97777, "Gone Song", [JAY], YE_HUI_MEI, 210, {}, index_album=5),
    ]
    for song in specials:
        cat.songs[song.mid] = song
    cat.albums[YE_HUI_MEI] = FakeAlbum(
        YE_HUI_MEI,
        8220,
        "Ye Hui Mei",
        [JAY],
        [s.mid for s in specials],
        "2004-08-03",
        "The fifth studio album.",
    )

    big = []
    for n in range(1, 35):
        song = FakeSong(
            f"100Big{n:08d}",
            300_000 + n,
            f"Big Box Track {n}",
            [JAY],
            BIG_ALBUM,
            180 + n,
            dict(_STANDARD_SIZES),
            index_album=n,
        )
        cat.songs[song.mid] = song
        big.append(song.mid)
    cat.albums[BIG_ALBUM] = FakeAlbum(BIG_ALBUM, 9001, "Big Box", [JAY], big, "2010-05-18")

    singles = []
    for n in range(1, 33):
        album_mid = f"004Single{n:05d}"
        song = FakeSong(
            f"200Single{n:05d}",
            400_000 + n,
            f"Single Number {n}",
            [JAY],
            album_mid,
            200,
            dict(_STANDARD_SIZES),
        )
        cat.songs[song.mid] = song
        cat.albums[album_mid] = FakeAlbum(
            album_mid,
            10_000 + n,
            f"Single Number {n}",
            [JAY],
            [song.mid],
            f"2015-01-{n % 28 + 1:02d}",
        )
        singles.append(song.mid)

    lin = []
    for n in range(1, 4):
        song = FakeSong(
            f"300LinSong{n:04d}",
            500_000 + n,
            f"Jiang Nan {n}",
            [LIN],
            LIN_ALBUM,
            250,
            dict(_STANDARD_SIZES),
            index_album=n,
        )
        cat.songs[song.mid] = song
        lin.append(song.mid)
    cat.albums[LIN_ALBUM] = FakeAlbum(LIN_ALBUM, 9100, "Di Yi Tian", [LIN], lin, "2004-06-01")

    cat.playlists[BIG_PLAYLIST] = FakePlaylist(
        BIG_PLAYLIST, "Road Trip", big + singles[:11], "Songs for a long drive."
    )
    cat.playlists[SHORT_PLAYLIST] = FakePlaylist(SHORT_PLAYLIST, "Short List", lin)
    cat.charts[POP_CHART] = FakeChart(POP_CHART, "Pop Index", (big + singles)[:60], intro="Rising.")
    cat.charts[HOT_CHART] = FakeChart(
        HOT_CHART, "Hot Songs", [s.mid for s in specials] + lin, period="2026_1"
    )
    cat.charts[WEST_CHART] = FakeChart(WEST_CHART, "Western", lin, 1, "Region charts")

    cat.lyrics[FREE_SONG] = FakeLyrics(FREE_LRC, FREE_QRC, FREE_TRANS, FREE_ROMA)
    cat.lyrics[VIP_SONG] = FakeLyrics(lrc=VIP_LRC)
    return cat
