"""A fake hupijiao (XunhuPay) API.

* ``POST /payment/do.html`` (JSON, as the official SDK sends, or a form): checks ``hash``
  (``generate_xh_hash``: APPSECRET appended directly), ``appid`` and the required fields
  (``version`` 1.1, ``trade_order_id``, ``total_fee``, ``title``, ``time``, ``notify_url``,
  ``nonce_str``); answers ``errcode`` 0 with ``url`` (the cashier), ``url_qrcode``,
  ``oderid`` (sic) and its own ``hash``; else a non-zero ``errcode`` and ``errmsg``.
* ``POST /payment/query.html``: ``appid``, ``out_trade_order``, ``time``, ``nonce_str``,
  ``hash``; answers ``errcode`` 0 with ``data`` {status OD/WP/CD, open_order_id,
  transaction_id, total_amount, out_trade_order}, or ``errcode`` 40004 for an unknown order.
* ``pay(trade_order_id)`` / ``fail(...)``: a form POST notify with ``status`` ``OD`` / ``CD``
  to the order's ``notify_url``, until the answer is ``success``.

Extra knobs: ``bad_answer_hash`` (sign do.html answers wrongly), ``errcode`` (refuse every
order with this code).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.payments.gateway import Delivery, FakeGateway
from tests.fakes.payments.signatures import xh_hash

_FEE = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_ORDER_ID = re.compile(r"[a-zA-Z0-9\-_]+")
_REQUIRED = (
    "version",
    "appid",
    "trade_order_id",
    "total_fee",
    "title",
    "time",
    "notify_url",
    "nonce_str",
)


@dataclass(frozen=True, slots=True)
class XunhuOrder:
    trade_order_id: str
    open_order_id: str
    total_fee: str
    title: str
    notify_url: str
    plugins: str = ""
    attach: str = ""
    status: str = "WP"
    transaction_id: str = ""


class FakeHupijiaoGateway(FakeGateway):
    def __init__(self, *, app_id: str, app_secret: str) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.orders: dict[str, XunhuOrder] = {}
        super().__init__()
        self.app = Starlette(
            routes=[
                Route("/payment/do.html", self._do, methods=["POST"]),
                Route("/payment/query.html", self._query, methods=["POST"]),
                Route("/_fake/pay", self._pay_action, methods=["POST"]),
            ]
        )

    def reset(self) -> None:
        super().reset()
        self.bad_answer_hash = False
        self.errcode = 0

    # -- the buyer and the provider's back office ----------------------------------------

    async def pay(self, trade_order_id: str) -> list[Delivery]:
        order = self.orders[trade_order_id]
        order = replace(order, status="OD", transaction_id=f"42000{self.next_number():023d}")
        self.orders[trade_order_id] = order
        return await self._notify(order)

    async def fail(self, trade_order_id: str) -> list[Delivery]:
        order = replace(self.orders[trade_order_id], status="CD")
        self.orders[trade_order_id] = order
        return await self._notify(order)

    def notify_params(self, order: XunhuOrder) -> dict[str, str]:
        params = {
            "trade_order_id": order.trade_order_id,
            "total_fee": self.notify_amount if self.notify_amount is not None else order.total_fee,
            "transaction_id": order.transaction_id,
            "open_order_id": order.open_order_id,
            "order_title": order.title,
            "status": order.status,
            "plugins": order.plugins,
            "attach": order.attach,
            "appid": self.app_id,
            "time": str(int(time.time())),
            "nonce_str": f"n{self.next_number():08d}",
        }
        params = {k: v for k, v in params.items() if v}
        secret = "not-the-app-secret" if self.bad_signature else self.app_secret
        params["hash"] = xh_hash(params, secret)
        return params

    async def _notify(self, order: XunhuOrder) -> list[Delivery]:
        return await self.deliver(
            "POST", order.notify_url, self.notify_params(order), acknowledged=_xh_ack
        )

    # -- the API -----------------------------------------------------------------------

    async def _do(self, request: Request) -> Response:
        params = await self.record(request)
        if (answer := await self.misbehaviour()) is not None:
            return answer
        problem = self._check_signed(params) or self._check_order(params)
        if problem:
            self.refuse(problem)
            return JSONResponse(
                {"errcode": 40029 if problem == "hash" else 40001, "errmsg": problem}
            )
        if self.errcode:
            return JSONResponse({"errcode": self.errcode, "errmsg": "订单已关闭"})
        order = XunhuOrder(
            trade_order_id=params["trade_order_id"],
            open_order_id=f"2020{self.next_number():07d}",
            total_fee=params["total_fee"],
            title=params["title"],
            notify_url=params["notify_url"],
            plugins=params.get("plugins", ""),
            attach=params.get("attach", ""),
        )
        self.orders[order.trade_order_id] = order
        base = str(request.base_url).rstrip("/")
        body: dict[str, object] = {
            "openid": 20000 + self.next_number(),
            "url_qrcode": f"{base}/payment/qrcode.html?data=d2VpeGluOi8vd3hwYXk",
            "url": f"{base}/payment/cashier.html?id={order.open_order_id}",
            "oderid": order.open_order_id,
            "errcode": 0,
            "errmsg": "success!",
        }
        secret = "not-the-app-secret" if self.bad_answer_hash else self.app_secret
        body["hash"] = xh_hash(body, secret)
        return JSONResponse(body)

    async def _query(self, request: Request) -> Response:
        params = await self.record(request)
        if (answer := await self.misbehaviour()) is not None:
            return answer
        problem = self._check_signed(params)
        if problem:
            self.refuse(problem)
            return JSONResponse({"errcode": 40029, "errmsg": problem})
        order = self.orders.get(params.get("out_trade_order", ""))
        if order is None:
            return JSONResponse({"errcode": 40004, "errmsg": "订单不存在"})
        data = {
            "status": order.status,
            "open_order_id": order.open_order_id,
            "out_trade_order": order.trade_order_id,
            "total_amount": order.total_fee,
            "title": order.title,
        }
        if order.status == "OD":
            data.update(transaction_id=order.transaction_id, paid_date="2026-01-01 00:01:00")
        return JSONResponse({"errcode": 0, "errmsg": "", "data": data, "hash": "unspecified"})

    async def _pay_action(self, request: Request) -> Response:
        deliveries = await self.pay(request.query_params["trade_order_id"])
        return JSONResponse({"deliveries": len(deliveries)})

    # -- checks ------------------------------------------------------------------------

    def _check_signed(self, params: dict[str, str]) -> str:
        if params.get("appid") != self.app_id:
            return "appid"
        if params.get("hash", "") != xh_hash(params, self.app_secret):
            return "hash"
        if not params.get("time") or not params.get("nonce_str"):
            return "time"
        return ""

    def _check_order(self, params: dict[str, str]) -> str:
        for name in _REQUIRED:
            if not params.get(name):
                return name
        if params["version"] != "1.1":
            return "version"
        if not _ORDER_ID.fullmatch(params["trade_order_id"]):
            return "trade_order_id"
        if not _FEE.fullmatch(params["total_fee"]):
            return "total_fee"
        if params["trade_order_id"] in self.orders:
            return "trade_order_id"
        return ""


def _xh_ack(status: int, body: str) -> bool:
    return status == 200 and body.strip() == "success"
