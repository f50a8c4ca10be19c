"""yipay: the epay ("彩虹易支付") V1 MD5 protocol, spoken by many independent deployments.

Creation, two ways (``YipayConfig.creation``):

* ``page`` (default, as the original): ``{base}/submit.php`` with ``pid``, ``type``
  (alipay by default; wxpay, qqpay), ``out_trade_no``, ``notify_url``, ``return_url``,
  ``name`` (cut to 127 bytes, the provider's limit), ``money`` (yuan, two decimals),
  ``sign`` and ``sign_type=MD5``. ``pay_url`` is that as a signed GET URL (no call from
  us: the order reaches the provider when the buyer opens it); ``submit_form`` gives the
  same fields for an auto-submitted POST form, which the epay documentation recommends
  (long names survive a POST better than a URL).
* ``api``: ``POST {base}/mapi.php`` with the same fields plus ``clientip`` (required: the
  buyer's address) and ``device`` (pc, mobile, qq, wechat, alipay); it answers JSON
  ``code`` (1 = OK), ``msg``, ``trade_no`` and one of ``payurl``, ``qrcode`` (a payload to
  render as a QR code) or ``urlscheme``. That answer is not signed.

Signing: lowercase MD5 over every non-empty parameter except ``sign``/``sign_type``,
sorted by key, ``k=v&…`` with raw values, the KEY appended directly
(``signing.SortedParamsSigner``); ``url_encode_values`` for clones that encode first.

Notify: a GET to ``notify_url`` (``return_url`` gets the same fields) with ``pid``,
``trade_no`` (the provider's transaction id), ``out_trade_no`` (our order id), ``type``,
``name``, ``money``, ``trade_status``, ``param``, ``sign``, ``sign_type``. The signature
covers every field received, unknown ones included. Only ``TRADE_SUCCESS`` is a payment;
``TRADE_CLOSED`` is a failure; any other status is reported ``PENDING`` (nothing to act on;
an order is never failed on a status we do not know). A ``pid`` other than ours, a
``sign_type`` other than MD5, a missing field or an amount with more than two decimals is an
invalid callback. The answer that stops the retries is the body ``success``.

Query: ``GET {base}/api.php?act=order&pid=…&key=…&out_trade_no=…``; ``code`` 1 and
``status`` 1 mean paid. The KEY travels in the query string (the protocol has no other
way): ``log_redaction`` keeps it out of httpx's request log. Any other ``code`` (an unknown
order answers ``-1`` with a message, and so does a wrong key) is a provider failure: the
two cannot be told apart reliably.

Verification is stateless: a replayed notify verifies again. Processing it once is the
billing service's job (unique provider transaction id plus a conditional state change).

Differences from the original gateway: it only built the page-jump GET URL (no
``mapi.php``, no POST form, no order query), and it read a callback's ``money`` with
``decimal.NewFromString``, so ``"13.891"`` parsed and later failed the amount comparison;
here it is an invalid callback at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

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
from domain.errors import InvalidInput
from integrations.payments.callback_fields import amount, json_text, parse_amount, required
from integrations.payments.config import YipayConfig, YipayCreation, check_token
from integrations.payments.exchange import (
    DEFAULT_TIMEOUT,
    ProviderAnswer,
    exchange,
    provider_failed,
)
from integrations.payments.log_redaction import install_log_redaction
from integrations.payments.request_checks import (
    check_order_id,
    check_payment_request,
    truncate_utf8,
)
from integrations.payments.signing import SortedParamsSigner

NAME = "yipay"
CURRENCY = "CNY"
SIGNATURE_FIELDS = ("sign", "sign_type")
MAX_NAME_BYTES = 127
PAID_STATUS = "TRADE_SUCCESS"
CLOSED_STATUS = "TRADE_CLOSED"
ACK_ACCEPTED = "success"
ACK_REFUSED = "fail"

log = logging.getLogger("karpov.integrations.payments.yipay")


@dataclass(frozen=True, slots=True)
class PaymentForm:
    """An HTML form for the buyer's browser to POST (auto-submitted)."""

    action: str
    fields: dict[str, str]
    method: str = "POST"


