"""Catalogue entries rendered in QQ Music's own JSON shapes (field names and nesting as the
public clients' response models read them: L-1124/QQMusicApi ``models/*.py``)."""

from __future__ import annotations

from typing import Any

from tests.fakes.qqmusic.catalogue import (
    SIZE_KEYS,
    Catalogue,
    FakeAlbum,
    FakeArtist,
    FakeChart,
    FakePlaylist,
    FakeSong,
)

PHOTO = "https://y.gtimg.cn/music/photo_new/"


def _singer_stub(cat: Catalogue, mid: str) -> dict[str, Any]:
    artist = cat.artists[mid]
    return {
        "id": artist.id,
        "mid": mid,
        "name": artist.name,
        "title": artist.name,
        "type": 0,
        "uin": 0,
        "pmid": "",
    }


def track(cat: Catalogue, song: FakeSong) -> dict[str, Any]:
    """The ``Song`` object most calls answer (``tracks[]``, ``songInfo``, ``item_song[]``)."""
    album = cat.albums.get(song.album_mid)
    file_info: dict[str, Any] = {"media_mid": song.media_mid}
    file_info.update({key: song.size(key) for key in SIZE_KEYS})
    file_info.update(try_begin=0, try_end=0)
    file_info["size_new"] = [song.size(f"size_new.{i}") for i in range(10)]
    return {
        "id": song.id,
        "type": 0,
        "mid": song.mid,
        "name": song.name,
        "title": song.name,
        "subtitle": song.subtitle,
        "singer": [_singer_stub(cat, mid) for mid in song.artist_mids],
        "album": {
            "id": album.id if album else 0,
            "mid": song.album_mid,
            "name": album.name if album else "",
            "title": album.name if album else "",
            "subtitle": "",
            "time_public": album.publish_date if album else "",
            "pmid": f"{song.album_mid}_1" if song.album_mid else "",
        },
        "mv": {"id": 0, "vid": "", "name": "", "title": "", "vt": 0},
        "interval": song.interval,
        "isonly": 0,
        "language": 0,
        "genre": 1,
        "index_cd": 0,
        "index_album": song.index_album,
        "time_public": song.time_public,
        "status": 0,
        "fnote": 4009,
        "file": file_info,
        "pay": {
            "pay_month": song.pay_play,
            "price_track": 0,
            "price_album": 0,
            "pay_play": song.pay_play,
            "pay_down": song.pay_play,
            "pay_status": 0,
            "time_free": 0,
        },
        "action": {"switch": 65537, "msgid": 0, "alert": 0, "icons": 0, "msgshare": 0},
        "ksong": {"id": 0, "mid": ""},
        "volume": {"gain": -7.5, "peak": 1.0, "lra": 6.2},
        "label": "0",
        "url": "",
        "bpm": 0,
        "version": 0,
        "trace": "",
        "data_type": 0,
        "modify_stamp": 0,
        "pingpong": "",
        "ppurl": "",
        "tid": 0,
        "ov": 0,
        "sa": 0,
        "es": "",
        "vs": ["", "", ""],
        "vi": [0, 0, 0, 0, 0, 0, 0],
        "vf": [0.0, 0.0, 0.0],
    }


def unknown_track() -> dict[str, Any]:
    return {
        "id": 0,
        "type": 0,
        "mid": "",
        "name": "",
        "title": "",
        "singer": [],
        "album": {"id": 0, "mid": "", "name": ""},
        "file": {},
        "pay": {},
        "interval": 0,
    }


def album_basic_info(cat: Catalogue, album: FakeAlbum) -> dict[str, Any]:
    return {
        "basicInfo": {
            "albumID": album.id,
            "albumMid": album.mid,
            "albumName": album.name,
            "albumType": "Album",
            "publishDate": album.publish_date,
            "desc": album.description,
            "language": "Mandarin",
            "genre": "Pop",
            "recordNum": 0,
            "pmid": f"{album.mid}_1",
            "tranName": "",
            "wikiurl": "",
        },
        "company": {"ID": 1, "name": "Fake Records", "isShow": 1, "brief": ""},
        "singer": {
            "singerList": [
                {
                    "mid": mid,
                    "name": cat.artists[mid].name,
                    "pmid": "",
                    "singerID": cat.artists[mid].id,
                }
                for mid in album.artist_mids
            ]
        },
    }


def album_brief(cat: Catalogue, album: FakeAlbum) -> dict[str, Any]:
    return {
        "albumID": album.id,
        "albumMid": album.mid,
        "albumName": album.name,
        "albumTranName": "",
        "publishDate": album.publish_date,
        "totalNum": len(album.song_mids),
        "albumType": "Album",
        "singerName": " / ".join(cat.artists[m].name for m in album.artist_mids),
        "tags": None,
    }


