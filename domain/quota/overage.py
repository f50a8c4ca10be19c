"""Pay-as-you-go in the quota gate: when a pay-as-you-go plan's monthly units are used up,
the gate asks the overage payer (billing, through ``ports.OveragePayer``) to charge the
call to the user's wallet, inside its decision; the payer answers with this verdict."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OverageRefusal(StrEnum):
    """The original's reasons (its ``extraUsage`` decision)."""

    DISABLED = "extra_usage_disabled"
    NOT_PAY_AS_YOU_GO = "plan_not_pay_as_you_go"
    CAP_EXCEEDED = "extra_usage_cap_exceeded"
    INSUFFICIENT_BALANCE = "insufficient_balance"


@dataclass(frozen=True, slots=True)
class OverageVerdict:
    allowed: bool
    reason: OverageRefusal | None = None
    charged_minor: int = 0
    """What this call cost (the month's cost so far minus what was already charged)."""
    used_minor: int = 0
    """The month's overage cost so far."""
    cap_minor: int = 0
    """The user's monthly cap; 0 = none."""
    currency: str = "CNY"

    def data(self) -> dict[str, object]:
        return {
            "allowed": self.allowed, "reason": self.reason.value if self.reason else "",
            "chargedCents": self.charged_minor, "usedCents": self.used_minor,
            "capCents": self.cap_minor,
        }  # fmt: skip

    def header_pairs(self) -> list[tuple[bytes, bytes]]:
        """The original's response headers of a call paid as extra usage."""
        return [
            (b"x-extra-usage", b"1"),
            (b"x-extra-usage-charged-cents", str(self.charged_minor).encode()),
            (b"x-extra-usage-used-cents", str(self.used_minor).encode()),
            (b"x-extra-usage-cap-cents", str(self.cap_minor).encode()),
        ]
