"""ldcpay: Linux Credit (credit.linux.do, open source ``linux-do/credit``), in the LDC currency.

Creation: a form ``POST {base}/pay/submit.php`` (base ``https://credit.linux.do/epay`` by
default) with ``client_id``, ``type=ldcpay``, ``out_trade_no`` (our order id), ``money``
(exactly two decimals), ``order_name`` (cut to 64 characters, the platform's limit), the
optional ``notify_url`` and ``return_url`` (the platform refuses either beyond 100
characters), and ``sign``: the base64 (standard alphabet) Ed25519 signature, made with the
merchant's private key, of LDC's canonical string — every non-empty parameter except
``sign``/``sign_type``, sorted by key, ``k=v&…`` with raw values, the client secret appended
directly. Redirects are not followed: the platform answers ``302`` with ``Location`` (its
``/paying?order_no=…`` page), which is our pay URL. A 3xx without ``Location``, or any other
answer (a JSON ``{"error_msg": …, "data": null}``, with status 200 or 4xx), is a provider
failure.

Notify: a GET to ``notify_url`` (the order's, else the app's), at most five tries, with
``pid`` (our client id), ``trade_no`` (the platform's order id: the provider transaction
id), ``out_trade_no``, ``type`` (always ``epay``), ``name``, ``money`` (two decimals),
``trade_status`` (always ``TRADE_SUCCESS``) and ``sign``; no ``sign_type``. The platform
signs it with MD5, the epay V1 rule with the client secret. As the original did, a ``sign``
that is not 32 hex characters is taken for a base64 Ed25519 signature over the same
canonical string and checked with the platform's public key (refused when none is
configured); LDC does not sign notifies that way today. ``TRADE_SUCCESS`` is paid; any
other status is ``PENDING``. The answer that stops the retries is ``success`` (the platform
compares it trimmed and case-insensitively).

Query: ``GET {base}/api.php?act=order&pid=…&key=<client secret>&out_trade_no=…``; it answers
``code`` 1 with ``trade_no``, ``money`` and ``status`` (1 paid, 0 anything else: LDC does
not tell pending from failed or expired, so 0 is ``PENDING``). An unknown order is HTTP 404
with ``code`` -1: nothing was paid, so it is ``PENDING`` too. Other answers (400 for a wrong
key) are provider failures. The secret travels in the query string: ``log_redaction`` keeps
it out of httpx's request log.

Verification is stateless: a replayed notify verifies again; processing it once is the
billing service's job.

Differences from the original gateway: its Ed25519 canonical string excluded only
``sign`` (LDC's excludes ``sign_type`` too; it never mattered, as neither side sends it
with ``ldcpay``), it accepted a notify without ``trade_no``, and it had no order query.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Mapping
from urllib.parse import urljoin

import httpx
from cryptography.exceptions import InvalidSignature

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
from integrations.payments.callback_fields import amount, json_text, parse_amount, required
from integrations.payments.config import LdcConfig
from integrations.payments.exchange import (
    DEFAULT_TIMEOUT,
    ProviderAnswer,
    exchange,
    provider_failed,
)
from integrations.payments.log_redaction import install_log_redaction
from integrations.payments.request_checks import check_order_id, check_payment_request
from integrations.payments.signing import SortedParamsSigner

NAME = "ldcpay"
CURRENCY = "LDC"
MAX_ORDER_NAME_CHARS = 64
ED25519_SIGNATURE_SIZE = 64
PAID_STATUS = "TRADE_SUCCESS"
ACK_ACCEPTED = "success"
ACK_REFUSED = "fail"
_MD5_HEX = re.compile(r"[0-9A-Fa-f]{32}")

log = logging.getLogger("karpov.integrations.payments.ldcpay")


class LdcProvider:
    """Implements ``domain.billing.ports.PaymentProvider`` for Linux Credit."""

    name = NAME
    currency = CURRENCY

    def __init__(
        self,
        config: LdcConfig,
        *,
        http: httpx.AsyncClient,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.config = config
        self._http = http
        self._timeout = timeout
        self._signer = SortedParamsSigner.excluding("sign", "sign_type")
        install_log_redaction()

    # -- creation ----------------------------------------------------------------------

    def canonical(self, params: Mapping[str, str]) -> str:
        """LDC's string to sign: the sorted parameters with the client secret appended."""
        return self._signer.canonical(params) + self.config.client_secret

    def order_fields(self, request: PaymentRequest) -> dict[str, str]:
        """The signed ``submit.php`` form."""
        check_payment_request(request, CURRENCY)
        fields = {
            "client_id": self.config.client_id,
            "type": "ldcpay",
            "out_trade_no": request.order_id,
            "money": request.amount.formatted(),
            "order_name": request.subject[:MAX_ORDER_NAME_CHARS],
            "notify_url": request.notify_url,
            "return_url": request.return_url,
        }
        fields = {key: value for key, value in fields.items() if value}
        signature = self.config.signing_key.sign(self.canonical(fields).encode("utf-8"))
        fields["sign"] = base64.b64encode(signature).decode("ascii")
        return fields

    async def create_payment(self, request: PaymentRequest) -> PaymentCreated:
        submit_url = f"{self.config.base_url}/pay/submit.php"
        answer = await exchange(
            self._http,
            "POST",
            submit_url,
            provider=NAME,
            operation="create",
            time_limit=self._timeout,
            follow_redirects=False,
            data=self.order_fields(request),
        )
        if answer.status in range(300, 400):
            location = answer.headers.get("location", "").strip()
            if not location:
                raise self._failed("create", "a redirect without Location", answer)
            log.debug("ldcpay order created", extra={"order_id": request.order_id})
            return PaymentCreated(pay_url=urljoin(submit_url, location))
        body = answer.json_object() or {}
        reason = "the platform refused the order" if "error_msg" in body else "unexpected answer"
        raise self._failed("create", reason, answer, body.get("error_msg"))

    # -- callbacks ---------------------------------------------------------------------

    def verify_callback(self, params: Mapping[str, str]) -> CallbackVerdict:
        given = required(params, "sign")
        if _MD5_HEX.fullmatch(given):
            if not self._signer.verify_md5(params, self.config.client_secret, given):
                raise InvalidCallback("the MD5 signature does not match")
        else:
            self._verify_ed25519(params, given)
        pid = params.get("pid")
        if pid and pid != self.config.client_id:
            raise InvalidCallback("the notify is for another app (pid)")
        order_id = required(params, "out_trade_no")
        txn_id = required(params, "trade_no")
        status = required(params, "trade_status")
        money = amount(required(params, "money"), CURRENCY, name="money")
        outcome = CallbackOutcome.PAID if status == PAID_STATUS else CallbackOutcome.PENDING
        return CallbackVerdict(
            order_id=order_id, provider_txn_id=txn_id, amount=money, outcome=outcome
        )

    def _verify_ed25519(self, params: Mapping[str, str], given: str) -> None:
        platform_key = self.config.platform_key
        if platform_key is None:
            raise InvalidCallback(
                "an Ed25519-signed notify, but the platform public key not configured"
            )
        try:
            signature = base64.b64decode(given, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidCallback("sign is neither MD5 hex nor base64") from None
        if len(signature) != ED25519_SIGNATURE_SIZE:
            raise InvalidCallback("sign is not an Ed25519 signature")
        try:
            platform_key.verify(signature, self.canonical(params).encode("utf-8"))
        except InvalidSignature:
            raise InvalidCallback("the Ed25519 signature does not match") from None

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
                "pid": self.config.client_id,
                "key": self.config.client_secret,
                "out_trade_no": order_id,
            },
        )
        body = answer.json_object()
        if body is None:
            raise self._failed("query", "not a JSON answer", answer)
        code = json_text(body, "code")
        if answer.status == httpx.codes.NOT_FOUND and code == "-1":
            return ProviderOrderStatus(CallbackOutcome.PENDING)
        if answer.status != httpx.codes.OK or code != "1":
            raise self._failed("query", "the platform refused the query", answer, body.get("msg"))
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

    def _failed(
        self, operation: str, reason: str, answer: ProviderAnswer, detail: object = None
    ) -> PaymentProviderFailed:
        return provider_failed(
            provider=NAME,
            operation=operation,
            reason=reason,
            status=answer.status,
            detail=detail,
            secrets=(self.config.client_secret, self.config.merchant_private_key),
        )
