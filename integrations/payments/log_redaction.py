"""Keep the merchant key out of httpx's request log.

The epay order query (yipay, and Linux Credit's copy of it) authenticates with the merchant
KEY in the query string (``api.php?act=order&pid=…&key=…``): the protocol leaves no other
way. httpx logs every request URL at INFO (``HTTP Request: GET https://…``), which would put
the key in the logs. This filter, on the ``httpx`` logger, masks the value of every query
parameter named in ``SECRET_QUERY_PARAMETERS`` before the record is formatted.

It is installed by the providers that send such URLs, when they are built (not at import),
and installing it again is a no-op. The composition root may also call
``install_log_redaction`` itself at start-up.
"""

from __future__ import annotations

import logging
import re

SECRET_QUERY_PARAMETERS = frozenset({"key"})
_SECRET_QUERY = re.compile(
    r"([?&](?:" + "|".join(sorted(SECRET_QUERY_PARAMETERS)) + r")=)[^&#\s\"']*",
    re.IGNORECASE,
)
_HTTPX_LOGGER = "httpx"


def redact_url_secrets(text: str) -> str:
    return _SECRET_QUERY.sub(r"\1****", text)


class SecretQueryFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_url_secrets(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        return True


def _redacted(arg: object) -> object:
    if isinstance(arg, int | float | bool) or arg is None:
        return arg
    text = str(arg)
    redacted = redact_url_secrets(text)
    return arg if redacted == text else redacted


def install_log_redaction() -> None:
    logger = logging.getLogger(_HTTPX_LOGGER)
    if not any(isinstance(existing, SecretQueryFilter) for existing in logger.filters):
        logger.addFilter(SecretQueryFilter())
