"""The "sorted parameters" signature that yipay/epay, hupijiao and Linux Credit share.

Every one of them signs the same canonical string: all parameters whose value is not empty,
except the signature fields themselves, sorted by key (byte order), joined as ``k=v&k=v``
with the raw values (no URL encoding), and the merchant secret appended directly — no
``&key=`` and no separator. yipay/epay and hupijiao take the lowercase hex MD5 of that;
Linux Credit's own protocol signs it with Ed25519 instead (``ldcpay``).

Some epay clones (EzPay among them) URL-encode each value first, the way PHP's
``urlencode`` does; that is the per-channel ``url_encode`` flag.

Verification recomputes the signature over the parameters actually received (so fields a
provider adds later are covered too) and compares in constant time, ignoring case: some
providers send the hex digest in upper case.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote_plus


def php_urlencode(value: str) -> str:
    """PHP's ``urlencode``: UTF-8, space as ``+``, everything but ``A-Za-z0-9-_.``
    percent-encoded (Python's ``quote_plus`` also leaves ``~`` alone; PHP does not)."""
    return quote_plus(value, safe="").replace("~", "%7E")


@dataclass(frozen=True, slots=True)
class SortedParamsSigner:
    excluded: frozenset[str]
    """The signature fields, never part of the signed string (``sign``/``sign_type``,
    hupijiao's ``hash``)."""
    url_encode: bool = False
    """URL-encode each value (PHP ``urlencode``) before joining: some epay clones do."""

    @classmethod
    def excluding(cls, *names: str, url_encode: bool = False) -> SortedParamsSigner:
        return cls(frozenset(names), url_encode)

    def canonical(self, params: Mapping[str, str]) -> str:
        """``k=v&k=v`` over the non-empty, non-signature parameters, sorted by key."""
        pairs = sorted(
            (key, value)
            for key, value in params.items()
            if key not in self.excluded and value is not None and value != ""
        )
        if self.url_encode:
            pairs = [(key, php_urlencode(value)) for key, value in pairs]
        return "&".join(f"{key}={value}" for key, value in pairs)

    def md5(self, params: Mapping[str, str], secret: str) -> str:
        """The lowercase hex MD5 of the canonical string with ``secret`` appended."""
        signed = (self.canonical(params) + secret).encode("utf-8")
        # MD5 is what these providers specify; it is their signature, not our choice.
        return hashlib.md5(signed, usedforsecurity=False).hexdigest()

    def verify_md5(self, params: Mapping[str, str], secret: str, given: str) -> bool:
        return signatures_match(self.md5(params, secret), given)


def signatures_match(expected: str, given: str) -> bool:
    """Constant time (for equal lengths) and case-insensitive: some providers send the
    hex digest in upper case."""
    return hmac.compare_digest(
        expected.lower().encode("utf-8"), given.strip().lower().encode("utf-8")
    )
