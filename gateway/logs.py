"""Structured JSON logs with the request id, and redaction of secret-bearing fields."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

REDACTED_KEYS = frozenset(
    {
        "password", "password_hash", "new_password", "old_password", "token", "sid",
        "session_token", "api_key", "authorization", "cookie", "x-api-key", "x-admin-key",
        "x-session-id", "x-csrf-token", "csrf_token", "set-cookie",
        "secret", "master_key", "totp_secret", "code", "refresh_token", "access_token",
    }
)  # fmt: skip
_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def redact(value: Any) -> Any:
    """Redact secret-named keys at any depth of dicts and lists."""
    if isinstance(value, dict):
        return {
            k: "[redacted]" if str(k).lower() in REDACTED_KEYS else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key in _STANDARD or key == "request_id":
                continue
            entry[key] = "[redacted]" if key.lower() in REDACTED_KEYS else redact(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # harden: even at debug, these libraries never log below INFO: their debug output is
    # result rows (password hashes, sealed secrets), request headers (tokens, signatures)
    # and the SMTP conversation (AUTH). SQL parameters are hidden by the engine itself.
    for name in QUIET_BELOW_INFO:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    # readme: SQLAlchemy logs every statement at INFO (its engine echo); at the default
    # `info` that was several lines per request, so statements appear only at `debug`.
    sql = logging.INFO if root.level <= logging.DEBUG else max(logging.WARNING, root.level)
    logging.getLogger("sqlalchemy").setLevel(sql)


QUIET_BELOW_INFO = ("sqlalchemy", "httpx", "httpcore", "aiosmtplib", "asyncpg", "aiosqlite")
