"""Secrets shown masked, the way the original's payment settings page showed them.

``mask_secret("abcdefgh")`` is ``"ab****gh"``; four characters or fewer become ``"****"``;
an empty value stays empty (nothing is configured). A settings update that sends a masked
value back means "keep the stored secret": ``is_masked`` recognises exactly the shapes
``mask_secret`` produces.
"""

from __future__ import annotations

MASK = "****"


def mask_secret(secret: str) -> str:
    if not secret:
        return ""
    if len(secret) <= 4:
        return MASK
    return f"{secret[:2]}{MASK}{secret[-2:]}"


def is_masked(value: str) -> bool:
    return value == MASK or (len(value) == len(MASK) + 4 and value[2:-2] == MASK)
