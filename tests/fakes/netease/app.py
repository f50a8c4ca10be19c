"""A fake NetEase Cloud Music API as an ASGI app.

It speaks the real protocol: ``POST /weapi/<path>`` with the form ``params``/``encSecKey``
and ``POST /eapi/<path>`` with ``params``, both decrypted with the real algorithms (see
``ciphers``) before anything is answered; the API path is ``/api/<path>``. A request that
does not decrypt, whose eapi digest or path does not match, or whose weapi ``csrf_token``
differs from its login's ``__csrf`` is answered 400 and recorded in ``protocol_errors``
(tests assert that list stays empty). Unknown paths answer an HTML 404 page, as NetEase's
web server does.

Answers have NetEase's real shapes (see ``catalogue`` and ``accounts``). Who the caller is
comes from the ``MUSIC_U`` cookie (weapi) or the eapi ``header``: an unknown or ended one
is a visitor, as on NetEase.

Knobs: ``inject`` canned answers or statuses for a path (error codes, unreadable bodies),
``delay`` every answer, ``gate`` (an ``asyncio.Event``) holds every answer until set,
``in_flight``/``max_in_flight`` count concurrent requests, ``encrypted_gzip`` compresses
encrypted eapi answers. Use it through ``httpx.ASGITransport(app=fake.app)`` or on
loopback with ``tests.fakes.netease.server.FakeNeteaseServer``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.fakes.netease.accounts import FakeAccount, Login, Logins, default_logins
from tests.fakes.netease.catalogue import Catalogue, demo_catalogue
from tests.fakes.netease.ciphers import (
    ProtocolError,
    eapi_decrypt,
    encrypt_answer,
    fake_rsa_key,
    weapi_decrypt,
)

NOT_FOUND = {"code": 404, "msg": "该资源不存在。"}
NEED_LOGIN = {"msg": "需要登录", "code": 301, "message": "需要登录"}
_ANONYMOUS_ID_KEY = b"3go8&$8*3*3h0k(2)2"


@dataclass(frozen=True)
class Call:
    crypto: str
    api_path: str
    payload: dict[str, Any]
    cookies: dict[str, str]
    headers: dict[str, str]
    login: Login | None

    @property
    def vip(self) -> bool:
        return self.login is not None and self.login.account.vip


@dataclass
class Injection:
    api_path: str | None
    body: dict[str, Any] | None
    status: int
    raw: bytes | None
    times: int


@dataclass
class Answer:
    body: dict[str, Any]
    set_cookies: list[str] = field(default_factory=list)


Handler = Callable[[Call, re.Match[str]], Answer]


class FakeNetease:
    def __init__(self, catalogue: Catalogue | None = None, logins: Logins | None = None) -> None:
        self.catalogue = catalogue or demo_catalogue()
        self.logins = logins or default_logins()
        self.rsa_key = fake_rsa_key()
        self.calls: list[Call] = []
        self.protocol_errors: list[str] = []
        self.delay = 0.0
        self.gate: asyncio.Event | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self.encrypted_gzip = False
        self.refresh_ends_login = False
        """The login refresh call logs out instead (``MUSIC_U`` deleted by ``Set-Cookie``)."""
        self._injections: list[Injection] = []
        self._arrivals: asyncio.Condition | None = None
        self._routes: list[tuple[re.Pattern[str], Handler]] = [
            (re.compile(pattern + r"$"), handler)
            for pattern, handler in (
                (r"/api/v3/song/detail", self._song_detail),
                (r"/api/cloudsearch/pc", self._search),
                (r"/api/song/enhance/player/url/v1", self._play_url),
                (r"/api/song/lyric/v1", self._lyric),
                (r"/api/v1/album/(\d+)", self._album),
                (r"/api/v1/artist/(\d+)", self._artist),
                (r"/api/v1/artist/songs", self._artist_songs),
                (r"/api/artist/albums/(\d+)", self._artist_albums),
                (r"/api/v6/playlist/detail", self._playlist),
                (r"/api/toplist", self._toplists),
                (r"/api/w/nuser/account/get", self._account),
                (r"/api/login/token/refresh", self._refresh),
                (r"/api/w/login/cellphone", self._login_cellphone),
                (r"/api/w/login", self._login_email),
                (r"/api/login/qrcode/unikey", self._qr_key),
                (r"/api/login/qrcode/client/login", self._qr_check),
                (r"/api/register/anonimous", self._register_anonymous),
                (r"/api/sms/captcha/sent", self._captcha_sent),
                (r"/api/sms/captcha/verify", self._captcha_verify),
            )
        ]
        self.app = Starlette(
            routes=[
                Route("/weapi/{rest:path}", self._weapi, methods=["POST"]),
                Route("/eapi/{rest:path}", self._eapi, methods=["POST"]),
            ]
        )

    # -- test controls -----------------------------------------------------------------

    @property
    def rsa_modulus(self) -> int:
        return self.rsa_key.public_key().public_numbers().n

    @property
    def rsa_exponent(self) -> int:
        return self.rsa_key.public_key().public_numbers().e

    def inject(
        self,
        api_path: str | None,
        body: dict[str, Any] | None = None,
        *,
        status: int = 200,
        raw: bytes | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls to ``api_path`` (any path when ``None``) with
        ``body`` (or the bytes ``raw``) and HTTP ``status`` instead of the real answer."""
        self._injections.append(Injection(api_path, body, status, raw, times))

    def issue_cookie(self, nickname: str = "vip-listener") -> str:
        """A live login's cookie as a browser would hold it (``MUSIC_U`` and ``__csrf``)."""
        token, login = self.logins.open(self.logins.named(nickname))
        return f"MUSIC_U={token}; __csrf={login.csrf}"

    async def wait_in_flight(self, count: int) -> None:
        """Until ``count`` requests are being answered at once (use with ``gate``)."""
        arrivals = self._arrivals_condition()
        async with arrivals:
            await arrivals.wait_for(lambda: self.in_flight >= count)

    def _arrivals_condition(self) -> asyncio.Condition:
        if self._arrivals is None:
            self._arrivals = asyncio.Condition()
        return self._arrivals

    def calls_to(self, api_path: str) -> list[Call]:
        return [c for c in self.calls if c.api_path == api_path]

    # -- protocol ----------------------------------------------------------------------

    async def _weapi(self, request: Request) -> Response:
        form = await _form(request)
        cookies = _cookies(request.headers.get("cookie", ""))
        try:
            params, enc_sec_key = form.get("params"), form.get("encSecKey")
            if not isinstance(params, str) or not isinstance(enc_sec_key, str):
                raise ProtocolError("weapi form needs params and encSecKey")
            payload = weapi_decrypt(params, enc_sec_key, self.rsa_key)
            login = self.logins.who(cookies.get("MUSIC_U"))
            if login is not None and payload.get("csrf_token") != login.csrf:
                raise ProtocolError("weapi csrf_token is not the login's __csrf")
            if "csrf_token" not in payload:
                raise ProtocolError("weapi payload has no csrf_token")
        except ProtocolError as exc:
            return self._refuse(str(exc))
        api_path = "/api/" + request.path_params["rest"]
        call = Call("weapi", api_path, payload, cookies, dict(request.headers), login)
        return await self._answer(call, encrypt=False)

    async def _eapi(self, request: Request) -> Response:
        form = await _form(request)
        cookies = _cookies(request.headers.get("cookie", ""))
        try:
            params = form.get("params")
            if not isinstance(params, str):
                raise ProtocolError("eapi form needs params")
            decrypted = eapi_decrypt(params)
            api_path = "/api/" + request.path_params["rest"]
            if decrypted.api_path != api_path:
                raise ProtocolError(f"eapi path {decrypted.api_path} sent to {api_path}")
            header = decrypted.payload.get("header")
            if not isinstance(header, dict) or "os" not in header or "appver" not in header:
                raise ProtocolError("eapi payload has no client header")
            if header.get("MUSIC_U", cookies.get("MUSIC_U")) != cookies.get("MUSIC_U"):
                raise ProtocolError("eapi header and cookie name different logins")
        except ProtocolError as exc:
            return self._refuse(str(exc))
        login = self.logins.who(header.get("MUSIC_U"))
        call = Call("eapi", api_path, decrypted.payload, cookies, dict(request.headers), login)
        return await self._answer(call, encrypt=decrypted.payload.get("e_r") is True)

    def _refuse(self, reason: str) -> Response:
        self.protocol_errors.append(reason)
        return JSONResponse({"code": 400, "message": "参数错误", "msg": reason}, status_code=400)

    async def _answer(self, call: Call, *, encrypt: bool) -> Response:
        self.calls.append(call)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        arrivals = self._arrivals_condition()
        async with arrivals:
            arrivals.notify_all()
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.delay:
                await asyncio.sleep(self.delay)
            injected = self._take_injection(call.api_path)
            if injected is not None:
                if injected.raw is not None:
                    return Response(injected.raw, status_code=injected.status)
                return JSONResponse(injected.body or {}, status_code=injected.status)
            for pattern, handler in self._routes:
                match = pattern.match(call.api_path)
                if match:
                    answer = handler(call, match)
                    break
            else:
                return HTMLResponse("<html><body>404 Not Found</body></html>", status_code=404)
        finally:
            self.in_flight -= 1
        return self._response(answer, encrypt)

    def _response(self, answer: Answer, encrypt: bool) -> Response:
        if encrypt:
            response: Response = Response(
                encrypt_answer(answer.body, compress=self.encrypted_gzip),
                media_type="application/octet-stream",
            )
        else:
            response = JSONResponse(answer.body)
        for header in answer.set_cookies:
            response.headers.append("set-cookie", header)
        return response

    def _take_injection(self, api_path: str) -> Injection | None:
        for injection in self._injections:
            if injection.api_path in (None, api_path):
                injection.times -= 1
                if injection.times <= 0:
                    self._injections.remove(injection)
                return injection
        return None

    # -- music -------------------------------------------------------------------------

    def _song_detail(self, call: Call, _: re.Match[str]) -> Answer:
        wanted = _json_list(call.payload.get("c"))
        songs = [
            self.catalogue.songs[i]
            for i in (int(entry["id"]) for entry in wanted)
            if i in self.catalogue.songs
        ]
        return Answer(
            {
                "songs": [self.catalogue.song_entry(s) for s in songs],
                "privileges": [self.catalogue.privilege(s, call.vip) for s in songs],
                "code": 200,
            }
        )

    def _search(self, call: Call, _: re.Match[str]) -> Answer:
        query = str(call.payload.get("s", "")).lower()
        kind = int(call.payload.get("type", 1))
        limit, offset = int(call.payload.get("limit", 30)), int(call.payload.get("offset", 0))
        c = self.catalogue
        result: dict[str, Any]
        if kind == 1:
            hits = [
                s
                for s in c.songs.values()
                if query in s.name.lower()
                or any(query in c.artists[a].name.lower() for a in s.artist_ids)
            ]
            entries = [c.song_with_privilege(s, call.vip) for s in hits[offset : offset + limit]]
            result = {"searchQcReminder": None, "songs": entries, "songCount": len(hits)}
        elif kind == 10:
            albums = [a for a in c.albums.values() if query in a.name.lower()]
            page = [c.album_entry(a) for a in albums[offset : offset + limit]]
            result = {"albums": page, "albumCount": len(albums)}
        elif kind == 100:
            artists = [a for a in c.artists.values() if query in a.name.lower()]
            page = [c.artist_search_entry(a) for a in artists[offset : offset + limit]]
            result = {"artists": page, "artistCount": len(artists), "hasMore": False}
        elif kind == 1000:
            lists = [p for p in c.playlists.values() if query in p.name.lower() and not p.toplist]
            page = [c.playlist_search_entry(p) for p in lists[offset : offset + limit]]
            result = {"playlists": page, "playlistCount": len(lists), "hasMore": False}
        else:
            result = {}
        if not any(v for k, v in result.items() if k.endswith("Count")):
            result = {}  # NetEase answers an empty result object when nothing matched
        return Answer({"result": result, "code": 200})

    def _play_url(self, call: Call, _: re.Match[str]) -> Answer:
        ids = [int(i) for i in _json_list(call.payload.get("ids"))]
        level = str(call.payload.get("level", "standard"))
        if level == "sky" and call.payload.get("immerseType") is None:
            self.protocol_errors.append("level sky asked without immerseType")
        now_ms = int(self.logins.now * 1000)
        items = [self.catalogue.url_item(i, level, call.vip, now_ms) for i in ids]
        return Answer({"data": items, "code": 200})

    def _lyric(self, call: Call, _: re.Match[str]) -> Answer:
        song = self.catalogue.songs.get(int(call.payload.get("id", 0)))
        base = {"sgc": False, "sfy": False, "qfy": False}
        if song is None or song.uncollected:
            return Answer(
                {"uncollected": True, "sgc": True, "sfy": False, "qfy": False,
                 "needDesc": True, "code": 200, "briefDesc": None}
            )  # fmt: skip
        if song.lyric is None:
            return Answer({**base, "nolyric": True, "code": 200})
        user = {"id": 1, "status": 99, "demand": 0, "userid": 1, "nickname": "lyricist",
                "uptime": 1_600_000_000_000}  # fmt: skip

        def track(text: str) -> dict[str, Any]:
            return {"version": 3 if text else 0, "lyric": text}

        return Answer(
            {
                **base,
                "transUser": user,
                "lyricUser": user,
                "lrc": track(song.lyric.lrc),
                "klyric": track(""),
                "tlyric": track(song.lyric.tlyric),
                "romalrc": track(song.lyric.romalrc),
                "yrc": track(song.lyric.yrc),
                "ytlrc": track(""),
                "yromalrc": track(""),
                "code": 200,
            }
        )

    def _album(self, call: Call, match: re.Match[str]) -> Answer:
        album = self.catalogue.albums.get(int(match.group(1)))
        if album is None:
            return Answer(dict(NOT_FOUND))
        tracks = sorted(
            (s for s in self.catalogue.songs.values() if s.album_id == album.id),
            key=lambda s: s.number,
        )
        return Answer(
            {
                "resourceState": True,
                "songs": [self.catalogue.song_with_privilege(s, call.vip) for s in tracks],
                "code": 200,
                "album": self.catalogue.album_entry(album),
            }
        )

    def _artist(self, call: Call, match: re.Match[str]) -> Answer:
        artist = self.catalogue.artists.get(int(match.group(1)))
        if artist is None:
            return Answer(dict(NOT_FOUND))
        hot = self.catalogue.songs_by(artist.id)[:50]
        return Answer(
            {
                "artist": self.catalogue.artist_entry(artist),
                "hotSongs": [self.catalogue.song_with_privilege(s, call.vip) for s in hot],
                "more": len(self.catalogue.songs_by(artist.id)) > 50,
                "code": 200,
            }
        )

    def _artist_songs(self, call: Call, _: re.Match[str]) -> Answer:
        songs = self.catalogue.songs_by(int(call.payload.get("id", 0)))
        limit, offset = int(call.payload.get("limit", 100)), int(call.payload.get("offset", 0))
        page = songs[offset : offset + limit]
        return Answer(
            {
                "songs": [self.catalogue.song_with_privilege(s, call.vip) for s in page],
                "more": offset + len(page) < len(songs),
                "total": len(songs),
                "code": 200,
            }
        )

    def _artist_albums(self, call: Call, match: re.Match[str]) -> Answer:
        artist = self.catalogue.artists.get(int(match.group(1)))
        if artist is None:
            return Answer(dict(NOT_FOUND))
        albums = self.catalogue.albums_by(artist.id)
        limit, offset = int(call.payload.get("limit", 30)), int(call.payload.get("offset", 0))
        page = albums[offset : offset + limit]
        return Answer(
            {
                "artist": self.catalogue.artist_entry(artist),
                "hotAlbums": [self.catalogue.album_entry(a) for a in page],
                "more": offset + len(page) < len(albums),
                "code": 200,
            }
        )

    def _playlist(self, call: Call, _: re.Match[str]) -> Answer:
        playlist = self.catalogue.playlists.get(int(call.payload.get("id", 0)))
        if playlist is None:
            return Answer(dict(NOT_FOUND))
        # Without a login NetEase cuts ``tracks`` short; ``trackIds`` is always complete.
        shown = playlist.track_ids if call.login else playlist.track_ids[:10]
        songs = [self.catalogue.songs[i] for i in shown]
        header = {
            **self.catalogue.playlist_header(playlist),
            "creator": self.catalogue.creator(playlist),
            "tracks": [self.catalogue.song_entry(s) for s in songs],
            "trackIds": [
                {"id": i, "v": 12, "t": 0, "at": 1_600_000_000_000 + n, "alg": None,
                 "uid": playlist.creator_id, "rcmdReason": "", "sc": None, "f": None, "sr": None}
                for n, i in enumerate(playlist.track_ids)
            ],
            "shareCount": 3,
            "commentCount": 7,
        }  # fmt: skip
        return Answer(
            {
                "code": 200,
                "relatedVideos": None,
                "playlist": header,
                "urls": None,
                "privileges": [self.catalogue.privilege(s, call.vip) for s in songs],
                "sharedPrivilege": None,
                "resEntrance": None,
            }
        )

    def _toplists(self, call: Call, _: re.Match[str]) -> Answer:
        charts = [p for p in self.catalogue.playlists.values() if p.toplist]
        return Answer(
            {
                "code": 200,
                "list": [self.catalogue.playlist_header(p) for p in charts],
                "artistToplist": {
                    "coverUrl": "http://p1.music.126.net/artist-toplist.jpg",
                    "name": "云音乐歌手榜",
                    "upateFrequency": "每天更新",
                    "position": 5,
                    "updateFrequency": "每天更新",
                },
            }
        )

    # -- logins ------------------------------------------------------------------------

    def _account(self, call: Call, _: re.Match[str]) -> Answer:
        if call.login is None:
            return Answer({"code": 200, "account": None, "profile": None})
        account = call.login.account
        return Answer(
            {
                "code": 200,
                "account": self.logins.account_json(account),
                "profile": self.logins.profile_json(account),
            }
        )

    def _refresh(self, call: Call, _: re.Match[str]) -> Answer:
        if call.login is None:
            return Answer(dict(NEED_LOGIN))
        self.logins.end(call.cookies["MUSIC_U"])
        if self.refresh_ends_login:
            gone = "MUSIC_U=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/"
            return Answer({"code": 200}, [gone])
        token, login = self.logins.open(call.login.account)
        return Answer({"code": 200, "bizCode": "200"}, self.logins.login_cookies(token, login))

    def _logged_in(self, account: FakeAccount, login_type: int) -> Answer:
        token, login = self.logins.open(account)
        body = {
            "loginType": login_type,
            "code": 200,
            "account": self.logins.account_json(account),
            "token": token,
            "profile": self.logins.profile_json(account),
            "bindings": [
                {"userId": account.user_id, "url": "", "expired": False,
                 "bindingTime": 1_500_000_000_000, "tokenJsonStr": None, "expiresIn": 2147483647,
                 "refreshTime": 1_500_000_000, "id": 1, "type": 1}
            ],
        }  # fmt: skip
        return Answer(body, self.logins.login_cookies(token, login))

    def _login_cellphone(self, call: Call, _: re.Match[str]) -> Answer:
        data = call.payload
        phone, country = str(data.get("phone", "")), str(data.get("countrycode", "86"))
        account = self.logins.find_phone(phone, country)
        if account is None:
            return Answer({"msg": "该手机号尚未注册", "code": 501, "message": "该手机号尚未注册"})
        if "captcha" in data:
            if self.logins.captchas_sent.get((country, phone)) != data["captcha"]:
                return Answer({"msg": "验证码错误", "code": 503, "message": "验证码错误"})
        elif not self.logins.password_matches(account, str(data.get("password", ""))):
            return Answer({"msg": "密码错误", "code": 502, "message": "密码错误"})
        return self._logged_in(account, 1)

    def _login_email(self, call: Call, _: re.Match[str]) -> Answer:
        account = self.logins.find_email(str(call.payload.get("username", "")))
        if account is None:
            return Answer({"msg": "帐号不存在", "code": 501, "message": "帐号不存在"})
        if not self.logins.password_matches(account, str(call.payload.get("password", ""))):
            return Answer({"msg": "密码错误", "code": 502, "message": "密码错误"})
        return self._logged_in(account, 0)

    def _qr_key(self, call: Call, _: re.Match[str]) -> Answer:
        if call.payload.get("type") != 3:
            self.protocol_errors.append("QR key asked without type 3")
        return Answer({"code": 200, "unikey": self.logins.new_qr_key()})

    def _qr_check(self, call: Call, _: re.Match[str]) -> Answer:
        session = self.logins.qr_sessions.get(str(call.payload.get("key", "")))
        if session is None or session.expired:
            return Answer({"code": 800, "message": "二维码不存在或已过期"})
        state = session.states[min(session.position, len(session.states) - 1)]
        session.position += 1
        if state == 801:
            return Answer({"code": 801, "message": "等待扫码"})
        if state == 802:
            return Answer(
                {"code": 802, "message": "授权中", "nickname": session.account.nickname,
                 "avatarUrl": "http://p1.music.126.net/avatar/109951165000000000.jpg"}
            )  # fmt: skip
        if state == 803:
            session.expired = True  # a key logs in once
            token, login = self.logins.open(session.account)
            return Answer(
                {"code": 803, "message": "授权登陆成功"},
                self.logins.login_cookies(token, login),
            )
        return Answer({"code": state, "message": "二维码不存在或已过期"})

    def _register_anonymous(self, call: Call, _: re.Match[str]) -> Answer:
        try:
            device_id, digest = base64.b64decode(str(call.payload["username"])).decode().split(" ")
        except (KeyError, ValueError):
            self.protocol_errors.append("anonymous username is not base64 of 'id digest'")
            return Answer({"code": 400, "message": "参数错误"})
        raw = device_id.encode()
        xored = bytes(b ^ _ANONYMOUS_ID_KEY[i % len(_ANONYMOUS_ID_KEY)] for i, b in enumerate(raw))
        if base64.b64encode(hashlib.md5(xored).digest()).decode() != digest:
            self.protocol_errors.append("anonymous username digest does not match its id")
            return Answer({"code": 400, "message": "参数错误"})
        token = secrets.token_hex(48)
        self.logins.visitors.add(token)
        cookie = (
            f"MUSIC_A={token}; Max-Age=2147483647; Expires=Tue, 19 Jan 2106 05:23:51 GMT; Path=/;"
        )
        return Answer(
            {"code": 200, "userId": 9_000_000_000 + len(self.logins.visitors),
             "createTime": int(time.time() * 1000)},
            [cookie],
        )  # fmt: skip

    def _captcha_sent(self, call: Call, _: re.Match[str]) -> Answer:
        key = (str(call.payload.get("ctcode", "86")), str(call.payload.get("cellphone", "")))
        if call.payload.get("secrete") != "music_middleuser_pclogin":
            self.protocol_errors.append("captcha sent without the PC login purpose")
        if key in self.logins.captchas_sent:
            return Answer({"code": 405, "message": "发送验证码间隔过短", "data": False})
        self.logins.captchas_sent[key] = self.logins.captcha_code
        return Answer({"code": 200, "message": "", "data": True})

    def _captcha_verify(self, call: Call, _: re.Match[str]) -> Answer:
        key = (str(call.payload.get("ctcode", "86")), str(call.payload.get("cellphone", "")))
        if self.logins.captchas_sent.get(key) == call.payload.get("captcha"):
            return Answer({"code": 200, "message": "", "data": True})
        return Answer({"code": 503, "message": "验证码错误", "data": False})


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded form (each name's first value), read without python-multipart."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    fields = parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _cookies(header: str) -> dict[str, str]:
    pairs = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            pairs[unquote(name)] = unquote(value)
    return pairs


def _json_list(value: object) -> list[Any]:
    if not isinstance(value, str):
        return []
    parsed = json.loads(value)
    return parsed if isinstance(parsed, list) else []
