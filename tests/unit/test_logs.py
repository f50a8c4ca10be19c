"""JsonFormatter: one JSON object per record, the request id from the context, and secret
fields redacted so their values never reach the output."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import pytest

from gateway.logs import JsonFormatter, configure_logging, request_id_var

SECRETS = {
    "password": "hunter2-secret-password",
    "token": "tok_abcdefghijklmnop",
    "sid": "sid-0123456789abcdef",
    "authorization": "Bearer top-secret-bearer",
    "session_token": "session-token-value-1",
    "api_key": "mk_live_secretkey",
    "new_password": "new-password-value",
    "cookie": "sid=cookie-secret",
    "master_key": "ab" * 32,
    "totp_secret": "JBSWY3DPEHPK3PXP",
}


def record(message: str = "hello %s", *args: Any, **extra: Any) -> logging.LogRecord:
    rec = logging.LogRecord("karpov.test", logging.INFO, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def formatted(rec: logging.LogRecord) -> tuple[str, dict[str, Any]]:
    text = JsonFormatter().format(rec)
    return text, json.loads(text)


def test_a_record_is_one_json_object_with_the_basics() -> None:
    text, entry = formatted(record("hello %s", "world"))
    assert "\n" not in text
    assert entry["message"] == "hello world"
    assert entry["level"] == "info"
    assert entry["logger"] == "karpov.test"
    assert entry["time"].endswith("+00:00")
    assert "request_id" not in entry  # none set


def test_request_id_comes_from_the_contextvar() -> None:
    token = request_id_var.set("req-from-context")
    try:
        _, entry = formatted(record())
    finally:
        request_id_var.reset(token)
    assert entry["request_id"] == "req-from-context"
    _, after = formatted(record())
    assert "request_id" not in after


def test_an_explicit_request_id_wins() -> None:
    token = request_id_var.set("req-from-context")
    try:
        _, entry = formatted(record(request_id="req-explicit"))
    finally:
        request_id_var.reset(token)
    assert entry["request_id"] == "req-explicit"


def test_plain_extra_fields_are_kept() -> None:
    _, entry = formatted(record(user_id="u-1", status=503, path=["a", 1]))
    assert entry["user_id"] == "u-1"
    assert entry["status"] == 503
    assert entry["path"] == ["a", 1]


@pytest.mark.parametrize(("field", "value"), sorted(SECRETS.items()))
def test_secret_fields_are_redacted(field: str, value: str) -> None:
    text, entry = formatted(record(user_id="u-1", **{field: value}))
    assert value not in text
    assert entry[field] == "[redacted]"
    assert entry["user_id"] == "u-1"


@pytest.mark.parametrize("field", ["Authorization", "PASSWORD", "Sid", "Token"])
def test_redaction_ignores_case(field: str) -> None:
    text, entry = formatted(record(**{field: "case-insensitive-secret"}))
    assert "case-insensitive-secret" not in text
    assert entry[field] == "[redacted]"


def test_all_secrets_at_once_never_appear() -> None:
    token = request_id_var.set("req-1")
    try:
        text, _ = formatted(record("login attempt", **SECRETS))
    finally:
        request_id_var.reset(token)
    for value in SECRETS.values():
        assert value not in text


def test_unserialisable_values_do_not_break_the_line() -> None:
    _, entry = formatted(record(obj=object(), when={1, 2}))
    assert isinstance(entry["obj"], str)


def test_exceptions_are_included() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = logging.LogRecord(
            "karpov.test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    _, entry = formatted(rec)
    assert entry["level"] == "error"
    assert "ValueError: boom" in entry["exception"]


def test_configure_logging_writes_json_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging("info")
        token = request_id_var.set("req-configured")
        try:
            logging.getLogger("karpov.test").info("configured", extra={"password": "pw-xyz"})
        finally:
            request_id_var.reset(token)
        logging.getLogger("karpov.test").debug("not at info level")
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert [line["message"] for line in lines] == ["configured"]
    assert lines[0]["request_id"] == "req-configured"
    assert lines[0]["password"] == "[redacted]"


@pytest.mark.parametrize(
    "field",
    [
        "x-api-key",
        "x-admin-key",
        pytest.param(
            "x-session-id",
        ),
    ],
)
def test_credential_header_fields_are_redacted(field: str) -> None:
    text, entry = formatted(record(**{field: "header-credential-secret"}))
    assert "header-credential-secret" not in text
    assert entry[field] == "[redacted]"