def album_search_item(cat: Catalogue, album: FakeAlbum) -> dict[str, Any]:
    return {
        "albumID": album.id,
        "albumMID": album.mid,
        "albumName": album.name,
        "publish_date": album.publish_date,
        "singer": " / ".join(cat.artists[m].name for m in album.artist_mids),
        "singer_list": [
            {"id": cat.artists[m].id, "mid": m, "name": cat.artists[m].name}
            for m in album.artist_mids
        ],
        "pic": f"{PHOTO}T002R180x180M000{album.mid}.jpg",
        "song_count": len(album.song_mids),
        "description": album.publish_date,
        "desc_detail": {},
    }


def singer_search_item(artist: FakeArtist, songs: int, albums: int) -> dict[str, Any]:
    return {
        "singerID": artist.id,
        "singerMID": artist.mid,
        "singerName": artist.name,
        "singerPic": f"{PHOTO}T001R150x150M000{artist.mid}.jpg",
        "songNum": songs,
        "albumNum": albums,
        "mvNum": 0,
        "subtitle": "",
    }


def homepage_header(artist: FakeArtist) -> dict[str, Any]:
    return {
        "Status": 0,
        "Info": {
            "Singer": {
                "SingerID": artist.id,
                "SingerMid": artist.mid,
                "Name": artist.name,
                "SingerType": 0,
                "SingerPic": f"{PHOTO}T001R500x500M000{artist.mid}.jpg",
                "SingerPMid": "",
            },
            "BaseInfo": {
                "EncryptedUin": "",
                "BackgroundImage": artist.background,
                "Avatar": "",
                "Name": artist.name,
                "IsHost": 0,
                "IsSinger": 1,
            },
        },
        "TabDetail": {"TabID": "song_sing", "HasMore": 0, "TabList": []},
        "Prompt": {},
    }


def singer_detail(artist: FakeArtist) -> dict[str, Any]:
    return {
        "basic_info": {
            "singer_id": artist.id,
            "singer_mid": artist.mid,
            "name": artist.name,
            "type": 0,
            "singer_pmid": "",
            "has_photo": 0,
            "wikiurl": "",
        },
        "ex_info": {
            "area": 0,
            "desc": artist.description,
            "tag": "",
            "identity": 0,
            "genre": 0,
            "foreign_name": "",
            "birthday": "",
            "blogFlag": 0,
        },
        "wiki": "",
        "group_list": None,
        "photos": None,
    }


def playlist_dirinfo(playlist: FakePlaylist) -> dict[str, Any]:
    return {
        "id": playlist.id,
        "dirid": 0,
        "title": playlist.title,
        "picurl": f"https://qpic.y.qq.com/music_cover/{playlist.id}/300",
        "desc": playlist.description,
        "songnum": len(playlist.song_mids),
        "listennum": playlist.listen_count,
        "creator": {
            "musicid": playlist.creator_musicid,
            "nick": playlist.creator_nick,
            "headurl": "https://thirdqq.qlogo.cn/g?b=sdk&k=abc&s=140",
            "encrypt_uin": "owvFoio5ow-z",
        },
        "tag": [],
        "ctime": 1_600_000_000,
        "mtime": 1_700_000_000,
    }


def playlist_search_item(playlist: FakePlaylist) -> dict[str, Any]:
    return {
        "dissid": playlist.id,
        "dissname": playlist.title,
        "logo": f"https://qpic.y.qq.com/music_cover/{playlist.id}/300",
        "desc": playlist.description,
        "songnum": len(playlist.song_mids),
        "listennum": playlist.listen_count,
        "nickname": playlist.creator_nick,
        "dirtype": 0,
    }


def chart_summary(cat: Catalogue, chart: FakeChart) -> dict[str, Any]:
    preview = []
    for rank, mid in enumerate(chart.song_mids[:3], start=1):
        song = cat.songs[mid]
        preview.append(
            {
                "rank": rank,
                "rankType": 1,
                "rankValue": "1",
                "songId": song.id,
                "title": song.name,
                "singerName": cat.artists[song.artist_mids[0]].name,
                "singerMid": song.artist_mids[0],
                "albumMid": song.album_mid,
                "cover": "",
                "mvid": 0,
            }
        )
    return {
        "topId": chart.top_id,
        "recType": 0,
        "topType": 0,
        "updateType": 1,
        "title": chart.title,
        "titleDetail": f"{chart.title} chart",
        "titleSub": "",
        "intro": chart.intro,
        "period": chart.period,
        "updateTime": chart.update_time,
        "listenNum": 1_000_000,
        "totalNum": len(chart.song_mids),
        "song": preview,
        "frontPicUrl": f"https://y.qq.com/music/common/upload/t_musictoplist/{chart.top_id}.jpg",
        "headPicUrl": f"https://y.qq.com/music/common/upload/t_musictoplist/{chart.top_id}h.jpg",
    }
