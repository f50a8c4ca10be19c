"""The shared provider exchange: every transport failure is ``PaymentProviderFailed`` and
logs no URL (an epay query URL carries the merchant key); httpx's own request log has the
key masked."""

from __future__ import annotations

import logging

import httpx
import pytest

from domain.billing.errors import PaymentProviderFailed
from integrations.payments import YipayConfig, YipayProvider
from integrations.payments.exchange import MAX_ANSWER_BYTES, exchange, scrub
from integrations.payments.log_redaction import (
    SecretQueryFilter,
    install_log_redaction,
    redact_url_secrets,
)

KEY = "merchant-key-in-the-url-31337"


def provider_with(handler: httpx.MockTransport) -> YipayProvider:
    return YipayProvider(
        YipayConfig(base_url="https://pay.test", merchant_id="1001", key=KEY),
        http=httpx.AsyncClient(transport=handler),
    )


async def test_a_transport_error_is_a_provider_failure_that_logs_no_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    caplog.set_level(logging.DEBUG)

    with pytest.raises(PaymentProviderFailed) as failed:
        await provider_with(httpx.MockTransport(refuse)).query_order("ord_1")

    assert KEY not in str(failed.value)
    assert failed.value.__cause__ is None
    [record] = [r for r in caplog.records if r.name.startswith("karpov")]
    assert record.error == "ConnectError"  # type: ignore[attr-defined]
    assert all(KEY not in f"{r.getMessage()} {vars(r)!r}" for r in caplog.records)


async def test_an_answer_larger_than_the_limit_is_a_provider_failure() -> None:
    def huge(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * (MAX_ANSWER_BYTES + 1))

    async with httpx.AsyncClient(transport=httpx.MockTransport(huge)) as http:
        with pytest.raises(PaymentProviderFailed):
            await exchange(http, "GET", "https://pay.test/api.php", provider="p", operation="q")


async def test_an_answer_that_is_not_json_is_a_provider_failure() -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>maintenance</html>")

    with pytest.raises(PaymentProviderFailed):
        await provider_with(httpx.MockTransport(html)).query_order("ord_1")


async def test_an_answer_about_another_order_is_a_provider_failure() -> None:
    def other(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "code": 1,
                "out_trade_no": "ord_2",
                "trade_no": "9",
                "money": "1.00",
                "status": 1,
            },
        )

    with pytest.raises(PaymentProviderFailed):
        await provider_with(httpx.MockTransport(other)).query_order("ord_1")


def test_the_httpx_request_log_masks_secret_query_values() -> None:
    install_log_redaction()
    install_log_redaction()
    logger = logging.getLogger("httpx")
    record = logger.makeRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        'HTTP Request: %s %s "%s %d %s"',
        (
            "GET",
            httpx.URL(f"https://pay.test/api.php?act=order&key={KEY}&x=1"),
            "HTTP/1.1",
            200,
            "OK",
        ),
        None,
    )

    assert sum(isinstance(f, SecretQueryFilter) for f in logger.filters) == 1
    for log_filter in logger.filters:
        log_filter.filter(record)  # type: ignore[union-attr]
    assert KEY not in record.getMessage()
    assert "key=****&x=1" in record.getMessage()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"?key={KEY}", "?key=****"),
        (f"?a=1&KEY={KEY}#f", "?a=1&KEY=****#f"),
        ("?monkey=1", "?monkey=1"),
        ("key=bare", "key=bare"),
    ],
)
def test_secret_query_values_are_masked(text: str, expected: str) -> None:
    assert redact_url_secrets(text) == expected


def test_provider_messages_are_scrubbed_and_cut() -> None:
    assert scrub(f"bad key {KEY}!", [KEY]) == "bad key ****!"
    assert len(scrub("x" * 1000, [])) == 200
