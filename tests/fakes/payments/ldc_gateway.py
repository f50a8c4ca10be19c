"""A fake Linux Credit (credit.linux.do) merchant API, as ``linux-do/credit`` serves it.

Mounted under ``/epay`` like the real one (so a provider's base URL is ``…/epay``):

* ``GET|POST /epay/pay/submit.php``: ``type=ldcpay`` is checked with Ed25519 against the
  merchant's public key over LDC's string (the fields LDC signs — ``client_id``, ``type``,
  ``out_trade_no``, ``order_name``, ``notify_url``, ``return_url``, ``money`` as two
  decimals — sorted, the client secret appended); ``type=epay`` with the epay MD5 rule. A
  valid order answers ``302`` to ``/paying?order_no=…``; a refusal answers
  ``{"error_msg": …, "data": null}`` with 401 (signature) or 400.
* ``GET /epay/api.php?act=order&pid&key&out_trade_no``: ``code`` 1 with ``status`` 1 (paid)
  or 0; 400 ``code`` -1 for a wrong key, 404 ``code`` -1 for an unknown order.
* ``pay(out_trade_no)``: the GET notify (User-Agent ``LinuxDo-Credit/1.0``) with ``pid``,
  ``trade_no``, ``out_trade_no``, ``type=epay``, ``name``, ``money``,
  ``trade_status=TRADE_SUCCESS`` and an MD5 ``sign`` (no ``sign_type``), retried until the
  answer, trimmed and lower-cased, is ``success``. ``fail(...)`` marks the order failed;
  LDC sends no notify for that.

Extra knobs: ``sign_notifies_with`` (an Ed25519 private key: sign notifies with it instead
of MD5), ``redirect_without_location``, ``refuse_with_200`` (answer refusals with status
200, as some LDC versions did).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.payments.gateway import Delivery, FakeGateway
from tests.fakes.payments.signatures import epay_sign, ldc_sign, ldc_verify

_LDC_SIGNED = ("client_id", "type", "out_trade_no", "order_name", "notify_url", "return_url")
_URL_LIMIT = 100


@dataclass(frozen=True, slots=True)
class LdcOrder:
    out_trade_no: str
    trade_no: str
    name: str
    money: str
    notify_url: str
    status: str = "pending"
    """pending, success or failed."""


class FakeLdcGateway(FakeGateway):
    user_agent = "LinuxDo-Credit/1.0"

    def __init__(
        self, *, client_id: str, client_secret: str, merchant_public_key: Ed25519PublicKey
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.merchant_public_key = merchant_public_key
        self.orders: dict[str, LdcOrder] = {}
        super().__init__()
        self.app = Starlette(
            routes=[
                Route("/epay/pay/submit.php", self._submit, methods=["GET", "POST"]),
                Route("/epay/api.php", self._query, methods=["GET"]),
                Route("/_fake/pay", self._pay_action, methods=["POST"]),
            ]
        )

    def reset(self) -> None:
        super().reset()
        self.sign_notifies_with: Ed25519PrivateKey | None = None
        self.redirect_without_location = False
        self.refuse_with_200 = False

    # -- the buyer and the platform's task queue ---------------------------------------

    async def pay(self, out_trade_no: str) -> list[Delivery]:
        order = replace(self.orders[out_trade_no], status="success")
        self.orders[out_trade_no] = order
        return await self.deliver(
            "GET", order.notify_url, self.notify_params(order), acknowledged=_ldc_ack
        )

    def fail(self, out_trade_no: str) -> None:
        self.orders[out_trade_no] = replace(self.orders[out_trade_no], status="failed")

    def notify_params(self, order: LdcOrder) -> dict[str, str]:
        params = {
            "pid": self.client_id,
            "trade_no": order.trade_no,
            "out_trade_no": order.out_trade_no,
            "type": "epay",
            "name": order.name,
            "money": self.notify_amount if self.notify_amount is not None else order.money,
            "trade_status": "TRADE_SUCCESS",
        }
        secret = "not-the-client-secret" if self.bad_signature else self.client_secret
        if self.sign_notifies_with is not None:
            params["sign"] = ldc_sign(params, secret, self.sign_notifies_with)
        else:
            params["sign"] = epay_sign(params, secret)
        return params

    # -- the API -----------------------------------------------------------------------

    async def _submit(self, request: Request) -> Response:
        params = await self.record(request)
        if (answer := await self.misbehaviour()) is not None:
            return answer
        status, problem = self._check_submit(params)
        if problem:
            self.refuse(problem)
            return JSONResponse(
                {"error_msg": problem, "data": None},
                status_code=200 if self.refuse_with_200 else status,
            )
        name = params.get("order_name") or params.get("name", "")
        order = LdcOrder(
            out_trade_no=params["out_trade_no"],
            trade_no=str(100000 + self.next_number()),
            name=name,
            money=f"{Decimal(params['money']):.2f}",
            notify_url=params.get("notify_url", ""),
        )
        self.orders[order.out_trade_no] = order
        if self.redirect_without_location:
            return Response(status_code=302)
        base = str(request.base_url).rstrip("/")
        return RedirectResponse(f"{base}/paying?order_no=enc{order.trade_no}", status_code=302)

    async def _query(self, request: Request) -> Response:
        params = await self.record(request)
        if (answer := await self.misbehaviour()) is not None:
            return answer
        if params.get("pid") != self.client_id or params.get("key") != self.client_secret:
            self.refuse("key")
            return JSONResponse({"code": -1, "msg": "商户不存在"}, status_code=400)
        order = self.orders.get(params.get("out_trade_no", ""))
        if order is None:
            return JSONResponse({"code": -1, "msg": "订单不存在"}, status_code=404)
        return JSONResponse(
            {
                "code": 1,
                "msg": "查询订单号成功！",
                "trade_no": order.trade_no,
                "out_trade_no": order.out_trade_no,
                "type": "epay",
                "pid": self.client_id,
                "addtime": "2026-01-01 00:00:00",
                "endtime": "2026-01-01 00:01:00",
                "name": order.name,
                "money": order.money,
                "status": 1 if order.status == "success" else 0,
            }
        )

    async def _pay_action(self, request: Request) -> Response:
        deliveries = await self.pay(request.query_params["out_trade_no"])
        return JSONResponse({"deliveries": len(deliveries)})

    # -- checks (as linux-do/credit's RequireSignatureAuth and its binding rules) -------

    def _check_submit(self, params: dict[str, str]) -> tuple[int, str]:
        money = _decimal(params.get("money", ""))
        if money is None or money <= 0 or int(money.as_tuple().exponent) < -2:
            return 400, "money"
        kind = params.get("type")
        if kind == "ldcpay":
            if params.get("client_id") != self.client_id:
                return 401, "client_id"
            signed = {k: params.get(k, "") for k in _LDC_SIGNED}
            signed["money"] = f"{money:.2f}"
            if not ldc_verify(
                signed, self.client_secret, self.merchant_public_key, params.get("sign", "")
            ):
                return 401, "签名验证失败"
            name = params.get("order_name", "")
        elif kind == "epay":
            if params.get("pid") != self.client_id:
                return 401, "pid"
            if params.get("sign", "").lower() != epay_sign(params, self.client_secret):
                return 401, "签名验证失败"
            name = params.get("name", "")
        else:
            return 400, "不支持的请求类型"
        if not name or len(name) > 64:
            return 400, "order_name"
        if not params.get("out_trade_no") or len(params["out_trade_no"]) > 64:
            return 400, "out_trade_no"
        for url in ("notify_url", "return_url"):
            if len(params.get(url, "")) > _URL_LIMIT:
                return 400, url
        return 0, ""


def _decimal(text: str) -> Decimal | None:
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _ldc_ack(status: int, body: str) -> bool:
    return status == 200 and body.strip().lower() == "success"
