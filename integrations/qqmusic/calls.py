"""The catalogue of upstream calls this client makes (``module``, ``method``, parameters),
as learnt from the public clients; nothing here sends anything."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from integrations.qqmusic.credential import WECHAT_LOGIN, QQCredential
from integrations.qqmusic.transport import Call

PAGE_CAP = 30
"""Items asked for per list call (songs of an album, artist, playlist or chart; search
results). The upstream caps most list calls at 30; longer slices take several calls in one
body, and a shorter answer than asked is topped up (see ``paging``)."""

WECHAT_APP_ID = "wx48db31d50e334801"
LYRIC_CLIENT = {"ct": 11, "cv": 13020508}

SEARCH_TYPE_CODES = {"song": 0, "artist": 1, "album": 2, "playlist": 3}


def _song_key(value: str, *, numeric: str, mid: str) -> dict[str, Any]:
    return {numeric: int(value)} if value.isdecimal() else {mid: value}


def track_info(mids: Sequence[str], ids: Sequence[int] = ()) -> Call:
    count = len(mids) + len(ids)
    param: dict[str, Any] = {
        "types": [0] * count,
        "modify_stamp": [0] * count,
        "ctx": 0,
        "client": 1,
    }
    if mids:
        param["mids"] = list(mids)
    if ids:
        param["ids"] = list(ids)
    return Call("music.trackInfo.UniformRuleCtrl", "CgiGetTrackInfo", param)


def song_detail(value: str) -> Call:
    """Answers in full only to the web client profile."""
    return Call(
        "music.pf_song_detail_svr",
        "get_song_detail_yqq",
        _song_key(value, numeric="song_id", mid="song_mid"),
    )


def search(query: str, kind: str, page: int, per_page: int, search_id: str) -> Call:
    return Call(
        "music.search.SearchCgiService",
        "DoSearchForQQMusicMobile",
        {
            "searchid": search_id,
            "query": query,
            "search_type": SEARCH_TYPE_CODES[kind],
            "num_per_page": per_page,
            "page_num": page,
            "highlight": False,
            "grp": True,
        },
    )


def play_urls(
    file_names: Sequence[str], song_mid: str, uin: str, guid: str, *, encrypted: bool
) -> Call:
    module, method = (
        ("music.vkey.GetEVkey", "CgiGetEVkey")
        if encrypted
        else ("music.vkey.GetVkey", "UrlGetVkey")
    )
    return Call(
        module,
        method,
        {
            "uin": uin,
            "filename": list(file_names),
            "guid": guid,
            "songmid": [song_mid] * len(file_names),
            "songtype": [0] * len(file_names),
            "ctx": 0,
        },
    )


def lyric(value: str, *, qrc: bool, trans: bool, roma: bool) -> Call:
    return Call(
        "music.musichallSong.PlayLyricInfo",
        "GetPlayLyricInfo",
        {
            "crypt": 1,
            **LYRIC_CLIENT,
            "lrc_t": 0,
            "qrc": int(qrc),
            "qrc_t": 0,
            "roma": int(roma),
            "roma_t": 0,
            "trans": int(trans),
            "trans_t": 0,
            "type": 1,
            **_song_key(value, numeric="songId", mid="songMid"),
        },
    )


def album_detail(value: str) -> Call:
    return Call(
        "music.musichallAlbum.AlbumInfoServer",
        "GetAlbumDetail",
        _song_key(value, numeric="albumId", mid="albumMId"),
    )


def album_songs(value: str, begin: int, num: int) -> Call:
    return Call(
        "music.musichallAlbum.AlbumSongList",
        "GetAlbumSongList",
        {**_song_key(value, numeric="albumId", mid="albumMid"), "begin": begin, "num": num},
    )


def artist_header(mid: str) -> Call:
    return Call("music.UnifiedHomepage.UnifiedHomepageSrv", "GetHomepageHeader", {"SingerMid": mid})


def artist_detail(mid: str) -> Call:
    return Call(
        "music.musichallSinger.SingerInfoInter",
        "GetSingerDetail",
        {"singer_mids": [mid], "groups": 1, "wikis": 1},
    )


def artist_songs(mid: str, begin: int, num: int) -> Call:
    return Call(
        "musichall.song_list_server",
        "GetSingerSongList",
        {"singerMid": mid, "order": 1, "number": num, "begin": begin},
    )


def artist_albums(mid: str, begin: int, num: int) -> Call:
    return Call(
        "music.musichallAlbum.AlbumListServer",
        "GetAlbumList",
        {"singerMid": mid, "order": 1, "number": num, "begin": begin},
    )


def playlist(disstid: int, begin: int, num: int) -> Call:
    return Call(
        "music.srfDissInfo.DissInfo",
        "CgiGetDiss",
        {
            "disstid": disstid,
            "dirid": 0,
            "tag": True,
            "song_begin": begin,
            "song_num": num,
            "userinfo": True,
            "orderlist": True,
            "onlysonglist": False,
        },
    )


def charts() -> Call:
    return Call("music.musicToplist.Toplist", "GetAll", {})


def chart(top_id: int, offset: int, num: int) -> Call:
    return Call(
        "music.musicToplist.Toplist", "GetDetail", {"topId": top_id, "offset": offset, "num": num}
    )


def login_user_info() -> Call:
    """Answers only for a live login (code 1000 otherwise): the health check."""
    return Call("music.UserInfo.userInfoServer", "GetLoginUserInfo", {})


def refresh_login(credential: QQCredential) -> Call:
    param: dict[str, Any] = {
        "openid": credential.openid,
        "refresh_token": credential.refresh_token,
        "musickey": credential.musickey,
        "refresh_key": credential.refresh_key,
        "loginMode": 2,
    }
    if credential.login_type == WECHAT_LOGIN:
        param.update(str_musicid=credential.uin, unionid=credential.unionid)
    else:
        param.update(
            access_token=credential.access_token,
            expired_in=credential.expired_at,
            musicid=credential.musicid,
        )
    return Call("music.login.LoginServer", "Login", param, login=True)


def qq_connect_login(code: str) -> Call:
    return Call("QQConnectLogin.LoginServer", "QQLogin", {"code": code}, login=True)


def wechat_login(code: str) -> Call:
    return Call(
        "music.login.LoginServer", "Login", {"code": code, "strAppid": WECHAT_APP_ID}, login=True
    )
