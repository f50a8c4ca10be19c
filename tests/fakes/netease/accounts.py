"""The fake NetEase's accounts and logins: who may log in, which ``MUSIC_U`` cookies are
alive, QR login sessions with a scriptable scan sequence, SMS captchas and visitors."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

LOGIN_MAX_AGE = 1_296_000
"""``MUSIC_U`` lifetime NetEase states (15 days)."""
CSRF_MAX_AGE = 1_296_010


@dataclass
class FakeAccount:
    user_id: int
    nickname: str
    password: str
    phone: str | None = None
    country_code: str = "86"
    email: str | None = None
    vip: bool = False


@dataclass
class Login:
    account: FakeAccount
    csrf: str


@dataclass
class QrSession:
    states: list[int]
    account: FakeAccount
    position: int = 0
    expired: bool = False


@dataclass
class Logins:
    accounts: list[FakeAccount] = field(default_factory=list)
    alive: dict[str, Login] = field(default_factory=dict)
    """``MUSIC_U`` value → its login."""
    visitors: set[str] = field(default_factory=set)
    """``MUSIC_A`` values handed to anonymous registrations."""
    qr_sessions: dict[str, QrSession] = field(default_factory=dict)
    qr_script: list[int] = field(default_factory=lambda: [801, 802, 803])
    """States successive checks of a new QR key go through (the last one repeats)."""
    qr_account: FakeAccount | None = None
    """Who scans new QR keys (the first VIP account when unset)."""
    captcha_code: str = "2468"
    captchas_sent: dict[tuple[str, str], str] = field(default_factory=dict)
    """(country code, phone) → the code sent."""
    now: float = 1_767_225_600.0
    """Seconds since the epoch the fake stamps cookies with."""

    # -- accounts --------------------------------------------------------------------

    def find_phone(self, phone: str, country_code: str) -> FakeAccount | None:
        for account in self.accounts:
            if account.phone == phone and account.country_code == country_code:
                return account
        return None

    def find_email(self, email: str) -> FakeAccount | None:
        return next((a for a in self.accounts if a.email == email), None)

    def named(self, nickname: str) -> FakeAccount:
        return next(a for a in self.accounts if a.nickname == nickname)

    @staticmethod
    def password_matches(account: FakeAccount, md5_hex: str) -> bool:
        return hashlib.md5(account.password.encode()).hexdigest() == md5_hex

    # -- logins ----------------------------------------------------------------------

    def open(self, account: FakeAccount) -> tuple[str, Login]:
        token = secrets.token_hex(64)
        login = Login(account, secrets.token_hex(16))
        self.alive[token] = login
        return token, login

    def who(self, music_u: str | None) -> Login | None:
        return self.alive.get(music_u) if music_u else None

    def end(self, music_u: str) -> None:
        self.alive.pop(music_u, None)

    def login_cookies(self, token: str, login: Login) -> list[str]:
        """The ``Set-Cookie`` headers of a login, as NetEase sends them: each cookie once
        per path it scopes, ``Max-Age`` and ``Expires``, no ``Domain`` on some."""
        login_expires = formatdate(self.now + LOGIN_MAX_AGE, usegmt=True)
        csrf_expires = formatdate(self.now + CSRF_MAX_AGE, usegmt=True)
        return [
            f"MUSIC_R_T=1{secrets.token_hex(8)}; Max-Age=2147483647; "
            "Expires=Tue, 19 Jan 2106 05:23:51 GMT; Path=/eapi/clientlog; HTTPOnly",
            f"MUSIC_U={token}; Max-Age={LOGIN_MAX_AGE}; Expires={login_expires}; Path=/; HTTPOnly",
            f"MUSIC_U={token}; Max-Age={LOGIN_MAX_AGE}; Expires={login_expires}; "
            "Path=/eapi/clientlog; HTTPOnly",
            f"__csrf={login.csrf}; Max-Age={CSRF_MAX_AGE}; Expires={csrf_expires}; Path=/;",
        ]

    # -- QR --------------------------------------------------------------------------

    def new_qr_key(self) -> str:
        key = str(uuid.uuid4())
        account = self.qr_account or next(a for a in self.accounts if a.vip)
        self.qr_sessions[key] = QrSession(list(self.qr_script), account)
        return key

    # -- JSON ------------------------------------------------------------------------

    @staticmethod
    def account_json(account: FakeAccount) -> dict[str, Any]:
        return {
            "id": account.user_id,
            "userName": f"1_{account.phone or account.email}",
            "type": 1,
            "status": 0,
            "whitelistAuthority": 0,
            "createTime": 1_500_000_000_000,
            "tokenVersion": 0,
            "ban": 0,
            "baoyueVersion": 0,
            "donateVersion": 0,
            "vipType": 11 if account.vip else 0,
            "anonimousUser": False,
            "paidFee": account.vip,
        }

    @staticmethod
    def profile_json(account: FakeAccount) -> dict[str, Any]:
        return {
            "userId": account.user_id,
            "userType": 0,
            "nickname": account.nickname,
            "avatarImgId": 109951165000000000,
            "avatarUrl": "http://p1.music.126.net/avatar/109951165000000000.jpg",
            "backgroundImgId": 109951162868128395,
            "backgroundUrl": "http://p1.music.126.net/bg/109951162868128395.jpg",
            "signature": "",
            "createTime": 1_500_000_000_000,
            "userName": f"1_{account.phone or account.email}",
            "accountType": 1,
            "shortUserName": account.phone or account.email,
            "birthday": -2209017600000,
            "authority": 0,
            "gender": 0,
            "accountStatus": 0,
            "province": 110000,
            "city": 110101,
            "authStatus": 0,
            "description": None,
            "detailDescription": None,
            "defaultAvatar": False,
            "expertTags": None,
            "experts": None,
            "djStatus": 0,
            "locationStatus": 30,
            "vipType": 11 if account.vip else 0,
            "followed": False,
            "mutual": False,
            "authenticated": False,
            "lastLoginTime": 1_767_000_000_000,
            "lastLoginIP": "203.0.113.7",
            "remarkName": None,
            "viptypeVersion": 1_700_000_000_000,
            "authenticationTypes": 0,
            "avatarDetail": None,
            "anchor": False,
        }


def default_logins() -> Logins:
    return Logins(
        accounts=[
            FakeAccount(32953014, "vip-listener", "hunter2", phone="13800000000",
                        email="vip@163.com", vip=True),
            FakeAccount(41200001, "free-listener", "correct horse", phone="13900000000",
                        email="free@163.com", vip=False),
        ]
    )  # fmt: skip
