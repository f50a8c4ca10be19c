"""Failures of sending e-mail."""

from __future__ import annotations

from domain.errors import DomainError


class MailDeliveryFailed(DomainError):
    code = "MAIL_DELIVERY_FAILED"
    default_message = "the e-mail could not be sent, try again later"
    http_status = 502
