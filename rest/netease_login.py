"""/v1/netease/auth/* (gin in the original), the original's paths, fields and answers,
for admins only (upstreams, issue 15; the original let any signed-in user drive NetEase's
login, SMS and registration calls through it). ``store: true`` (with an optional
``label``) puts the login an answer carries into the pool; the answer then has
``credential``. A cookie is taken from ``X-Netease-Cookie`` or ``?cookie=``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypedDict

from domain.pool.ports import NeteaseLoginOperation as Op
from resolvers import pool
from rest.envelope import Style
from rest.pool import CredentialView, credential_view
from rest.router import RestRequest, Route


class NeteaseAnswer(TypedDict, total=False):
    """NetEase's own JSON, passed on (each operation has its own further fields: account,
    profile, bindings…), with what Karpov adds."""

    code: int
    """NetEase's code: 200 done; 800-803 for a QR key's state; others a refusal."""
    message: str | None
    msg: str | None
    cookie: str
    """The login's cookies (``MUSIC_U``…) when the answer carries a login."""
    key: str
    """QR key: the key to poll."""
    qrurl: str
    """QR key and create: the URL the QR code encodes."""
    qrimg: str
    """QR create with ``qrimg``: the QR code image."""
    credential: CredentialView
    """With ``store: true``: the pool credential the login became."""


Handler = Callable[[RestRequest], Awaitable[NeteaseAnswer]]

FIELDS: dict[Op, tuple[str, ...]] = {
    Op.LOGIN_CELLPHONE: ("phone", "password", "md5Password", "captcha", "countryCode"),
    Op.LOGIN_EMAIL: ("email", "password", "md5Password"),
    Op.QR_KEY: (),
    Op.QR_CREATE: ("key", "qrimg"),
    Op.QR_CHECK: ("key",),
    Op.REFRESH: (),
    Op.STATUS: (),
    Op.REGISTER_ANONYMOUS: (),
    Op.CAPTCHA_SENT: ("phone", "ctcode"),
    Op.CAPTCHA_VERIFY: ("phone", "captcha", "ctcode"),
}
STORABLE = (Op.LOGIN_CELLPHONE, Op.LOGIN_EMAIL, Op.QR_CHECK, Op.REFRESH)


def request_fields(operation: Op) -> tuple[str, ...]:
    return FIELDS[operation] + (("store", "label") if operation in STORABLE else ())


def _text(req: RestRequest, name: str) -> str | None:
    value = req.body.get(name) if isinstance(req.body, dict) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return req.text(name)


def handler(operation: Op) -> Handler:
    async def handle(req: RestRequest) -> NeteaseAnswer:
        fields = {name: _text(req, name) for name in FIELDS[operation]}
        fields["cookie"] = (
            req.request.headers.get("x-netease-cookie") or req.query("cookie") or None
        )
        store = (_text(req, "store") or "").lower() in ("true", "1")
        result = await pool.netease_login(
            req.ctx, operation, fields, store=store, label=_text(req, "label")
        )
        answer: NeteaseAnswer = dict(result.answer)  # type: ignore[assignment]
        if result.credential is not None:
            answer["credential"] = credential_view(result.credential)
        return answer

    return handle


_SPECS = (
    ("POST", "/login/cellphone", Op.LOGIN_CELLPHONE,
     "NetEase phone login (password, md5Password or captcha); store: into the pool"),
    ("POST", "/login/email", Op.LOGIN_EMAIL,
     "NetEase e-mail login (password or md5Password); store: into the pool"),
    ("POST", "/login/qr/key", Op.QR_KEY, "A NetEase QR login key and its URL"),
    ("POST", "/login/qr/create", Op.QR_CREATE, "The QR URL of a key (qrimg: with an SVG)"),
    ("POST", "/login/qr/check", Op.QR_CHECK,
     "A NetEase QR login's state (803: logged in); store: into the pool"),
    ("POST", "/login/refresh", Op.REFRESH,
     "Renew a NetEase login (cookie: X-Netease-Cookie or ?cookie=); store: into the pool"),
    ("GET", "/login/status", Op.STATUS, "A NetEase login's account"),
    ("POST", "/register/anonymous", Op.REGISTER_ANONYMOUS, "A NetEase visitor login"),
    ("POST", "/captcha/sent", Op.CAPTCHA_SENT, "Send a NetEase SMS code"),
    ("POST", "/captcha/verify", Op.CAPTCHA_VERIFY, "Check a NetEase SMS code"),
)  # fmt: skip

ROUTES: list[Route] = [
    Route(method, "/v1/netease/auth" + path, handler(op), Style.GIN, summary, auth="admin",
          twin="adminNeteaseLogin", request_fields=request_fields(op),
          query_fields=("cookie",))  # every operation may send a login (X-Netease-Cookie too)
    for method, path, op, summary in _SPECS
]  # fmt: skip
"""The routes, listed in ``rest.routes``; their GraphQL twin is ``adminNeteaseLogin``."""

OPERATIONS: dict[str, Op] = {"/v1/netease/auth" + path: op for _, path, op, _ in _SPECS}
