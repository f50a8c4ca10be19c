"""Tunable rules of the accounts context, filled from settings by the composition root."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta


class BreachCheckMode(enum.StrEnum):
    OFF = "off"
    FAIL_OPEN = "fail-open"
    FAIL_CLOSED = "fail-closed"


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    session_ttl: timedelta = timedelta(days=7)
    min_password_strength: int = 3
    breach_check: BreachCheckMode = BreachCheckMode.FAIL_OPEN
    session_touch_interval: timedelta = timedelta(seconds=60)
    """``last_seen_at`` is written at most this often per session (not on every request)."""
