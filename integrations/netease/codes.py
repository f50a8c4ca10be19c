"""NetEase answer codes and the ``ProviderFailure`` each one is.

NetEase answers HTTP 200 with a JSON ``code`` for nearly everything, errors included:

=============  ===============================================  ======================
code           meaning (upstream message)                       raised as
=============  ===============================================  ======================
200            OK                                               (nothing)
-460           risk control, "Cheating" / 网络太拥挤             ``UpstreamRateLimit``
-462           risk control: verification required (安全风险)   ``UpstreamRateLimit``
405, 406       操作频繁，请稍候再试 (too many operations)          ``UpstreamRateLimit``
301            需要登录 (not logged in, or the login died)       ``UpstreamAuthFailed``
-2             无权限访问 (no permission for this resource)      ``UpstreamNoRights``
404            该资源不存在 (no such resource)                    ``UpstreamNotFound``
anything else  (400 bad parameters, 250 risk prompt, 500 …)     ``UpstreamBadAnswer``
=============  ===============================================  ======================

Copyright refusals are not top-level codes: they come per song, inside a 200 answer
(``data[].code`` 404 with no URL, ``privilege.st`` < 0, ``noCopyrightRcmd``); the public
clients' "亲爱的,暂无版权" (``/check/music``) is their own wording for such an item. The
provider turns those into ``unavailable_reason=no_rights``, not into an exception.
"""

from __future__ import annotations

from domain.music.errors import (
    ProviderFailure,
    UpstreamAuthFailed,
    UpstreamBadAnswer,
    UpstreamNoRights,
    UpstreamNotFound,
    UpstreamRateLimit,
)

OK = 200
NOT_LOGGED_IN = 301
NOT_FOUND = 404
RATE_LIMIT_CODES = frozenset({-460, -462, 405, 406})
NO_PERMISSION = -2

# QR login states (``/login/qrcode/client/login``): answers, not failures.
QR_EXPIRED = 800
QR_WAITING = 801
QR_SCANNED = 802
QR_CONFIRMED = 803


def answer_code(body: object, http_status: int) -> int:
    """The answer's code: its JSON ``code`` (sometimes a string), else the HTTP status."""
    if isinstance(body, dict):
        raw = body.get("code")
        if isinstance(raw, bool):
            return http_status
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str) and raw.lstrip("-").isdigit():
            return int(raw)
    return http_status


def answer_message(body: object) -> str:
    if isinstance(body, dict):
        for key in ("message", "msg"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    return ""


def failure_for(code: int, message: str = "") -> ProviderFailure | None:
    """``None`` for a successful answer, else the failure it is."""
    if code == OK:
        return None
    text = f"NetEase answered {code}" + (f": {message}" if message else "")
    if code in RATE_LIMIT_CODES:
        return UpstreamRateLimit(text, upstream_code=code)
    if code == NOT_LOGGED_IN:
        return UpstreamAuthFailed(text, upstream_code=code)
    if code == NO_PERMISSION:
        return UpstreamNoRights(text, upstream_code=code, reason="no_rights")
    if code == NOT_FOUND:
        return UpstreamNotFound(text, upstream_code=code)
    return UpstreamBadAnswer(text, upstream_code=code)
