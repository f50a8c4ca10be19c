"""A fake epay V1 (彩虹易支付) deployment.

* ``GET|POST /submit.php``: the page jump. A valid request creates the order and answers the
  cashier page (HTML, 200); a bad one answers epay's error page (HTML, 200), records the
  refusal and creates nothing.
* ``POST /mapi.php``: server-side creation; needs ``clientip``; answers JSON ``code`` 1 with
  ``trade_no`` and ``payurl`` (or ``qrcode``/``urlscheme``: ``mapi_answer``), else ``code``
  -1 and ``msg``.
* ``GET /api.php?act=order&pid&key&out_trade_no``: the order query; ``code`` 1 with ``status``
  1 (paid) or 0, or ``code`` -1 for an unknown order or a wrong key.
* ``pay(out_trade_no)`` (or ``POST /_fake/pay?out_trade_no=``): the buyer pays; the fake
  sends the notify, a GET to the order's ``notify_url`` signed with the merchant KEY, until
  the answer is ``success``. ``fail(...)`` closes the order: epay sends no notify for that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.fakes.payments.gateway import Delivery, FakeGateway
from tests.fakes.payments.signatures import epay_sign

_MONEY = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


@dataclass(frozen=True, slots=True)
class EpayOrder:
    out_trade_no: str
    trade_no: str
    type: str
    name: str
    money: str
    notify_url: str
    return_url: str
    param: str = ""
    status: str = "pending"
    """pending, paid or closed."""


class FakeYipayGateway(FakeGateway):
    def __init__(self, *, merchant_id: str, key: str, url_encode: bool = False) -> None:
        self.merchant_id = merchant_id
        self.key = key
        self.url_encode = url_encode
        self.orders: dict[str, EpayOrder] = {}
        super().__init__()
        self.app = Starlette(
            routes=[
                Route("/submit.php", self._submit, methods=["GET", "POST"]),
                Route("/mapi.php", self._mapi, methods=["POST"]),
                Route("/api.php", self._api, methods=["GET"]),
                Route("/_fake/pay", self._pay_action, methods=["POST"]),
            ]
        )

    def reset(self) -> None:
        super().reset()
        self.mapi_answer = "payurl"

    # -- the buyer and the provider's back office ----------------------------------------

    async def pay(self, out_trade_no: str) -> list[Delivery]:
        order = replace(self.orders[out_trade_no], status="paid")
        self.orders[out_trade_no] = order
        return await self.deliver(
            "GET", order.notify_url, self.notify_params(order), acknowledged=_epay_ack
        )

    def fail(self, out_trade_no: str) -> None:
        self.orders[out_trade_no] = replace(self.orders[out_trade_no], status="closed")

    def notify_params(self, order: EpayOrder) -> dict[str, str]:
        params = {
            "pid": self.merchant_id,
            "trade_no": order.trade_no,
            "out_trade_no": order.out_trade_no,
            "type": order.type,
            "name": order.name,
            "money": self.notify_amount if self.notify_amount is not None else order.money,
            "trade_status": "TRADE_SUCCESS",
            "param": order.param,
        }
        params = {k: v for k, v in params.items() if v}
        key = "not-the-merchant-key" if self.bad_signature else self.key
        params["sign"] = epay_sign(params, key, urlencode=self.url_encode)
        params["sign_type"] = "MD5"
        return params

    # -- the API -----------------------------------------------------------------------

    async def _submit(self, request: Request) -> Response:
        params = await self.record(request)
        if (answer := await self.misbehaviour()) is not None:
            return answer
        problem = self._check_order(params)
        if problem:
            self.refuse(problem)
            return HTMLResponse(f"<h3>{problem}</h3>")
        order = self._create(params)
        return HTMLResponse(f"<h1>收银台</h1><p>{order.name}</p><p>¥{order.money}</p>")

    async def _mapi(self, request: Request) -> Response:
        params = await self.record(request)
        if (answer := await self.misbehaviour()) is not None:
            return answer
        problem = self._check_order(params) or ("" if params.get("clientip") else "clientip")
        if problem:
            self.refuse(problem)
            return JSONResponse({"code": -1, "msg": f"{problem}校验失败"})
        order = self._create(params)
        base = str(request.base_url).rstrip("/")
        answer_field = {
            "payurl": f"{base}/pay/{order.trade_no}",
            "qrcode": f"https://qr.alipay.test/{order.trade_no}",
            "urlscheme": f"alipays://platformapi/startapp?trade={order.trade_no}",
        }[self.mapi_answer]
        return JSONResponse(
            {"code": 1, "msg": "", "trade_no": order.trade_no, self.mapi_answer: answer_field}
        )

    async def _api(self, request: Request) -> Response:
        params = await self.record(request)
        if (answer := await self.misbehaviour()) is not None:
            return answer
        if params.get("act") != "order":
            return JSONResponse({"code": -5, "msg": "No Act!"})
        if params.get("pid") != self.merchant_id or params.get("key") != self.key:
            self.refuse("key")
            return JSONResponse({"code": -3, "msg": "KEY校验失败"})
        order = self.orders.get(params.get("out_trade_no", ""))
        if order is None:
            return JSONResponse({"code": -1, "msg": "订单号不存在"})
        return JSONResponse(
            {
                "code": 1,
                "msg": "查询订单号成功！",
                "trade_no": order.trade_no,
                "out_trade_no": order.out_trade_no,
                "type": order.type,
                "pid": int(self.merchant_id) if self.merchant_id.isdigit() else self.merchant_id,
                "addtime": "2026-01-01 00:00:00",
                "endtime": "2026-01-01 00:01:00" if order.status == "paid" else "",
                "name": order.name,
                "money": order.money,
                "status": 1 if order.status == "paid" else 0,
            }
        )

    async def _pay_action(self, request: Request) -> Response:
        deliveries = await self.pay(request.query_params["out_trade_no"])
        return JSONResponse({"deliveries": len(deliveries)})

    # -- checks ------------------------------------------------------------------------

    def _check_order(self, params: dict[str, str]) -> str:
        if params.get("pid") != self.merchant_id:
            return "pid"
        given = params.get("sign", "")
        expected = epay_sign(params, self.key, urlencode=self.url_encode)
        if given.lower() != expected or params.get("sign_type", "MD5") != "MD5":
            return "signature"
        for name in ("type", "out_trade_no", "notify_url", "name", "money"):
            if not params.get(name):
                return name
        if not _MONEY.fullmatch(params["money"]) or _decimal(params["money"]) <= 0:
            return "money"
        if len(params["name"].encode()) > 127:
            return "name"
        if params["out_trade_no"] in self.orders:
            return "out_trade_no"
        return ""

    def _create(self, params: dict[str, str]) -> EpayOrder:
        order = EpayOrder(
            out_trade_no=params["out_trade_no"],
            trade_no=f"2026{self.next_number():012d}",
            type=params["type"],
            name=params["name"],
            money=params["money"],
            notify_url=params["notify_url"],
            return_url=params.get("return_url", ""),
            param=params.get("param", ""),
        )
        self.orders[order.out_trade_no] = order
        return order


def _epay_ack(status: int, body: str) -> bool:
    return status == 200 and body.strip() == "success"


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal(0)
