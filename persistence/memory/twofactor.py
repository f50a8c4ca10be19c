"""In-process two-factor and key-ring persistence (see ``persistence.memory.accounts``).

``MemoryTotpRepository`` belongs to a memory unit of work: its writes are staged next to
the unit's user writes and applied only on commit, so leaving without committing undoes
both (the factor and ``users.totp_enabled``). The challenge and key-version stores are
plain dictionaries whose methods never await, so each call is atomic.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from domain.accounts.errors import UserNotFound
from domain.accounts.model import User
from domain.clock import Clock
from domain.keyring import WrappedKey
from domain.keyring_service import StoredSecret
from domain.twofactor.model import LoginChallenge, TotpFactor
from domain.twofactor.service import pending_aad, secret_aad

SECRET_KIND = "totp"
PENDING_KIND = "totp-pending"

RecoveryCodes = dict[str, datetime | None]
"""One user's recovery codes: code hash -> when it was used (``None``: still usable)."""


class TotpTables:
    """The committed TOTP state of a memory unit-of-work factory."""

    def __init__(self) -> None:
        self.factors: dict[str, TotpFactor] = {}
        self.codes: dict[str, RecoveryCodes] = {}


class TotpStage:
    """One unit of work's pending TOTP writes; ``None`` / empty means "deleted"."""

    def __init__(self) -> None:
        self.factors: dict[str, TotpFactor | None] = {}
        self.codes: dict[str, RecoveryCodes] = {}

    def apply_to(self, tables: TotpTables) -> None:
        for user_id, factor in self.factors.items():
            if factor is None:
                tables.factors.pop(user_id, None)
            else:
                tables.factors[user_id] = factor
        for user_id, codes in self.codes.items():
            if codes:
                tables.codes[user_id] = codes
            else:
                tables.codes.pop(user_id, None)
        self.factors.clear()
        self.codes.clear()


class MemoryTotpRepository:
    def __init__(
        self,
        *,
        users: dict[str, User],
        staged_users: dict[str, User],
        tables: TotpTables,
        stage: TotpStage,
        clock: Clock,
    ) -> None:
        self._users = users
        self._staged_users = staged_users
        self._tables = tables
        self._stage = stage
        self._clock = clock

    async def get(self, user_id: str) -> TotpFactor | None:
        return self._factor(user_id)

    async def save_pending(self, user_id: str, secret_enc: bytes, expires_at: datetime) -> None:
        self._user(user_id)
        current = self._factor(user_id) or TotpFactor(
            user_id=user_id,
            secret_enc=None,
            last_step=None,
            pending_secret_enc=None,
            pending_expires_at=None,
        )
        self._stage.factors[user_id] = replace(
            current, pending_secret_enc=bytes(secret_enc), pending_expires_at=_utc(expires_at)
        )

    async def enable(
        self, user_id: str, secret_enc: bytes, step: int, recovery_hashes: list[str]
    ) -> None:
        self._set_user_flag(user_id, enabled=True)
        self._stage.factors[user_id] = TotpFactor(
            user_id=user_id,
            secret_enc=bytes(secret_enc),
            last_step=step,
            pending_secret_enc=None,
            pending_expires_at=None,
        )
        await self.replace_recovery_codes(user_id, recovery_hashes)

    async def disable(self, user_id: str) -> None:
        self._set_user_flag(user_id, enabled=False)
        self._stage.factors[user_id] = None
        self._stage.codes[user_id] = {}

    async def advance_step(self, user_id: str, step: int) -> bool:
        factor = self._factor(user_id)
        if factor is None or (factor.last_step is not None and factor.last_step >= step):
            return False
        self._stage.factors[user_id] = replace(factor, last_step=step)
        return True

    async def record_failure(self, user_id: str, *, limit: int, lock_until: datetime) -> int:
        factor = self._factor(user_id)
        if factor is None:
            return 0
        count = factor.failed_attempts + 1
        if count >= limit:
            changed = replace(factor, failed_attempts=0, locked_until=_utc(lock_until))
        else:
            changed = replace(factor, failed_attempts=count)
        self._stage.factors[user_id] = changed
        return count

    async def reset_failures(self, user_id: str) -> None:
        factor = self._factor(user_id)
        if factor is not None and factor.failed_attempts:
            self._stage.factors[user_id] = replace(factor, failed_attempts=0)

    async def replace_recovery_codes(self, user_id: str, hashes: list[str]) -> None:
        self._user(user_id)
        self._stage.codes[user_id] = dict.fromkeys(hashes, None)

    async def consume_recovery_code(self, user_id: str, code_hash: str, at: datetime) -> bool:
        codes = self._codes(user_id)
        if code_hash not in codes or codes[code_hash] is not None:
            return False
        self._stage.codes[user_id] = {**codes, code_hash: _utc(at)}
        return True

    async def count_recovery_codes(self, user_id: str) -> int:
        return sum(1 for used_at in self._codes(user_id).values() if used_at is None)

    async def list_encrypted(self) -> list[StoredSecret]:
        visible = {**self._tables.factors, **self._stage.factors}
        found: list[StoredSecret] = []
        for user_id in sorted(visible):
            factor = visible[user_id]
            if factor is None:
                continue
            if factor.secret_enc is not None:
                found.append(
                    StoredSecret(SECRET_KIND, user_id, factor.secret_enc, secret_aad(user_id))
                )
            if factor.pending_secret_enc is not None:
                found.append(
                    StoredSecret(
                        PENDING_KIND, user_id, factor.pending_secret_enc, pending_aad(user_id)
                    )
                )
        return found

    async def replace_encrypted(self, secret: StoredSecret, new_blob: bytes) -> bool:
        factor = self._factor(secret.owner)
        if factor is None:
            return False
        if secret.kind == SECRET_KIND and factor.secret_enc == secret.blob:
            changed = replace(factor, secret_enc=bytes(new_blob))
        elif secret.kind == PENDING_KIND and factor.pending_secret_enc == secret.blob:
            changed = replace(factor, pending_secret_enc=bytes(new_blob))
        else:
            return False
        self._stage.factors[secret.owner] = changed
        return True

    def _factor(self, user_id: str) -> TotpFactor | None:
        if user_id in self._stage.factors:
            return self._stage.factors[user_id]
        return self._tables.factors.get(user_id)

    def _codes(self, user_id: str) -> RecoveryCodes:
        if user_id in self._stage.codes:
            return self._stage.codes[user_id]
        return self._tables.codes.get(user_id, {})

    def _user(self, user_id: str) -> User:
        user = self._staged_users.get(user_id) or self._users.get(user_id)
        if user is None:
            raise UserNotFound()
        return user

    def _set_user_flag(self, user_id: str, *, enabled: bool) -> None:
        user = self._user(user_id)
        self._staged_users[user_id] = user.with_changes(
            totp_enabled=enabled, updated_at=_utc(self._clock.now())
        )