class YipayProvider:
    """Implements ``domain.billing.ports.PaymentProvider`` for an epay V1 deployment."""

    name = NAME
    currency = CURRENCY

    def __init__(
        self,
        config: YipayConfig,
        *,
        http: httpx.AsyncClient,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.config = config
        self._http = http
        self._timeout = timeout
        self._signer = SortedParamsSigner.excluding(
            *SIGNATURE_FIELDS, url_encode=config.url_encode_values
        )
        install_log_redaction()

    # -- creation ----------------------------------------------------------------------

    def pay_url(self, request: PaymentRequest) -> str:
        """The signed ``submit.php`` GET URL (page jump)."""
        return f"{self.config.base_url}/submit.php?{urlencode(self._order_fields(request))}"

    def submit_form(self, request: PaymentRequest) -> PaymentForm:
        """The same signed fields, for a POST form to ``submit.php``."""
        return PaymentForm(f"{self.config.base_url}/submit.php", self._order_fields(request))

    async def create_payment(self, request: PaymentRequest) -> PaymentCreated:
        if self.config.creation is YipayCreation.PAGE:
            created = PaymentCreated(pay_url=self.pay_url(request))
            log.debug("yipay page-jump URL signed", extra={"order_id": request.order_id})
            return created
        return await self._create_through_api(request)

    async def _create_through_api(self, request: PaymentRequest) -> PaymentCreated:
        if not request.client_ip:
            raise ValueError("mapi.php needs the buyer's client_ip")
        extra = {"clientip": request.client_ip, "device": self.config.device}
        fields = self._order_fields(request, extra)
        answer = await exchange(
            self._http,
            "POST",
            f"{self.config.base_url}/mapi.php",
            provider=NAME,
            operation="create",
            time_limit=self._timeout,
            data=fields,
        )
        body = self._json(answer, "create")
        if str(body.get("code")) != "1":
            raise self._failed("create", "the provider refused the order", answer, body)
        pay_url, qrcode, scheme = (
            json_text(body, name) for name in ("payurl", "qrcode", "urlscheme")
        )
        target = pay_url or scheme or qrcode
        if not target:
            raise self._failed("create", "no payurl, qrcode or urlscheme", answer, body)
        log.debug("yipay order created", extra={"order_id": request.order_id})
        return PaymentCreated(
            pay_url=target,
            qr_payload=qrcode or None,
            provider_order_id=json_text(body, "trade_no") or None,
        )

    def _order_fields(
        self, request: PaymentRequest, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        check_payment_request(request, CURRENCY)
        payment_type = request.method or self.config.payment_type
        try:
            check_token(payment_type, "method")
        except InvalidInput:
            raise InvalidInput(
                "method must be an epay type such as alipay", field="method"
            ) from None
        fields = {
            "pid": self.config.merchant_id,
            "type": payment_type,
            "out_trade_no": request.order_id,
            "notify_url": request.notify_url,
            "return_url": request.return_url,
            "name": truncate_utf8(request.subject, MAX_NAME_BYTES),
            "money": request.amount.formatted(),
            **(extra or {}),
        }
        fields = {key: value for key, value in fields.items() if value}
        fields["sign"] = self._signer.md5(fields, self.config.key)
        fields["sign_type"] = "MD5"
        return fields

    # -- callbacks ---------------------------------------------------------------------

    def verify_callback(self, params: Mapping[str, str]) -> CallbackVerdict:
        given = required(params, "sign")
        sign_type = params.get("sign_type", "")
        if sign_type and sign_type.upper() != "MD5":
            raise InvalidCallback(f"sign_type {sign_type[:16]!r} is not supported (MD5 only)")
        if not self._signer.verify_md5(params, self.config.key, given):
            raise InvalidCallback("the signature does not match")
        pid = params.get("pid")
        if pid and pid != self.config.merchant_id:
            raise InvalidCallback("the notify is for another merchant (pid)")
        order_id = required(params, "out_trade_no")
        txn_id = required(params, "trade_no")
        status = required(params, "trade_status")
        money = amount(required(params, "money"), CURRENCY, name="money")
        return CallbackVerdict(
            order_id=order_id, provider_txn_id=txn_id, amount=money, outcome=_outcome(status)
        )

    def acknowledgement(self, accepted: bool) -> Acknowledgement:
        return Acknowledgement(ACK_ACCEPTED if accepted else ACK_REFUSED)

    # -- reconciliation ----------------------------------------------------------------

    async def query_order(self, order_id: str) -> ProviderOrderStatus:
        check_order_id(order_id)
        answer = await exchange(
            self._http,
            "GET",
            f"{self.config.base_url}/api.php",
            provider=NAME,
            operation="query",
            time_limit=self._timeout,
            params={
                "act": "order",
                "pid": self.config.merchant_id,
                "key": self.config.key,
                "out_trade_no": order_id,
            },
        )
        body = self._json(answer, "query")
        if str(body.get("code")) != "1":
            raise self._failed("query", "the provider refused the query", answer, body)
        answered_for = json_text(body, "out_trade_no")
        if answered_for and answered_for != order_id:
            raise self._failed("query", "the answer is about another order", answer)
        txn_id = json_text(body, "trade_no") or None
        money_text = json_text(body, "money")
        money = parse_amount(money_text, CURRENCY) if money_text else None
        if money_text and money is None:
            raise self._failed("query", "the answer's money is not an amount", answer)
        if json_text(body, "status") == "1":
            if txn_id is None or money is None:
                raise self._failed("query", "a paid order without trade_no or money", answer)
            return ProviderOrderStatus(CallbackOutcome.PAID, txn_id, money)
        return ProviderOrderStatus(CallbackOutcome.PENDING, txn_id, money)

    # -- helpers -----------------------------------------------------------------------

    def _json(self, answer: ProviderAnswer, operation: str) -> dict[str, object]:
        body = answer.json_object() if answer.status == httpx.codes.OK else None
        if body is None:
            raise self._failed(operation, "not a JSON answer with status 200", answer)
        return body

    def _failed(
        self,
        operation: str,
        reason: str,
        answer: ProviderAnswer,
        body: Mapping[str, object] | None = None,
    ) -> PaymentProviderFailed:
        return provider_failed(
            provider=NAME,
            operation=operation,
            reason=reason,
            status=answer.status,
            detail=(body or {}).get("msg"),
            secrets=(self.config.key,),
        )


def _outcome(trade_status: str) -> CallbackOutcome:
    if trade_status == PAID_STATUS:
        return CallbackOutcome.PAID
    if trade_status == CLOSED_STATUS:
        return CallbackOutcome.FAILED
    return CallbackOutcome.PENDING
