"""The fake upstream's login state: accounts, their current ``musickey``s, expiry, VIP
status and refresh keys. Issued credentials have the shape of ``LoginServer.Login``'s
answer."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

QQ_LOGIN = 2
WECHAT_LOGIN = 1
KEY_LIFETIME_S = 259_200  # three days, as QQ's keyExpiresIn usually says


@dataclass
class FakeAccount:
    musicid: int
    vip: bool = True
    login_type: int = QQ_LOGIN
    nick: str = "listener"
    musickey: str = ""
    refresh_key: str = ""
    refresh_token: str = ""
    openid: str = ""
    unionid: str = ""
    created_at: int = 0
    expires_in: int = KEY_LIFETIME_S
    revoked: bool = False
    """Logged out elsewhere: the key is dead before its stated expiry."""


class Accounts:
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._by_id: dict[int, FakeAccount] = {}

    def add(
        self,
        musicid: int,
        *,
        vip: bool = True,
        login_type: int = QQ_LOGIN,
        expires_in: int = KEY_LIFETIME_S,
    ) -> FakeAccount:
        account = FakeAccount(musicid, vip=vip, login_type=login_type, expires_in=expires_in)
        account.openid = secrets.token_hex(16).upper()
        account.unionid = "UID_" + secrets.token_hex(12)
        self._by_id[musicid] = account
        self.rotate(account)
        return account

    def get(self, musicid: int) -> FakeAccount | None:
        return self._by_id.get(musicid)

    def rotate(self, account: FakeAccount) -> None:
        """A new musickey and refresh key (what a login or refresh does)."""
        prefix = "W_X_" if account.login_type == WECHAT_LOGIN else "Q_H_L_5"
        account.musickey = prefix + secrets.token_urlsafe(30)
        account.refresh_key = secrets.token_hex(20)
        account.refresh_token = secrets.token_hex(16)
        account.created_at = int(self._now())
        account.revoked = False

    def expire(self, account: FakeAccount) -> None:
        """The stated expiry passes."""
        account.created_at = int(self._now()) - account.expires_in - 1

    def live(self, musicid: int, musickey: str) -> FakeAccount | None:
        account = self._by_id.get(musicid)
        if account is None or not secrets.compare_digest(account.musickey, musickey):
            return None
        if account.revoked or account.created_at + account.expires_in <= self._now():
            return None
        return account

    def credential(self, account: FakeAccount) -> dict[str, Any]:
        return {
            "openid": account.openid,
            "refresh_token": account.refresh_token,
            "access_token": secrets.token_hex(16).upper(),
            "expired_at": account.created_at + 7_776_000,
            "musicid": account.musicid,
            "musickey": account.musickey,
            "musickeyCreateTime": account.created_at,
            "first_login": 0,
            "errMsg": "",
            "sessionKey": "",
            "unionid": account.unionid if account.login_type == WECHAT_LOGIN else "",
            "str_musicid": str(account.musicid),
            "errtip": "",
            "nick": account.nick,
            "logo": "",
            "feedbackURL": "",
            "encryptUin": "owvFoio5ow-z",
            "userip": "",
            "lastLoginTime": account.created_at,
            "keyExpiresIn": account.expires_in,
            "refresh_key": account.refresh_key,
            "loginType": account.login_type,
            "prompt2bind": 0,
            "logoffStatus": 0,
            "otherAccounts": [],
            "otherPhoneNo": "",
            "token": "",
            "isPrized": 0,
            "isShowDevManage": 0,
            "errTip2": "",
            "tip3": "",
            "encryptedPhoneNo": "",
            "phoneNo": "",
            "bindAccountType": 0,
            "needRefreshKeyIn": 0,
        }

    def refresh(self, param: dict[str, Any]) -> FakeAccount | None:
        """The account a refresh request names with its current refresh key and token."""
        musicid = param.get("musicid") or param.get("str_musicid")
        try:
            account = self._by_id.get(int(musicid or 0))
        except ValueError:
            return None
        if account is None or param.get("loginMode") != 2:
            return None
        if not (
            secrets.compare_digest(str(param.get("refresh_key", "")), account.refresh_key)
            and secrets.compare_digest(str(param.get("refresh_token", "")), account.refresh_token)
        ):
            return None
        self.rotate(account)
        return account