class MemoryChallengeStore:
    def __init__(self) -> None:
        self._by_hash: dict[str, LoginChallenge] = {}

    async def add(self, challenge: LoginChallenge) -> None:
        if challenge.id_hash in self._by_hash:
            raise ValueError("duplicate challenge id hash")
        self._by_hash[challenge.id_hash] = replace(
            challenge,
            created_at=_utc(challenge.created_at),
            expires_at=_utc(challenge.expires_at),
        )

    async def get(self, id_hash: str) -> LoginChallenge | None:
        return self._by_hash.get(id_hash)

    async def record_failure(self, id_hash: str, max_attempts: int) -> int:
        challenge = self._by_hash.get(id_hash)
        if challenge is None:
            return 0
        attempts = challenge.attempts + 1
        if attempts >= max_attempts:
            del self._by_hash[id_hash]
        else:
            self._by_hash[id_hash] = replace(challenge, attempts=attempts)
        return attempts

    async def take(self, id_hash: str) -> LoginChallenge | None:
        return self._by_hash.pop(id_hash, None)

    async def delete_for_user(self, user_id: str) -> None:
        for id_hash in [h for h, c in self._by_hash.items() if c.user_id == user_id]:
            del self._by_hash[id_hash]

    async def purge_expired(self, now: datetime) -> int:
        """Forget the challenges that expired at or before ``now``; returns how many."""
        doomed = [h for h, c in self._by_hash.items() if c.expires_at <= now]
        for id_hash in doomed:
            del self._by_hash[id_hash]
        return len(doomed)


class MemoryKeyVersionStore:
    def __init__(self) -> None:
        self._versions: dict[int, WrappedKey] = {}

    async def list_versions(self) -> list[WrappedKey]:
        return [self._versions[v] for v in sorted(self._versions)]

    async def add_version(self, key: WrappedKey) -> bool:
        if key.version in self._versions:
            return False
        self._versions[key.version] = WrappedKey(key.version, bytes(key.wrapped))
        return True


def _utc(value: datetime) -> datetime:
    """Store instants as aware UTC, like the SQL and Redis stores return them."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
    return value.astimezone(UTC)
