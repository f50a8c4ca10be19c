"""The fake ``musicu.fcg``: a dispatcher by ``module.method`` over the catalogue and the
login state, answering in the upstream's envelope and shapes.

Misbehaviour is scripted per test: ``fail(call, code)`` makes one call answer a code (once,
n times or always); ``rate_limit_after`` makes every call answer 2001 after that many;
``top_level_code`` fails whole bodies; ``page_caps`` shorten list answers as the real
service does.
"""

from __future__ import annotations

import html
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.qqmusic import shapes
from tests.fakes.qqmusic.accounts import WECHAT_LOGIN, Accounts, FakeAccount
from tests.fakes.qqmusic.catalogue import (
    ENCRYPTED_FILES,
    FREE,
    QUALITY_FILES,
    Catalogue,
    FakeLyrics,
    FakeSong,
)
from tests.fakes.qqmusic.cipher import encrypt_lyric
from tests.fakes.qqmusic.protocol import zzc_sign

LOGIN_EXPIRED = 1000
RATE_LIMITED = 2001
SIGN_REQUIRED = 2000
BAD_PARAM = 10000
BAD_LOGIN_CODE = 20271
NO_RIGHTS_RESULT = 104003
WECHAT_APP_ID = "wx48db31d50e334801"
WEB_CLIENT_TYPE = 24

Handler = Callable[["MusicuFake", Mapping[str, Any], "Context"], tuple[int, dict[str, Any]]]
"""A method of ``MusicuFake`` answering one module.method (called unbound, with the fake)."""


@dataclass
class Context:
    comm: Mapping[str, Any]
    account: FakeAccount | None
    presented_login: bool
    """A musickey came with the request (valid or not)."""


@dataclass
class RecordedCall:
    module: str
    method: str
    param: Mapping[str, Any]
    comm: Mapping[str, Any]
    cookies: Mapping[str, str]
    signed: bool
    user_agent: str


@dataclass
class _Injected:
    code: int
    times: int | None
    data: dict[str, Any] | None = None


