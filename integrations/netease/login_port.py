"""NetEase's login operations as the pool's ``NeteaseLoginPort`` (upstreams, issue 15):
the original's request fields in, the original's answers out (NetEase's JSON with the
``cookie`` added on a login; ``{key, qrurl}`` for a QR key; ``{qrurl, qrimg?}`` for a QR
code)."""

from __future__ import annotations

from domain.music.model import ProviderName
from domain.pool.ports import LoginReply, NeteaseLoginOperation, NeteaseLoginPort
from integrations.netease.login import LoginAnswer, NeteaseLogin

Op = NeteaseLoginOperation
_FIELD_NAMES = {"md5_password": "md5Password", "country_code": "countryCode"}


class NeteaseLoginAdapter:
    provider = ProviderName.NETEASE.value

    def __init__(self, login: NeteaseLogin) -> None:
        self._login = login

    async def call(self, operation: Op, fields: dict[str, str | None]) -> LoginReply:
        try:
            return await self._call(operation, fields)
        except ValueError as error:
            name, sep, why = str(error).partition(": ")
            if sep:
                raise ValueError(f"{_FIELD_NAMES.get(name, name)}: {why}") from None
            raise

    async def _call(self, operation: Op, f: dict[str, str | None]) -> LoginReply:
        login = self._login
        country = f.get("countryCode") or f.get("ctcode") or "86"
        if operation is Op.LOGIN_CELLPHONE:
            answer = await login.login_cellphone(
                _required(f, "phone"), password=f.get("password"),
                md5_password=f.get("md5Password"), captcha=f.get("captcha"),
                country_code=country,
            )  # fmt: skip
        elif operation is Op.LOGIN_EMAIL:
            answer = await login.login_email(
                _required(f, "email"), password=f.get("password"), md5_password=f.get("md5Password")
            )
        elif operation is Op.QR_KEY:
            body = (await login.qr_key()).body
            key = str(body.get("unikey") or "")
            if not key:
                return LoginReply(dict(body))
            return LoginReply({"key": key, "qrurl": login.qr_create(key).url})
        elif operation is Op.QR_CREATE:
            code = login.qr_create(_required(f, "key"), image=_truthy(f.get("qrimg")))
            shown: dict[str, object] = {"qrurl": code.url}
            if code.image is not None:
                shown["qrimg"] = code.image
            return LoginReply(shown)
        elif operation is Op.QR_CHECK:
            answer = await login.qr_check(_required(f, "key"))
        elif operation is Op.REFRESH:
            answer = await login.refresh(_required(f, "cookie"))
        elif operation is Op.STATUS:
            answer = await login.login_status(f.get("cookie") or None)
        elif operation is Op.REGISTER_ANONYMOUS:
            answer = await login.register_anonymous()
        elif operation is Op.CAPTCHA_SENT:
            answer = await login.captcha_sent(_required(f, "phone"), country_code=country)
        else:
            answer = await login.captcha_verify(
                _required(f, "phone"), _required(f, "captcha"), country_code=country
            )
        return _reply(answer)


def _reply(answer: LoginAnswer) -> LoginReply:
    return LoginReply(answer.passthrough(), answer.payload())


def _required(fields: dict[str, str | None], name: str) -> str:
    value = (fields.get(name) or "").strip()
    if not value:
        raise ValueError(f"{name}: is required")
    return value


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


_PORT: type[NeteaseLoginPort] = NeteaseLoginAdapter
