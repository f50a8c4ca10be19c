"""NetEase login operations, for the admin-only ``/v1/netease/auth/*`` routes.

Each returns NetEase's JSON as it answered (whatever its code: a wrong password is an
answer, not a failure) plus, when the answer logged in, the resulting cookie as clean
``name=value`` pairs from its ``Set-Cookie`` headers, ready to store in the pool
(``LoginAnswer.payload``). Only transport trouble raises (``UpstreamUnreachable``,
``UpstreamBadAnswer``).

=====================  ======================================  ======  ===============
operation              NetEase API                              crypto  logged in when
=====================  ======================================  ======  ===============
login_cellphone        /api/w/login/cellphone                   weapi   code 200
login_email            /api/w/login                             weapi   code 200
qr_key                 /api/login/qrcode/unikey ``type=3``      eapi    (never)
qr_create              (none: the QR text is a NetEase URL)     --      --
qr_check               /api/login/qrcode/client/login           eapi    code 803
refresh                /api/login/token/refresh                 weapi   code 200
login_status           /api/w/nuser/account/get                 weapi   (never)
register_anonymous     /api/register/anonimous                  weapi   code 200 (MUSIC_A)
captcha_sent/verify    /api/sms/captcha/sent, /verify           weapi   (never)
=====================  ======================================  ======  ===============

Passwords are sent as NetEase expects them, MD5 hex (never logged, never kept).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from domain.clock import Clock, SystemClock
from integrations.netease import codes
from integrations.netease.cookies import (
    ANONYMOUS_COOKIE,
    LOGIN_COOKIE,
    apply_set_cookies,
    format_cookie,
    issued,
    parse_cookie,
)
from integrations.netease.payload import LoginCookie
from integrations.netease.transport import Answer, Crypto, NeteaseTransport
from integrations.qr import SegnoQrRenderer

CELLPHONE_LOGIN = "/api/w/login/cellphone"
EMAIL_LOGIN = "/api/w/login"
QR_KEY = "/api/login/qrcode/unikey"
QR_CHECK = "/api/login/qrcode/client/login"
LOGIN_REFRESH = "/api/login/token/refresh"
LOGIN_STATUS = "/api/w/nuser/account/get"
ANONYMOUS_REGISTER = "/api/register/anonimous"
CAPTCHA_SENT = "/api/sms/captcha/sent"
CAPTCHA_VERIFY = "/api/sms/captcha/verify"

QR_LOGIN_URL = "https://music.163.com/login?codekey="
"""What the QR code says: NetEase's app reads the key from it (nothing ever fetches it)."""
QR_TYPE = 3
CAPTCHA_PURPOSE = "music_middleuser_pclogin"
_ANONYMOUS_ID_KEY = b"3go8&$8*3*3h0k(2)2"
_MD5_HEX = re.compile(r"^[0-9a-fA-F]{32}$")


@dataclass(frozen=True, slots=True)
class LoginAnswer:
    body: dict[str, Any] = field(repr=False)
    """NetEase's JSON, unchanged (a login answer carries its token: never log it)."""
    cookie: str | None = field(default=None, repr=False)
    """The login cookie (``MUSIC_U=…; __csrf=…``) when this answer logged in."""
    expires_at: datetime | None = None
    """When that cookie's ``MUSIC_U`` ends, when NetEase said."""

    @property
    def code(self) -> int:
        return codes.answer_code(self.body, 200)

    def passthrough(self) -> dict[str, Any]:
        """The original gateway's shape: NetEase's JSON with ``cookie`` added on success."""
        return {**self.body, "cookie": self.cookie} if self.cookie else dict(self.body)

    def payload(self) -> bytes | None:
        """A pool payload for this login (``None`` without a ``MUSIC_U``: an anonymous or
        failed login cannot serve as a pooled account)."""
        if self.cookie is None:
            return None
        pairs = parse_cookie(self.cookie)
        if not pairs.get(LOGIN_COOKIE):
            return None
        return LoginCookie(pairs, self.expires_at).to_payload()


@dataclass(frozen=True, slots=True)
class QrCode:
    key: str
    url: str
    image: str | None = None
    """An SVG data URI of the QR code, when asked for."""


def is_logged_in(account_answer: Mapping[str, Any]) -> bool:
    """Whether a login-status answer shows a real account. A dead ``MUSIC_U`` still gets
    code 200, with ``account`` and ``profile`` null; an anonymous login has an account
    marked ``anonimousUser``."""
    account = account_answer.get("account")
    return isinstance(account, dict) and bool(account) and not account.get("anonimousUser")


def md5_hex(text: str) -> str:
    # NetEase's login protocol takes the password's MD5; it is not how we store anything.
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def anonymous_username(device_id: str) -> str:
    """The ``username`` anonymous registration sends: base64 of the device id and the
    base64 MD5 of the device id XORed with NetEase's fixed key."""
    raw = device_id.encode("utf-8")
    xored = bytes(b ^ _ANONYMOUS_ID_KEY[i % len(_ANONYMOUS_ID_KEY)] for i, b in enumerate(raw))
    digest = base64.b64encode(hashlib.md5(xored, usedforsecurity=False).digest()).decode()
    return base64.b64encode(f"{device_id} {digest}".encode()).decode()


def _password_field(password: str | None, md5_password: str | None) -> str:
    if (password is None) == (md5_password is None):
        raise ValueError("password: give exactly one of password and md5_password")
    if md5_password is not None:
        if not _MD5_HEX.match(md5_password):
            raise ValueError("md5_password: 32 hexadecimal digits")
        return md5_password.lower()
    if not password:
        raise ValueError("password: must not be empty")
    return md5_hex(password)


