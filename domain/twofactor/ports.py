"""What two-factor authentication needs from persistence."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain import uow
from domain.accounts.ports import UserRepository
from domain.keyring_service import StoredSecret
from domain.twofactor.model import LoginChallenge, TotpFactor


class TotpRepository(Protocol):
    """Part of the unit of work (``uow.totp``): enabling and disabling also flip
    ``users.totp_enabled`` in the same transaction."""

    async def get(self, user_id: str) -> TotpFactor | None: ...

    async def save_pending(self, user_id: str, secret_enc: bytes, expires_at: datetime) -> None:
        """Create or replace the pending enrolment (the enabled secret, if any, is kept)."""

    async def enable(
        self, user_id: str, secret_enc: bytes, step: int, recovery_hashes: list[str]
    ) -> None:
        """Make ``secret_enc`` the enabled secret with ``last_step = step``, clear the
        pending enrolment, replace the recovery codes, set ``users.totp_enabled``."""

    async def disable(self, user_id: str) -> None:
        """Forget the factor and its recovery codes; clear ``users.totp_enabled``."""

    async def advance_step(self, user_id: str, step: int) -> bool:
        """Atomically set ``last_step = step`` if it is newer than the stored one.
        ``False`` means the step was already used: a replay."""

    async def record_failure(self, user_id: str, *, limit: int, lock_until: datetime) -> int:
        """Count a wrong code; at ``limit`` consecutive failures set ``locked_until``.
        Returns the failure count."""

    async def reset_failures(self, user_id: str) -> None: ...

    async def replace_recovery_codes(self, user_id: str, hashes: list[str]) -> None: ...

    async def consume_recovery_code(self, user_id: str, code_hash: str, at: datetime) -> bool:
        """Atomically mark an unused code used; ``False`` if unknown or already used."""

    async def count_recovery_codes(self, user_id: str) -> int:
        """Unused recovery codes."""

    async def list_encrypted(self) -> list[StoredSecret]:
        """Every TOTP blob (kinds ``totp`` and ``totp-pending``), for key rotation."""

    async def replace_encrypted(self, secret: StoredSecret, new_blob: bytes) -> bool:
        """Compare-and-set one blob (key rotation)."""


class UnitOfWork(uow.UnitOfWork, Protocol):
    """The repositories two-factor authentication changes together: a factor and its
    user's ``totp_enabled`` flag."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def totp(self) -> TotpRepository: ...


UnitOfWorkFactory = uow.UnitOfWorkFactory[UnitOfWork]


class ChallengeStore(Protocol):
    async def add(self, challenge: LoginChallenge) -> None: ...

    async def get(self, id_hash: str) -> LoginChallenge | None:
        """The challenge, which may be expired (the caller checks) or already gone."""

    async def record_failure(self, id_hash: str, max_attempts: int) -> int:
        """Atomically count a wrong code and return the attempts so far; the challenge is
        deleted when it reaches ``max_attempts``. 0 when it no longer exists."""

    async def take(self, id_hash: str) -> LoginChallenge | None:
        """Atomically remove and return it: only one caller can complete a challenge."""

    async def delete_for_user(self, user_id: str) -> None: ...


class QrCodeRenderer(Protocol):
    def svg_data_uri(self, text: str) -> str:
        """A QR code of ``text`` as an SVG ``data:`` URI."""
