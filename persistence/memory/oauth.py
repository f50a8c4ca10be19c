"""In-process OAuth persistence (see ``persistence.memory.accounts``).

``MemoryOAuthIdentityRepository`` belongs to a memory unit of work: its writes are staged
and applied only on commit, next to the unit's user writes. The state store is a plain
dictionary whose methods never await, so each call is atomic.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from domain.accounts.errors import UserNotFound
from domain.accounts.model import User
from domain.keyring_service import StoredSecret
from domain.oauth.errors import OAuthAlreadyBound, OAuthIdentityNotFound
from domain.oauth.model import OAuthIdentity, OAuthState
from domain.oauth.service import token_aad

ACCESS_KIND = "oauth-access"
REFRESH_KIND = "oauth-refresh"


class IdentityTables:
    """The committed identities of a memory unit-of-work factory, by id."""

    def __init__(self) -> None:
        self.rows: dict[str, OAuthIdentity] = {}


class IdentityStage:
    """One unit of work's pending identity writes; ``None`` means "deleted"."""

    def __init__(self) -> None:
        self.rows: dict[str, OAuthIdentity | None] = {}

    def apply_to(self, tables: IdentityTables) -> None:
        for identity_id, row in self.rows.items():
            if row is None:
                tables.rows.pop(identity_id, None)
            else:
                tables.rows[identity_id] = row
        self.rows.clear()


class MemoryOAuthIdentityRepository:
    def __init__(
        self,
        *,
        users: dict[str, User],
        staged_users: dict[str, User],
        tables: IdentityTables,
        stage: IdentityStage,
    ) -> None:
        self._users = users
        self._staged_users = staged_users
        self._tables = tables
        self._stage = stage

    async def get(self, provider: str, subject: str) -> OAuthIdentity | None:
        return next(
            (i for i in self._visible() if i.provider == provider and i.subject == subject), None
        )

    async def list_for_user(self, user_id: str) -> list[OAuthIdentity]:
        own = [i for i in self._visible() if i.user_id == user_id]
        return sorted(own, key=lambda i: (i.created_at, i.provider))

    async def add(self, identity: OAuthIdentity) -> None:
        if identity.user_id not in self._staged_users and identity.user_id not in self._users:
            raise UserNotFound()
        for other in self._visible():
            if (other.provider, other.subject) == (identity.provider, identity.subject) or (
                other.user_id,
                other.provider,
            ) == (identity.user_id, identity.provider):
                raise OAuthAlreadyBound()
            if other.id == identity.id:
                raise ValueError(f"duplicate identity id {identity.id!r}")
        self._stage.rows[identity.id] = _normalised(identity)

    async def update(self, identity: OAuthIdentity) -> None:
        current = self._row(identity.id)
        if current is None:
            raise OAuthIdentityNotFound()
        self._stage.rows[identity.id] = _normalised(
            replace(
                identity,
                user_id=current.user_id,
                provider=current.provider,
                subject=current.subject,
                created_at=current.created_at,
            )
        )

    async def delete(self, user_id: str, provider: str) -> bool:
        for identity in self._visible():
            if identity.user_id == user_id and identity.provider == provider:
                self._stage.rows[identity.id] = None
                return True
        return False

    async def list_encrypted(self) -> list[StoredSecret]:
        found: list[StoredSecret] = []
        for identity in sorted(self._visible(), key=lambda i: i.id):
            aad = token_aad(identity.provider, identity.subject)
            if identity.access_token_enc is not None:
                found.append(StoredSecret(ACCESS_KIND, identity.id, identity.access_token_enc, aad))
            if identity.refresh_token_enc is not None:
                found.append(
                    StoredSecret(REFRESH_KIND, identity.id, identity.refresh_token_enc, aad)
                )
        return found

    async def replace_encrypted(self, secret: StoredSecret, new_blob: bytes) -> bool:
        identity = self._row(secret.owner)
        if identity is None:
            return False
        if secret.kind == ACCESS_KIND and identity.access_token_enc == secret.blob:
            changed = replace(identity, access_token_enc=bytes(new_blob))
        elif secret.kind == REFRESH_KIND and identity.refresh_token_enc == secret.blob:
            changed = replace(identity, refresh_token_enc=bytes(new_blob))
        else:
            return False
        self._stage.rows[identity.id] = changed
        return True

    def _row(self, identity_id: str) -> OAuthIdentity | None:
        if identity_id in self._stage.rows:
            return self._stage.rows[identity_id]
        return self._tables.rows.get(identity_id)

    def _visible(self) -> list[OAuthIdentity]:
        merged: dict[str, OAuthIdentity | None] = {**self._tables.rows, **self._stage.rows}
        return [i for i in merged.values() if i is not None]


class MemoryOAuthStateStore:
    def __init__(self) -> None:
        self._by_hash: dict[str, OAuthState] = {}

    async def add(self, state: OAuthState) -> None:
        if state.state_hash in self._by_hash:
            raise ValueError("duplicate state hash")
        for state_hash in [h for h, s in self._by_hash.items() if s.expires_at <= state.created_at]:
            del self._by_hash[state_hash]
        self._by_hash[state.state_hash] = replace(
            state, created_at=_utc(state.created_at), expires_at=_utc(state.expires_at)
        )

    async def take(self, state_hash: str) -> OAuthState | None:
        return self._by_hash.pop(state_hash, None)


def _normalised(identity: OAuthIdentity) -> OAuthIdentity:
    return replace(
        identity,
        created_at=_utc(identity.created_at),
        updated_at=_utc(identity.updated_at),
        token_expires_at=_opt_utc(identity.token_expires_at),
        last_login_at=_opt_utc(identity.last_login_at),
        access_token_enc=None
        if identity.access_token_enc is None
        else bytes(identity.access_token_enc),
        refresh_token_enc=(
            None if identity.refresh_token_enc is None else bytes(identity.refresh_token_enc)
        ),
    )


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
    return value.astimezone(UTC)


def _opt_utc(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)