class NeteaseLogin:
    def __init__(
        self,
        transport: NeteaseTransport,
        *,
        clock: Clock | None = None,
        qr_image: Callable[[str], str] | None = None,
    ) -> None:
        self._transport = transport
        self._clock = clock or SystemClock()
        self._qr_image = qr_image or SegnoQrRenderer().svg_data_uri

    # -- password and captcha logins ------------------------------------------------

    async def login_cellphone(
        self,
        phone: str,
        *,
        password: str | None = None,
        md5_password: str | None = None,
        captcha: str | None = None,
        country_code: str = "86",
    ) -> LoginAnswer:
        """Log in with a phone number and exactly one of ``password``, ``md5_password``
        or ``captcha`` (an SMS code from ``captcha_sent``). Raises ``ValueError`` naming
        the field for bad input."""
        if not phone.strip():
            raise ValueError("phone: must not be empty")
        data: dict[str, Any] = {
            "type": "1",
            "https": "true",
            "phone": phone.strip(),
            "countrycode": country_code,
            "remember": "true",
        }
        if captcha is not None:
            if password is not None or md5_password is not None:
                raise ValueError("captcha: give a captcha or a password, not both")
            if not captcha.strip():
                raise ValueError("captcha: must not be empty")
            data["captcha"] = captcha.strip()
        else:
            data["password"] = _password_field(password, md5_password)
        return self._logged_in(await self._send(Crypto.WEAPI, CELLPHONE_LOGIN, data), {}, 200)

    async def login_email(
        self, email: str, *, password: str | None = None, md5_password: str | None = None
    ) -> LoginAnswer:
        if not email.strip():
            raise ValueError("email: must not be empty")
        data = {
            "type": "0",
            "https": "true",
            "username": email.strip(),
            "password": _password_field(password, md5_password),
            "rememberLogin": "true",
        }
        return self._logged_in(await self._send(Crypto.WEAPI, EMAIL_LOGIN, data), {}, 200)

    async def captcha_sent(self, phone: str, *, country_code: str = "86") -> LoginAnswer:
        data = {"ctcode": country_code, "secrete": CAPTCHA_PURPOSE, "cellphone": phone.strip()}
        return LoginAnswer((await self._send(Crypto.WEAPI, CAPTCHA_SENT, data)).body)

    async def captcha_verify(
        self, phone: str, captcha: str, *, country_code: str = "86"
    ) -> LoginAnswer:
        data = {"ctcode": country_code, "cellphone": phone.strip(), "captcha": captcha.strip()}
        return LoginAnswer((await self._send(Crypto.WEAPI, CAPTCHA_VERIFY, data)).body)

    # -- QR login --------------------------------------------------------------------

    async def qr_key(self) -> LoginAnswer:
        """``{"code": 200, "unikey": "…"}``: the key to show (``qr_create``) and poll."""
        return LoginAnswer((await self._send(Crypto.EAPI, QR_KEY, {"type": QR_TYPE})).body)

    def qr_create(self, key: str, *, image: bool = False) -> QrCode:
        url = QR_LOGIN_URL + quote(key, safe="-_")
        return QrCode(key=key, url=url, image=self._qr_image(url) if image else None)

    async def qr_check(self, key: str) -> LoginAnswer:
        """Codes: 800 expired, 801 waiting for a scan, 802 scanned (``nickname``,
        ``avatarUrl``), 803 confirmed: logged in, with the cookie."""
        answer = await self._send(Crypto.EAPI, QR_CHECK, {"key": key, "type": QR_TYPE})
        return self._logged_in(answer, {}, codes.QR_CONFIRMED)

    # -- an existing login -----------------------------------------------------------

    async def refresh(self, cookie: str) -> LoginAnswer:
        """Renew a login; on success the cookie is the old one with NetEase's new values."""
        pairs = parse_cookie(cookie)
        answer = await self._send(Crypto.WEAPI, LOGIN_REFRESH, {}, pairs)
        return self._logged_in(answer, pairs, 200)

    async def login_status(self, cookie: str | None) -> LoginAnswer:
        pairs = parse_cookie(cookie) if cookie else None
        return LoginAnswer((await self._send(Crypto.WEAPI, LOGIN_STATUS, {}, pairs)).body)

    async def register_anonymous(self) -> LoginAnswer:
        """A visitor login (``MUSIC_A``). Its cookie is returned but cannot be pooled."""
        device_id = self._transport.token_hex(16).upper()
        data = {"username": anonymous_username(device_id)}
        answer = await self._send(Crypto.WEAPI, ANONYMOUS_REGISTER, data)
        return self._logged_in(answer, {}, 200, login_cookie=ANONYMOUS_COOKIE)

    # -- helpers ---------------------------------------------------------------------

    async def _send(
        self,
        crypto: Crypto,
        api_path: str,
        data: Mapping[str, Any],
        cookie: Mapping[str, str] | None = None,
    ) -> Answer:
        return await self._transport.send(crypto, api_path, data, cookie)

    def _logged_in(
        self,
        answer: Answer,
        before: Mapping[str, str],
        success_code: int,
        *,
        login_cookie: str = LOGIN_COOKIE,
    ) -> LoginAnswer:
        if answer.code != success_code:
            return LoginAnswer(answer.body)
        merged = apply_set_cookies(before, answer.set_cookies)
        if not merged.get(login_cookie):
            return LoginAnswer(answer.body)
        fresh = issued(answer.set_cookies, login_cookie)
        expires_at = fresh.expires_at(self._clock.now()) if fresh is not None else None
        return LoginAnswer(answer.body, format_cookie(merged), expires_at)
