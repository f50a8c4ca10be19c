"""The fake QR login pages: QQ's ptlogin2 (``ptqrshow``, ``ptqrlogin``, ``check_sig`` and
one more cookie-setting hop, ``graph.qq.com``'s ``login_jump`` and ``authorize``) and
WeChat's ``qrconnect`` (page, image, long poll). Each new QR code follows a scripted scan
sequence (``qq_script`` / ``wechat_script``) and, once confirmed, logs in ``scanner``."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from tests.fakes.qqmusic.accounts import WECHAT_LOGIN, Accounts, FakeAccount
from tests.fakes.qqmusic.musicu import WECHAT_APP_ID, MusicuFake
from tests.fakes.qqmusic.protocol import hash33

PTLOGIN_APP = "716027609"
CONNECT_APP = "100497308"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff\xe0"
HOLD = "hold"
"""A WeChat script step: keep the long poll open ``wechat_hold_s``, then answer 408."""

_QQ_MESSAGES = {
    66: "二维码未失效。",
    67: "二维码认证中。",
    65: "二维码已失效。",
    68: "本次登录已被拒绝",
    0: "登录成功！",
}


@dataclass
class _Scan:
    script: list[int | str]
    step: int = 0

    def next(self) -> int | str:
        value = self.script[min(self.step, len(self.script) - 1)]
        self.step += 1
        return value


@dataclass
class LoginPagesFake:
    accounts: Accounts
    musicu: MusicuFake
    qq_scanner: FakeAccount
    wechat_scanner: FakeAccount
    qq_script: list[int | str] = field(default_factory=lambda: [66, 67, 0])
    wechat_script: list[int | str] = field(default_factory=lambda: [408, 404, 405])
    wechat_hold_s: float = 1.0
    check_sig_origin: str | None = None
    """Where ``ptqrlogin`` points ``check_sig`` (default: the fake itself)."""
    graph_origin: str | None = None
    """Where the ``check_sig`` chain ends (default: the fake itself)."""
    refuse_authorize: bool = False
    """QQ Connect answers the authorise step with an error page."""
    visits: list[str] = field(default_factory=list)
    """``host/path`` of every login page request, in order."""
    _qq: dict[str, _Scan] = field(default_factory=dict)
    _wechat: dict[str, _Scan] = field(default_factory=dict)
    _sigx: dict[str, int] = field(default_factory=dict)
    _hop: dict[str, int] = field(default_factory=dict)
    _p_skey: dict[str, int] = field(default_factory=dict)

    # -- QQ (ptlogin2 + graph.qq.com) --------------------------------------------------------

    async def ptqrshow(self, request: Request) -> Response:
        if request.query_params.get("appid") != PTLOGIN_APP:
            return PlainTextResponse("bad appid", status_code=400)
        qrsig = secrets.token_urlsafe(32)
        self._qq[qrsig] = _Scan(list(self.qq_script))
        response = Response(PNG_MAGIC + secrets.token_bytes(64), media_type="image/png")
        response.set_cookie("qrsig", qrsig, path="/", domain="ptlogin2.qq.com")
        return response

    async def ptqrlogin(self, request: Request) -> Response:
        qrsig = request.cookies.get("qrsig", "")
        scan = self._qq.get(qrsig)
        token = request.query_params.get("ptqrtoken", "")
        if scan is None or token != str(hash33(qrsig)):
            return _ptui_cb(-1, "", "参数错误")
        code = scan.next()
        if code != 0:
            return _ptui_cb(int(code), "", _QQ_MESSAGES.get(int(code), ""))
        del self._qq[qrsig]
        sigx = secrets.token_urlsafe(48)
        self._sigx[sigx] = self.qq_scanner.musicid
        origin = self.check_sig_origin or _origin(request)
        query = urlencode(
            {
                "pttype": "1",
                "uin": self.qq_scanner.musicid,
                "service": "ptqrlogin",
                "nodirect": "0",
                "ptsigx": sigx,
                "s_url": "https://graph.qq.com/oauth2.0/login_jump",
                "f_url": "",
                "ptlang": "2052",
                "ptredirect": "100",
                "aid": PTLOGIN_APP,
                "daid": "383",
                "j_later": "0",
                "low_login_hour": "0",
                "regmaster": "0",
                "pt_login_type": "3",
                "pt_aid": "0",
                "pt_aaid": "16",
                "pt_light": "0",
                "pt_3rd_aid": CONNECT_APP,
            }
        )
        return _ptui_cb(0, f"{origin}/check_sig?{query}", _QQ_MESSAGES[0])

    async def check_sig(self, request: Request) -> Response:
        self.visits.append(f"{request.url.netloc}{request.url.path}")
        musicid = self._sigx.pop(request.query_params.get("ptsigx", ""), None)
        if musicid is None or str(musicid) != request.query_params.get("uin"):
            return HTMLResponse("<html>ptlogin: invalid signature</html>", status_code=200)
        token = secrets.token_urlsafe(24)
        self._hop[token] = musicid
        response = RedirectResponse(f"{_origin(request)}/ptlogin/hop?pt4_token_check=1", 302)
        response.set_cookie("pt4_token", token, domain="graph.qq.com")
        response.set_cookie("uin", f"o{musicid:010d}", domain="qq.com")
        response.set_cookie("p_skey", "", domain="graph.qq.com")  # cleared first, as QQ does
        return response

    async def hop(self, request: Request) -> Response:
        self.visits.append(f"{request.url.netloc}{request.url.path}")
        musicid = self._hop.pop(request.cookies.get("pt4_token", ""), None)
        if musicid is None:
            return HTMLResponse("<html>ptlogin: no session</html>")
        p_skey = secrets.token_urlsafe(33)
        self._p_skey[p_skey] = musicid
        origin = self.graph_origin or _origin(request)
        response = RedirectResponse(f"{origin}/oauth2.0/login_jump", 302)
        response.set_cookie("p_skey", p_skey, domain="graph.qq.com")
        response.set_cookie("p_uin", f"o{musicid:010d}", domain="graph.qq.com")
        return response

    async def login_jump(self, request: Request) -> Response:
        self.visits.append(f"{request.url.netloc}{request.url.path}")
        return HTMLResponse("<html><script>window.close()</script></html>")

    async def authorize(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        p_skey = request.cookies.get("p_skey", "")
        musicid = self._p_skey.get(p_skey)
        if (
            self.refuse_authorize
            or musicid is None
            or form.get("client_id") != CONNECT_APP
            or form.get("response_type") != "code"
            or form.get("g_tk") != str(hash33(p_skey, 5381))
        ):
            return HTMLResponse("<html>授权失败</html>")
        code = secrets.token_hex(16).upper()
        self.musicu.connect_codes[code] = musicid
        redirect = form.get("redirect_uri", "https://y.qq.com/")
        return RedirectResponse(f"{redirect}&code={code}&state={form.get('state', '')}", 302)

    # -- WeChat (open.weixin.qq.com) ---------------------------------------------------------

    async def qrconnect(self, request: Request) -> Response:
        if request.query_params.get("appid") != WECHAT_APP_ID:
            return HTMLResponse("<html>appid error</html>")
        qr_uuid = "0" + secrets.token_urlsafe(12).replace("-", "a").replace("_", "b")
        self._wechat[qr_uuid] = _Scan(list(self.wechat_script))
        page = (
            "<!DOCTYPE html><html><head><title>WeChat login</title></head><body>"
            f'<div class="wrp_code"><img class="qrcode lightBorder" src="/connect/qrcode/{qr_uuid}" /></div>'  # noqa: E501
            '<script>var fordevtool = "https://long.open.weixin.qq.com/connect/l/qrconnect?'
            f'uuid={qr_uuid}";</script></body></html>'
        )
        return HTMLResponse(page)

    async def qrcode(self, request: Request) -> Response:
        if request.path_params["uuid"] not in self._wechat:
            return Response(status_code=404)
        return Response(JPEG_MAGIC + secrets.token_bytes(64), media_type="image/jpeg")

    async def long_poll(self, request: Request) -> Response:
        scan = self._wechat.get(request.query_params.get("uuid", ""))
        if scan is None:
            return _wx_status(402, "")
        code = scan.next()
        if code == HOLD:
            await asyncio.sleep(self.wechat_hold_s)
            return _wx_status(408, "")
        if code != 405:
            return _wx_status(int(code), "")
        wx_code = "071" + secrets.token_hex(14)
        if self.wechat_scanner.login_type != WECHAT_LOGIN:
            raise ValueError("the WeChat scanner must be a WeChat account")
        self.musicu.wechat_codes[wx_code] = self.wechat_scanner.musicid
        return _wx_status(405, wx_code)


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _ptui_cb(code: int, url: str, message: str) -> Response:
    body = f"ptuiCB('{code}','0','{url}','0','{message}', '')\r\n"
    return PlainTextResponse(body, media_type="application/javascript")


def _wx_status(code: int, wx_code: str) -> Response:
    return PlainTextResponse(f"window.wx_errcode={code};window.wx_code='{wx_code}';")