@dataclass
class MusicuFake:
    catalogue: Catalogue
    accounts: Accounts
    sips: list[str] = field(
        default_factory=lambda: [
            "http://dl.stream.qqmusic.qq.com/",
            "http://ws.stream.qqmusic.qq.com/",
            "http://isure.stream.qqmusic.qq.com/",
        ]
    )
    url_expiration: int = 80_400
    page_caps: dict[str, int] = field(
        default_factory=lambda: {
            "album": 30,
            "artist": 30,
            "playlist": 30,
            "chart": 20,
            "search": 50,
            "tracks": 100,
        }
    )
    rate_limit_after: int | None = None
    top_level_code: int = 0
    require_sign: bool = False
    corrupt_lyrics: bool = False
    """Answer lyric fields with ciphertext that is not a zlib stream."""
    calls: list[RecordedCall] = field(default_factory=list)
    connect_codes: dict[str, int] = field(default_factory=dict)
    wechat_codes: dict[str, int] = field(default_factory=dict)
    _injected: dict[str, _Injected] = field(default_factory=dict)
    _served: int = 0

    def fail(
        self, call: str, code: int, *, times: int | None = 1, data: dict[str, Any] | None = None
    ) -> None:
        """``call`` (``module.method``) answers ``code`` (with ``data``, none by default)
        the next ``times`` times (None: until ``clear_failures``)."""
        self._injected[call] = _Injected(code, times, data)

    def clear_failures(self) -> None:
        self._injected.clear()
        self.rate_limit_after = None
        self.top_level_code = 0

    # -- the HTTP body ---------------------------------------------------------------------

    def answer(
        self, body: bytes, cookies: Mapping[str, str], sign: str | None, user_agent: str = ""
    ) -> dict[str, Any]:
        now_ms = int(time.time() * 1000)
        envelope: dict[str, Any] = {
            "code": 0,
            "ts": now_ms,
            "start_ts": now_ms,
            "traceid": secrets.token_hex(8),
        }
        try:
            request = json.loads(body)
        except ValueError:
            return {**envelope, "code": 500001}
        if self.require_sign and sign != zzc_sign(body):
            return {**envelope, "code": SIGN_REQUIRED}
        if self.top_level_code:
            return {**envelope, "code": self.top_level_code}
        comm = request.get("comm") or {}
        ctx = self._context(comm, cookies)
        keys = sorted((k for k in request if k != "comm"), key=_request_order)
        for key in keys:
            item = request[key]
            module, method = str(item.get("module")), str(item.get("method"))
            param = item.get("param") or {}
            self.calls.append(
                RecordedCall(module, method, param, comm, dict(cookies), bool(sign), user_agent)
            )
            code, data = self._dispatch(module, method, param, ctx)
            envelope[key] = {"code": code} if data is None else {"code": code, "data": data}
        return envelope

    def _context(self, comm: Mapping[str, Any], cookies: Mapping[str, str]) -> Context:
        key = cookies.get("qqmusic_key") or cookies.get("qm_keyst") or str(comm.get("authst") or "")
        uin = cookies.get("qqmusic_uin") or cookies.get("uin") or str(comm.get("qq") or "")
        if not key:
            return Context(comm, None, False)
        account = None
        if uin.lstrip("o").isdigit():
            account = self.accounts.live(int(uin.lstrip("o")), key)
        if account is not None and comm.get("authst") not in (None, "", key):
            account = None  # cookie and comm name different logins
        return Context(comm, account, True)

    def _dispatch(
        self, module: str, method: str, param: Mapping[str, Any], ctx: Context
    ) -> tuple[int, dict[str, Any] | None]:
        """The code and data of one sub-request; ``None`` data: the answer has none (as
        every failing answer, and an injected code 0)."""
        name = f"{module}.{method}"
        self._served += 1
        if self.rate_limit_after is not None and self._served > self.rate_limit_after:
            return RATE_LIMITED, None
        injected = self._injected.get(name)
        if injected is not None:
            if injected.times is not None:
                injected.times -= 1
                if injected.times <= 0:
                    del self._injected[name]
            return injected.code, injected.data
        handler = _HANDLERS.get(name)
        if handler is None:
            return BAD_PARAM, None
        code, data = handler(self, param, ctx)
        return code, (data if code == 0 else None)

    # -- songs -----------------------------------------------------------------------------

    def _track_info(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        wanted = list(param.get("mids") or []) + list(param.get("ids") or [])
        if len(wanted) > self.page_caps["tracks"]:
            return BAD_PARAM, {}
        cat = self.catalogue
        tracks = [shapes.track(cat, s) for key in wanted if (s := cat.song(key)) is not None]
        return 0, {"tracks": tracks, "ctx": 0}

    def _song_detail(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        song = self.catalogue.song(param.get("song_mid") or param.get("song_id") or "")
        if song is None or ctx.comm.get("ct") != WEB_CLIENT_TYPE:
            # The detail call only fills in its answer for the web client profile.
            return 0, {"track_info": shapes.unknown_track(), "info": {}, "extras": {}}
        album = self.catalogue.albums.get(song.album_mid)
        info = {
            "company": {
                "title": "Company",
                "type": "company",
                "content": [{"id": 1, "value": "Fake Records", "show_type": 1, "jumpurl": ""}],
            },
            "pub_time": {
                "title": "Released",
                "type": "pub_time",
                "content": [
                    {
                        "id": 0,
                        "value": album.publish_date if album else "",
                        "show_type": 1,
                        "jumpurl": "",
                    }
                ],
            },
        }
        return 0, {"track_info": shapes.track(self.catalogue, song), "info": info, "extras": {}}

    def _search(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        query = str(param.get("query", "")).lower()
        per_page = min(int(param.get("num_per_page", 10)), self.page_caps["search"])
        page = max(int(param.get("page_num", 1)), 1)
        kind = int(param.get("search_type", 0))
        cat = self.catalogue
        body: dict[str, Any] = {
            "item_song": [],
            "singer": [],
            "item_album": [],
            "item_songlist": [],
            "item_mv": [],
            "item_user": [],
            "item_audio": [],
            "direct_result": {"direct_group": []},
        }
        hits: list[dict[str, Any]]
        if kind == 0:
            key = "item_song"
            hits = [shapes.track(cat, s) for s in cat.songs.values() if query in s.name.lower()]
        elif kind == 1:
            key = "singer"
            hits = [
                shapes.singer_search_item(a, len(cat.songs_of(a.mid)), len(cat.albums_of(a.mid)))
                for a in cat.artists.values()
                if query in a.name.lower()
            ]
        elif kind == 2:
            key = "item_album"
            hits = [
                shapes.album_search_item(cat, a)
                for a in cat.albums.values()
                if query in a.name.lower()
            ]
        elif kind == 3:
            key = "item_songlist"
            hits = [
                shapes.playlist_search_item(p)
                for p in cat.playlists.values()
                if query in p.title.lower()
            ]
        else:
            return BAD_PARAM, {}
        start = (page - 1) * per_page
        body[key] = hits[start : start + per_page]
        more = start + per_page < len(hits)
        meta = {
            "searchid": str(param.get("searchid", "")),
            "perpage": per_page,
            "curpage": page,
            "nextpage": page + 1 if more else -1,
            "estimate_sum": len(hits),
            "sum": len(hits),
            "cid": "",
            "query": query,
        }
        return 0, {"meta": meta, "body": body, "code": 0, "ver": 0}

    # -- play URLs ---------------------------------------------------------------------------

    def _vkey(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        return self._urls(param, ctx, QUALITY_FILES, encrypted=False)

    def _evkey(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        return self._urls(param, ctx, ENCRYPTED_FILES, encrypted=True)

    def _urls(
        self,
        param: Mapping[str, Any],
        ctx: Context,
        files: Mapping[str, tuple[str, str, str]],
        *,
        encrypted: bool,
    ) -> tuple[int, dict[str, Any]]:
        if ctx.presented_login and ctx.account is None:
            return LOGIN_EXPIRED, {}
        names = [str(n) for n in param.get("filename") or []]
        mids = [str(m) for m in param.get("songmid") or []]
        if len(names) != len(mids):
            return BAD_PARAM, {}
        items = []
        for name, mid in zip(names, mids, strict=True):
            song = self.catalogue.song(mid)
            allowed = song is not None and self._may_play(song, name, files, ctx.account)
            vkey = secrets.token_hex(56).upper() if allowed else ""
            purl = (
                f"{name}?guid={param.get('guid', '')}&vkey={vkey}&uin={param.get('uin', '0')}"
                "&fromtag=120032"
                if allowed
                else ""
            )
            items.append(
                {
                    "songmid": mid,
                    "filename": name,
                    "purl": purl,
                    "wifiurl": purl,
                    "flowurl": purl,
                    "vkey": vkey,
                    "ekey": secrets.token_hex(32) if encrypted and allowed else "",
                    "result": 0 if allowed else NO_RIGHTS_RESULT,
                    "tips": "",
                    "opi30surl": "",
                    "opi48kurl": "",
                    "opi96kurl": "",
                    "opi128kurl": "",
                    "premain": 0,
                    "songtype": 0,
                    "auth_switch": 0,
                    "qmdlfromtag": "",
                }
            )
        return 0, {
            "expiration": self.url_expiration,
            "login_key": "",
            "midurlinfo": items,
            "msg": "",
            "retcode": 0,
            "servercheck": secrets.token_hex(16),
            "sip": list(self.sips),
            "testfile2g": "C400003mAan70zUy5O.m4a?vkey=&guid=&uin=0&fromtag=3",
            "thirdip": ["", ""],
            "uin": str(param.get("uin", "0")),
            "verify_type": 0,
        }

    def _may_play(
        self,
        song: FakeSong,
        name: str,
        files: Mapping[str, tuple[str, str, str]],
        account: FakeAccount | None,
    ) -> bool:
        spec = files.get(name[:4])
        if spec is None or not song.has_rights:
            return False
        extension, size_key, tier = spec
        stem = name[4 : -len(extension)] if name.endswith(extension) else ""
        if stem not in {song.mid + song.mid, song.media_mid} or not stem:
            return False
        if song.size(size_key) <= 0:
            return False
        vip = account is not None and account.vip
        return vip or (tier == FREE and not song.pay_play)

    # -- lyrics ------------------------------------------------------------------------------

    def _lyric(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        song = self.catalogue.song(param.get("songMid") or param.get("songId") or "")
        lyrics = self.catalogue.lyrics.get(song.mid, FakeLyrics()) if song else FakeLyrics()
        crypt = param.get("crypt") == 1
        seal: Callable[[str], str] = encrypt_lyric if crypt else (lambda text: text)
        if self.corrupt_lyrics:
            seal = lambda text: "00" * 16 if text else ""  # noqa: E731
        if param.get("qrc") == 1:
            lyric = _qrc_document(lyrics.qrc) if lyrics.qrc else ""
        else:
            lyric = lyrics.lrc
        trans = lyrics.trans if param.get("trans") == 1 else ""
        roma = _qrc_document(lyrics.roma) if param.get("roma") == 1 and lyrics.roma else ""
        return 0, {
            "songID": song.id if song else 0,
            "songName": song.name if song else "",
            "songType": 0,
            "singerName": "",
            "qli": 0,
            "crypt": int(crypt),
            "lyric": seal(lyric),
            "trans": seal(trans),
            "roma": seal(roma),
            "lrc_t": 1_700_000_000 if lyrics.lrc else 0,
            "qrc_t": 1_700_000_000 if lyrics.qrc else 0,
            "trans_t": 0,
            "roma_t": 0,
            "lyric_style": 0,
            "classical": 0,
            "introduceTitle": "",
            "introduceText": [],
            "vecSongID": [],
            "track": {},
            "startTs": 0,
            "transSource": 0,
        }

    # -- albums, artists, playlists, charts ----------------------------------------------

    def _slice(self, items: list[Any], begin: Any, num: Any, cap: str) -> list[Any]:
        start = max(int(begin or 0), 0)
        count = min(max(int(num or 0), 0), self.page_caps[cap])
        return items[start : start + count]

    def _album_detail(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        album = self.catalogue.album(param.get("albumMId") or param.get("albumId") or "")
        if album is None:
            return 0, {
                "basicInfo": {"albumID": 0, "albumMid": "", "albumName": ""},
                "company": {},
                "singer": {"singerList": []},
            }
        return 0, shapes.album_basic_info(self.catalogue, album)

    def _album_songs(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        album = self.catalogue.album(param.get("albumMid") or param.get("albumId") or "")
        mids = album.song_mids if album else []
        picked = self._slice(mids, param.get("begin"), param.get("num"), "album")
        songs = [
            {
                "songInfo": shapes.track(self.catalogue, self.catalogue.songs[m]),
                "listenCount": 0,
                "uploadTime": "",
            }
            for m in picked
        ]
        return 0, {"albumMid": album.mid if album else "", "totalNum": len(mids), "songList": songs}

    def _artist_header(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        artist = self.catalogue.artists.get(str(param.get("SingerMid", "")))
        if artist is None:
            return 0, {"Status": 0, "Info": {"Singer": {}, "BaseInfo": {}}, "TabDetail": {}}
        return 0, shapes.homepage_header(artist)

    def _artist_detail(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        found = [
            self.catalogue.artists[m]
            for m in param.get("singer_mids") or []
            if m in self.catalogue.artists
        ]
        return 0, {"singer_list": [shapes.singer_detail(a) for a in found]}

    def _artist_songs(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        mid = str(param.get("singerMid", ""))
        songs = self.catalogue.songs_of(mid)
        picked = self._slice(songs, param.get("begin"), param.get("number"), "artist")
        return 0, {
            "singerMid": mid,
            "totalNum": len(songs),
            "songList": [{"songInfo": shapes.track(self.catalogue, s)} for s in picked],
        }

    def _artist_albums(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        mid = str(param.get("singerMid", ""))
        albums = self.catalogue.albums_of(mid)
        picked = self._slice(albums, param.get("begin"), param.get("number"), "artist")
        return 0, {
            "singerMid": mid,
            "total": len(albums),
            "albumList": [shapes.album_brief(self.catalogue, a) for a in picked],
        }

    def _playlist(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        playlist = self.catalogue.playlists.get(int(param.get("disstid") or 0))
        if playlist is None:
            return 0, {
                "code": 4000,
                "subcode": 4000,
                "msg": "no such playlist",
                "dirinfo": {"id": 0},
                "songlist": [],
                "songlist_size": 0,
                "total_song_num": 0,
                "hasmore": 0,
            }
        begin = int(param.get("song_begin") or 0)
        picked = self._slice(playlist.song_mids, begin, param.get("song_num"), "playlist")
        return 0, {
            "code": 0,
            "subcode": 0,
            "msg": "",
            "accessed_plaza_cache": 0,
            "dirinfo": shapes.playlist_dirinfo(playlist),
            "songlist": [shapes.track(self.catalogue, self.catalogue.songs[m]) for m in picked],
            "songlist_size": len(picked),
            "total_song_num": len(playlist.song_mids),
            "hasmore": int(begin + len(picked) < len(playlist.song_mids)),
            "songtag": [],
            "orderlist": [],
        }

    def _charts(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        groups: dict[int, dict[str, Any]] = {}
        for chart in self.catalogue.charts.values():
            group = groups.setdefault(
                chart.group_id,
                {
                    "groupId": chart.group_id,
                    "groupName": chart.group_name,
                    "type": 0,
                    "toplist": [],
                },
            )
            group["toplist"].append(shapes.chart_summary(self.catalogue, chart))
        return 0, {"group": list(groups.values())}

    def _chart(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        chart = self.catalogue.charts.get(int(param.get("topId") or 0))
        if chart is None:
            return 0, {"data": {}, "songInfoList": [], "songTagInfoList": [], "extInfoList": []}
        picked = self._slice(chart.song_mids, param.get("offset"), param.get("num"), "chart")
        return 0, {
            "data": shapes.chart_summary(self.catalogue, chart),
            "songInfoList": [shapes.track(self.catalogue, self.catalogue.songs[m]) for m in picked],
            "songTagInfoList": [],
            "extInfoList": [],
            "indexInfoList": [],
        }

    # -- logins ------------------------------------------------------------------------------

    def _user_info(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        account = ctx.account
        if account is None:
            return LOGIN_EXPIRED, {}
        return 0, {
            "nick": account.nick,
            "headurl": "",
            "musicid": account.musicid,
            "vipinfo": {"vip_flag": int(account.vip), "score": 0},
        }

    def _login(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        if "strAppid" in param:
            if param.get("strAppid") != WECHAT_APP_ID:
                return BAD_PARAM, {}
            musicid = self.wechat_codes.pop(str(param.get("code", "")), None)
            account = self.accounts.get(musicid) if musicid else None
            if account is None or ctx.comm.get("tmeLoginType") != WECHAT_LOGIN:
                return BAD_LOGIN_CODE, {}
            self.accounts.rotate(account)
            return 0, self.accounts.credential(account)
        if "refresh_key" in param:
            refreshed = self.accounts.refresh(dict(param))
            if refreshed is None:
                return LOGIN_EXPIRED, {}
            return 0, self.accounts.credential(refreshed)
        return 20261, {}

    def _qq_login(self, param: Mapping[str, Any], ctx: Context) -> tuple[int, dict[str, Any]]:
        musicid = self.connect_codes.pop(str(param.get("code", "")), None)
        account = self.accounts.get(musicid) if musicid else None
        if account is None:
            return BAD_LOGIN_CODE, {}
        self.accounts.rotate(account)
        return 0, self.accounts.credential(account)


def _request_order(key: str) -> tuple[int, str]:
    suffix = key.rsplit("_", 1)[-1]
    return (int(suffix), key) if suffix.isdigit() else (1 << 30, key)


def _qrc_document(content: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<QrcInfos>\n'
        '<QrcHeadInfo SaveTime="1700000000" Version="100"/>\n<LyricInfo LyricCount="1">\n'
        f'<Lyric_1 LyricType="1" LyricContent="{html.escape(content, quote=True)}"/>\n'
        "</LyricInfo>\n</QrcInfos>"
    )


_HANDLERS: dict[str, Handler] = {
    "music.trackInfo.UniformRuleCtrl.CgiGetTrackInfo": MusicuFake._track_info,
    "music.pf_song_detail_svr.get_song_detail_yqq": MusicuFake._song_detail,
    "music.search.SearchCgiService.DoSearchForQQMusicMobile": MusicuFake._search,
    "music.vkey.GetVkey.UrlGetVkey": MusicuFake._vkey,
    "music.vkey.GetEVkey.CgiGetEVkey": MusicuFake._evkey,
    "music.musichallSong.PlayLyricInfo.GetPlayLyricInfo": MusicuFake._lyric,
    "music.musichallAlbum.AlbumInfoServer.GetAlbumDetail": MusicuFake._album_detail,
    "music.musichallAlbum.AlbumSongList.GetAlbumSongList": MusicuFake._album_songs,
    "music.UnifiedHomepage.UnifiedHomepageSrv.GetHomepageHeader": MusicuFake._artist_header,
    "music.musichallSinger.SingerInfoInter.GetSingerDetail": MusicuFake._artist_detail,
    "musichall.song_list_server.GetSingerSongList": MusicuFake._artist_songs,
    "music.musichallAlbum.AlbumListServer.GetAlbumList": MusicuFake._artist_albums,
    "music.srfDissInfo.DissInfo.CgiGetDiss": MusicuFake._playlist,
    "music.musicToplist.Toplist.GetAll": MusicuFake._charts,
    "music.musicToplist.Toplist.GetDetail": MusicuFake._chart,
    "music.UserInfo.userInfoServer.GetLoginUserInfo": MusicuFake._user_info,
    "music.login.LoginServer.Login": MusicuFake._login,
    "QQConnectLogin.LoginServer.QQLogin": MusicuFake._qq_login,
}
