"""ptlogin2's ``hash33`` (a times-33 string hash), used for ``ptqrtoken`` and ``g_tk``."""

from __future__ import annotations

G_TK_SEED = 5381
_MASK = 0x7FFFFFFF


def hash33(text: str, seed: int = 0) -> int:
    """``h = h * 33 + code point`` over the text's code points, kept to 31 bits at the end.

    Python ints do not overflow, so masking once at the end equals masking every step.
    """
    value = seed
    for char in text:
        value = (value << 5) + value + ord(char)
    return value & _MASK


def g_tk(key: str) -> int:
    """The CSRF token QQ pages derive from a login key (``p_skey``, ``musickey``)."""
    return hash33(key, G_TK_SEED) if key else G_TK_SEED
