"""The ``comm`` block of a ``musicu.fcg`` body: which client is asking, as whom.

Two client profiles are used: the Android app (most calls) and the web player (the song
detail call only answers the web profile fully).
"""

from __future__ import annotations

import enum
from typing import Any

from integrations.qqmusic.config import QQMusicConfig
from integrations.qqmusic.credential import QQCredential
from integrations.qqmusic.hashing import g_tk

WEB_CLIENT_TYPE = 24
WEB_CLIENT_VERSION = 4747474


class Platform(enum.StrEnum):
    ANDROID = "android"
    WEB = "web"


def build_comm(
    config: QQMusicConfig, platform: Platform, guid: str, credential: QQCredential | None
) -> dict[str, Any]:
    if platform is Platform.WEB:
        token = g_tk(credential.musickey if credential else "")
        return {
            "ct": WEB_CLIENT_TYPE,
            "cv": WEB_CLIENT_VERSION,
            "platform": "yqq.json",
            "chid": "0",
            "uin": credential.musicid if credential else 0,
            "g_tk": token,
            "g_tk_new_20200303": token,
            "format": "json",
            "inCharset": "utf-8",
            "outCharset": "utf-8",
            "notice": 0,
            "needNewCode": 1,
        }
    comm: dict[str, Any] = {
        "ct": config.client_type,
        "cv": config.client_version,
        "v": config.client_version,
        "chid": "10003505",
        "tmeAppID": "qqmusic",
        "QIMEI36": config.qimei36,
        "OpenUDID": guid,
        "OpenUDID2": guid,
        "udid": guid,
        "format": "json",
        "inCharset": "utf-8",
        "outCharset": "utf-8",
    }
    if credential is not None:
        comm["qq"] = str(credential.musicid)
        comm["authst"] = credential.musickey
        comm["tmeLoginType"] = credential.login_type
    return comm
