"""hupijiao (虎皮椒, XunhuPay): a server-side order that answers a cashier page and a QR code.

Creation: ``POST {base}/payment/do.html`` (base ``https://api.xunhupay.com`` by default) with
a JSON body, as the provider's own PHP SDK sends it: ``version`` 1.1, ``appid``,
``trade_order_id`` (our order id), ``total_fee`` (yuan, two decimals), ``title`` (cut to 32
characters, the SDK's documented limit), ``time`` (Unix seconds), ``notify_url``,
``return_url``, ``callback_url`` (where the cashier's close button leads: our return URL),
``nonce_str`` (32 random hex characters), ``plugins``, ``attach`` (our order id, echoed
back), optionally ``type`` (``WAP`` for WeChat H5) with ``wap_url`` and ``wap_name``, and
``hash``. An ``appid`` serves one channel (WeChat or Alipay), so the request's ``method`` is
not sent (older SDKs' ``payment`` field). The
answer is JSON ``errcode`` (0 = OK), ``errmsg``, ``url`` (the cashier page, our pay URL),
``url_qrcode`` (a QR code image the provider renders: ``PaymentCreated.qr_image_url``),
``oderid`` (sic; the provider's order id) and its own ``hash``, which we verify as the SDK
does: an answer whose hash is missing or wrong is a provider failure.

Hash: lowercase MD5 over every non-empty field except ``hash``, sorted by key, ``k=v&…`` with
raw values, and the APPSECRET appended directly (``generate_xh_hash`` in the provider's SDK).
Values in JSON answers are read as PHP prints them (``0`` for the number 0).

Notify: a form POST to ``notify_url``, at most five times, with ``trade_order_id``,
``total_fee``, ``transaction_id`` (the payment channel's transaction id), ``open_order_id``
(hupijiao's order id), ``order_title``, ``status``, ``plugins``, ``attach``, ``appid``,
``time``, ``nonce_str`` and ``hash`` (covering every field received). ``status`` ``OD`` is
paid, ``WP`` pending, ``CD`` cancelled (failed); any other is reported ``PENDING``. The
provider transaction id is ``transaction_id``, or ``open_order_id`` when a notify carries
no channel transaction (an unpaid one may carry neither: then it is empty). The answer that
stops the retries is the body ``success``.

Query: ``POST {base}/payment/query.html`` (JSON) with ``appid``, ``out_trade_order`` (our
order id), ``time``, ``nonce_str``, ``hash``; the answer is ``errcode`` 0 with
``data.status`` (OD/WP/CD), ``data.transaction_id``, ``data.open_order_id`` and
``data.total_amount``. Its hash covers nested data by a rule the provider does not document,
so it is not checked (the query is made by us, over HTTPS, to the configured host).

Verification is stateless: a replayed notify verifies again; processing it once is the
billing service's job.

Differences from the original gateway, which did not follow the provider: it appended
``&appsecret=KEY`` instead of the bare APPSECRET (so every hash it made or checked was
wrong), sent no ``time``/``nonce_str``, never called the API (its pay URL was a signed GET
URL to ``do.html``, which the provider does not serve), and acknowledged notifies with
``{"return_code":"SUCCESS"}`` instead of ``success``, so the provider kept retrying.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from domain.billing.errors import PaymentProviderFailed
from domain.billing.ports import (
    Acknowledgement,
    CallbackOutcome,
    CallbackVerdict,
    InvalidCallback,
    PaymentCreated,
    PaymentRequest,
    ProviderOrderStatus,
)
from domain.clock import Clock, SystemClock
from integrations.payments.callback_fields import amount, parse_amount, required
from integrations.payments.config import HupijiaoConfig
from integrations.payments.exchange import (
    DEFAULT_TIMEOUT,
    ProviderAnswer,
    exchange,
    provider_failed,
)
from integrations.payments.request_checks import check_order_id, check_payment_request
from integrations.payments.signing import SortedParamsSigner

NAME = "hupijiao"
CURRENCY = "CNY"
VERSION = "1.1"
MAX_TITLE_CHARS = 32
ACK_ACCEPTED = "success"
ACK_REFUSED = "fail"
_OUTCOMES = {
    "OD": CallbackOutcome.PAID,
    "WP": CallbackOutcome.PENDING,
    "CD": CallbackOutcome.FAILED,
}

log = logging.getLogger("karpov.integrations.payments.hupijiao")


def random_nonce() -> str:
    return secrets.token_hex(16)


class HupijiaoProvider:
    """Implements ``domain.billing.ports.PaymentProvider`` for XunhuPay."""

    name = NAME
    currency = CURRENCY

    def __init__(
        self,
        config: HupijiaoConfig,
        *,
        http: httpx.AsyncClient,
        clock: Clock | None = None,
        nonce: Callable[[], str] = random_nonce,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.config = config
        self._http = http
        self._clock = clock or SystemClock()
        self._nonce = nonce
        self._timeout = timeout
        self._signer = SortedParamsSigner.excluding("hash")

    # -- creation ----------------------------------------------------------------------

    def order_fields(self, request: PaymentRequest) -> dict[str, str]:
        """The signed ``do.html`` body."""
        check_payment_request(request, CURRENCY)
        fields = {
            "version": VERSION,
            "appid": self.config.app_id,
            "trade_order_id": request.order_id,
            "total_fee": request.amount.formatted(),
            "title": request.subject[:MAX_TITLE_CHARS],
            "time": self._unix_time(),
            "notify_url": request.notify_url,
            "return_url": request.return_url,
            "callback_url": request.return_url,
            "nonce_str": self._nonce(),
            "plugins": self.config.plugins,
            "attach": request.order_id,
            "type": self.config.payment_type,
            "wap_url": self.config.wap_url,
            "wap_name": self.config.wap_name,
        }
        return self._signed(fields)

    async def create_payment(self, request: PaymentRequest) -> PaymentCreated:
        answer = await exchange(
            self._http,
            "POST",
            f"{self.config.base_url}/payment/do.html",
            provider=NAME,
            operation="create",
            time_limit=self._timeout,
            json_body=self.order_fields(request),
        )
        body = self._json(answer, "create")
        if _php_text(body.get("errcode")) != "0":
            raise self._failed("create", "the provider refused the order", answer, body)
        if not self._answer_is_signed(body):
            raise self._failed("create", "the answer's hash does not verify", answer)
        pay_url = _php_text(body.get("url"))
        if not pay_url:
            raise self._failed("create", "no cashier url in the answer", answer)
        log.debug("hupijiao order created", extra={"order_id": request.order_id})
        return PaymentCreated(
            pay_url=pay_url,
            qr_image_url=_php_text(body.get("url_qrcode")) or None,
            provider_order_id=_php_text(body.get("oderid") or body.get("open_order_id")) or None,
        )

    # -- callbacks ---------------------------------------------------------------------

    def verify_callback(self, params: Mapping[str, str]) -> CallbackVerdict:
        given = required(params, "hash")
        if not self._signer.verify_md5(params, self.config.app_secret, given):
            raise InvalidCallback("the hash does not match")
        appid = params.get("appid")
        if appid and appid != self.config.app_id:
            raise InvalidCallback("the notify is for another app (appid)")
        order_id = required(params, "trade_order_id")
        status = required(params, "status")
        money = amount(required(params, "total_fee"), CURRENCY, name="total_fee")
        outcome = _OUTCOMES.get(status, CallbackOutcome.PENDING)
        txn_id = params.get("transaction_id") or params.get("open_order_id") or ""
        if outcome is CallbackOutcome.PAID and not txn_id:
            raise InvalidCallback("a paid notify without transaction_id or open_order_id")
        return CallbackVerdict(
            order_id=order_id, provider_txn_id=txn_id, amount=money, outcome=outcome
        )

    def acknowledgement(self, accepted: bool) -> Acknowledgement:
        return Acknowledgement(ACK_ACCEPTED if accepted else ACK_REFUSED)

    # -- reconciliation ----------------------------------------------------------------

    async def query_order(self, order_id: str) -> ProviderOrderStatus:
        check_order_id(order_id)
        fields = self._signed(
            {
                "appid": self.config.app_id,
                "out_trade_order": order_id,
                "time": self._unix_time(),
                "nonce_str": self._nonce(),
            }
        )
        answer = await exchange(
            self._http,
            "POST",
            f"{self.config.base_url}/payment/query.html",
            provider=NAME,
            operation="query",
            time_limit=self._timeout,
            json_body=fields,
        )
        body = self._json(answer, "query")
        if _php_text(body.get("errcode")) != "0":
            raise self._failed("query", "the provider refused the query", answer, body)
        data = body.get("data")
        if not isinstance(data, dict):
            raise self._failed("query", "the answer has no data", answer)
        answered_for = _php_text(data.get("out_trade_order"))
        if answered_for and answered_for != order_id:
            raise self._failed("query", "the answer is about another order", answer)
        outcome = _OUTCOMES.get(_php_text(data.get("status")), CallbackOutcome.PENDING)
        txn_id = _php_text(data.get("transaction_id")) or _php_text(data.get("open_order_id"))
        money_text = _php_text(data.get("total_amount") or data.get("total_fee"))
        money = parse_amount(money_text, CURRENCY) if money_text else None
        if money_text and money is None:
            raise self._failed("query", "the answer's amount is not an amount", answer)
        if outcome is CallbackOutcome.PAID and not txn_id:
            raise self._failed("query", "a paid order without a transaction id", answer)
        return ProviderOrderStatus(outcome, txn_id or None, money)

    # -- helpers -----------------------------------------------------------------------

    def _signed(self, fields: Mapping[str, str]) -> dict[str, str]:
        present = {key: value for key, value in fields.items() if value}
        present["hash"] = self._signer.md5(present, self.config.app_secret)
        return present

    def _answer_is_signed(self, body: Mapping[str, Any]) -> bool:
        given = body.get("hash")
        if not isinstance(given, str) or not given:
            return False
        if any(isinstance(value, dict | list) for value in body.values()):
            return False  # the SDK's hash is defined over scalars only
        flat = {key: _php_text(value) for key, value in body.items()}
        return self._signer.verify_md5(flat, self.config.app_secret, given)

    def _unix_time(self) -> str:
        return str(int(self._clock.now().timestamp()))

    def _json(self, answer: ProviderAnswer, operation: str) -> dict[str, Any]:
        body = answer.json_object() if answer.status == httpx.codes.OK else None
        if body is None:
            raise self._failed(operation, "not a JSON answer with status 200", answer)
        return body

    def _failed(
        self,
        operation: str,
        reason: str,
        answer: ProviderAnswer,
        body: Mapping[str, Any] | None = None,
    ) -> PaymentProviderFailed:
        return provider_failed(
            provider=NAME,
            operation=operation,
            reason=reason,
            status=answer.status,
            detail=(body or {}).get("errmsg"),
            secrets=(self.config.app_secret,),
        )


def _php_text(value: object) -> str:
    """A JSON scalar as PHP's string conversion prints it (the provider's SDK signs that):
    ``true`` is ``"1"``, ``false`` and ``null`` are empty, ``10.0`` is ``"10"``."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dict | list):
        return ""
    return str(value)
