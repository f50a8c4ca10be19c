"""E-mail address normalisation and a deliberately simple syntax check."""

from __future__ import annotations

import re

from domain.errors import InvalidInput

MAX_EMAIL_LENGTH = 254

_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def normalize_email(raw: str) -> str:
    """Trim and lower-case; raise ``InvalidInput(field="email")`` unless it is plausible."""
    email = (raw or "").strip().lower()
    if not email:
        raise InvalidInput("email is required", field="email")
    if len(email) > MAX_EMAIL_LENGTH or email.count("@") != 1:
        raise InvalidInput("email is not a valid address", field="email")
    local, domain = email.split("@")
    labels = domain.split(".")
    valid = (
        0 < len(local) <= 64
        and _LOCAL.fullmatch(local) is not None
        and not local.startswith(".")
        and not local.endswith(".")
        and ".." not in local
        and len(labels) >= 2
        and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )
    if not valid:
        raise InvalidInput("email is not a valid address", field="email")
    return email
