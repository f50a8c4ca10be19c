"""OAuth login in the SQL database: linked identities (bound to the accounts unit of work's
transaction) and started flows (for deployments without Redis).

* Identities: the two unique constraints (provider + subject, user + provider) decide
  concurrent links; a lost race becomes ``OAuthAlreadyBound``. Writes go through the
  unit's ``for_write()`` (``BEGIN IMMEDIATE`` on SQLite), so a unit of work left without
  commit undoes them together with the user it may have created.
* Flows: ``take`` is a single ``DELETE … RETURNING``: of several concurrent callbacks with
  the same state exactly one gets the flow. ``add`` also drops flows that had expired
  by then, so the table stays small without a sweeper.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.accounts.errors import UserNotFound
from domain.keyring_service import StoredSecret
from domain.oauth.errors import OAuthAlreadyBound, OAuthIdentityNotFound
from domain.oauth.model import OAuthIdentity, OAuthIntent, OAuthState
from domain.oauth.service import token_aad
from persistence.sql.engine import writer
from persistence.sql.sealed import replace_sealed
from persistence.sql.tables import oauth_identities, oauth_states
from persistence.sql.transaction import Transaction

ACCESS_KIND = "oauth-access"
REFRESH_KIND = "oauth-refresh"
_UNIQUE_MARKERS = (
    "uq_oauth_identities_provider_subject",
    "uq_oauth_identities_user_id_provider",
    "oauth_identities.provider",  # SQLite names the columns
    "oauth_identities.user_id",
)


class SqlOAuthIdentityRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, provider: str, subject: str) -> OAuthIdentity | None:
        query = select(oauth_identities).where(
            oauth_identities.c.provider == provider, oauth_identities.c.subject == subject
        )
        row = (await self._tx.conn.execute(query)).mappings().first()
        return None if row is None else _to_identity(row)

    async def list_for_user(self, user_id: str) -> list[OAuthIdentity]:
        query = (
            select(oauth_identities)
            .where(oauth_identities.c.user_id == user_id)
            .order_by(oauth_identities.c.created_at, oauth_identities.c.provider)
        )
        rows = (await self._tx.conn.execute(query)).mappings().all()
        return [_to_identity(row) for row in rows]

    async def add(self, identity: OAuthIdentity) -> None:
        conn = await self._tx.for_write()
        values = {
            "id": identity.id,
            "user_id": identity.user_id,
            "provider": identity.provider,
            "subject": identity.subject,
            "created_at": identity.created_at,
            **_mutable_columns(identity),
        }
        try:
            # A savepoint keeps the unit of work usable after a lost race.
            async with conn.begin_nested():
                await conn.execute(oauth_identities.insert().values(**values))
        except IntegrityError as exc:
            message = str(exc.orig)
            if any(marker in message for marker in _UNIQUE_MARKERS):
                raise OAuthAlreadyBound() from None
            raise UserNotFound() from None  # the only constraint left: the foreign key

    async def update(self, identity: OAuthIdentity) -> None:
        conn = await self._tx.for_write()
        statement = (
            update(oauth_identities)
            .where(oauth_identities.c.id == identity.id)
            .values(**_mutable_columns(identity))
        )
        if (await conn.execute(statement)).rowcount == 0:
            raise OAuthIdentityNotFound()

    async def delete(self, user_id: str, provider: str) -> bool:
        conn = await self._tx.for_write()
        statement = delete(oauth_identities).where(
            oauth_identities.c.user_id == user_id, oauth_identities.c.provider == provider
        )
        return (await conn.execute(statement)).rowcount > 0

    async def list_encrypted(self) -> list[StoredSecret]:
        c = oauth_identities.c
        query = select(
            c.id, c.provider, c.subject, c.access_token_enc, c.refresh_token_enc
        ).order_by(c.id)
        found: list[StoredSecret] = []
        for row in (await self._tx.conn.execute(query)).mappings():
            aad = token_aad(row["provider"], row["subject"])
            if row["access_token_enc"] is not None:
                found.append(
                    StoredSecret(ACCESS_KIND, row["id"], bytes(row["access_token_enc"]), aad)
                )
            if row["refresh_token_enc"] is not None:
                found.append(
                    StoredSecret(REFRESH_KIND, row["id"], bytes(row["refresh_token_enc"]), aad)
                )
        return found

    async def replace_encrypted(self, secret: StoredSecret, new_blob: bytes) -> bool:
        if secret.kind == ACCESS_KIND:
            column = oauth_identities.c.access_token_enc
        elif secret.kind == REFRESH_KIND:
            column = oauth_identities.c.refresh_token_enc
        else:
            return False
        conn = await self._tx.for_write()
        return await replace_sealed(
            conn, oauth_identities, oauth_identities.c.id, secret.owner, column, secret.blob,
            new_blob,
        )  # fmt: skip


def _mutable_columns(identity: OAuthIdentity) -> dict[str, Any]:
    return {
        "login": identity.login,
        "email": identity.email,
        "name": identity.name,
        "avatar_url": identity.avatar_url,
        "trust_level": identity.trust_level,
        "scopes": " ".join(identity.scopes),
        "access_token_enc": identity.access_token_enc,
        "refresh_token_enc": identity.refresh_token_enc,
        "token_expires_at": identity.token_expires_at,
        "updated_at": identity.updated_at,
        "last_login_at": identity.last_login_at,
    }


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _to_identity(row: RowMapping) -> OAuthIdentity:
    return OAuthIdentity(
        id=row["id"],
        user_id=row["user_id"],
        provider=row["provider"],
        subject=row["subject"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        login=row["login"],
        email=row["email"],
        name=row["name"],
        avatar_url=row["avatar_url"],
        trust_level=row["trust_level"],
        scopes=tuple(row["scopes"].split()),
        access_token_enc=_bytes(row["access_token_enc"]),
        refresh_token_enc=_bytes(row["refresh_token_enc"]),
        token_expires_at=row["token_expires_at"],
        last_login_at=row["last_login_at"],
    )


class SqlOAuthStateStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._writer = writer(engine)

    async def add(self, state: OAuthState) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(
                delete(oauth_states).where(oauth_states.c.expires_at <= state.created_at)
            )
            await conn.execute(
                oauth_states.insert().values(
                    state_hash=state.state_hash,
                    provider=state.provider,
                    intent=state.intent.value,
                    binding_hash=state.binding_hash,
                    nonce=state.nonce,
                    next_url=state.next_url,
                    user_id=state.user_id,
                    created_at=state.created_at,
                    expires_at=state.expires_at,
                )
            )

    async def take(self, state_hash: str) -> OAuthState | None:
        statement = (
            delete(oauth_states)
            .where(oauth_states.c.state_hash == state_hash)
            .returning(*oauth_states.c)
        )
        async with self._writer.begin() as conn:
            row = (await conn.execute(statement)).mappings().first()
        return None if row is None else _to_state(row)


def _to_state(row: RowMapping) -> OAuthState:
    return OAuthState(
        state_hash=row["state_hash"],
        provider=row["provider"],
        intent=OAuthIntent(row["intent"]),
        binding_hash=row["binding_hash"],
        nonce=row["nonce"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        next_url=row["next_url"],
        user_id=row["user_id"],
    )
