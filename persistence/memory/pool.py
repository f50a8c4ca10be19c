"""The credential pool in process: the repository of the memory unit of work (writes
staged, applied on commit) and the lease registry / refresh lock of a single process."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from domain.keyring_service import StoredSecret
from domain.paging import Page
from domain.pool.model import Credential, CredentialFilter, CredentialStatus
from domain.pool.ports import LeaseVerdict, SealedCredential, SlotRequest
from domain.pool.service import payload_aad

SECRET_KIND = "pool"


class PoolTables:
    """The committed credentials of a memory unit-of-work factory."""

    def __init__(self) -> None:
        self.rows: dict[str, SealedCredential] = {}


class PoolStage:
    """One unit of work's pending writes; ``None`` is a deletion."""

    def __init__(self) -> None:
        self.rows: dict[str, SealedCredential | None] = {}

    def apply_to(self, tables: PoolTables) -> None:
        for credential_id, row in self.rows.items():
            if row is None:
                tables.rows.pop(credential_id, None)
            else:
                tables.rows[credential_id] = row
        self.rows.clear()


class MemoryCredentialRepository:
    def __init__(self, tables: PoolTables, stage: PoolStage) -> None:
        self._tables = tables
        self._stage = stage

    def _visible(self) -> dict[str, SealedCredential]:
        rows = dict(self._tables.rows)
        for credential_id, row in self._stage.rows.items():
            if row is None:
                rows.pop(credential_id, None)
            else:
                rows[credential_id] = row
        return rows

    def _one(self, credential_id: str) -> SealedCredential | None:
        if credential_id in self._stage.rows:
            return self._stage.rows[credential_id]
        return self._tables.rows.get(credential_id)

    async def add(self, credential: Credential, payload_enc: bytes) -> None:
        if self._one(credential.id) is not None:
            raise ValueError("duplicate pool credential id")
        self._stage.rows[credential.id] = SealedCredential(credential, payload_enc)

    async def get(self, credential_id: str) -> Credential | None:
        row = self._one(credential_id)
        return None if row is None else row.credential

    async def get_for_update(self, credential_id: str) -> Credential | None:
        return await self.get(credential_id)  # units of work are serialised already

    async def sealed(self, credential_id: str) -> SealedCredential | None:
        return self._one(credential_id)

    async def leasable(self, provider: str) -> list[SealedCredential]:
        return [
            row
            for row in self._visible().values()
            if row.credential.provider == provider
            and row.credential.status is CredentialStatus.ACTIVE
        ]

    async def update(self, credential: Credential) -> None:
        row = self._one(credential.id)
        if row is None:
            return
        kept = replace(credential, created_at=row.credential.created_at)
        self._stage.rows[credential.id] = SealedCredential(kept, row.payload_enc)

    async def replace_payload(
        self, credential_id: str, payload_enc: bytes, expires_at: datetime | None
    ) -> None:
        row = self._one(credential_id)
        if row is not None:
            credential = replace(row.credential, expires_at=expires_at)
            self._stage.rows[credential_id] = SealedCredential(credential, payload_enc)

    async def delete(self, credential_id: str) -> bool:
        if self._one(credential_id) is None:
            return False
        self._stage.rows[credential_id] = None
        return True

    async def page(self, flt: CredentialFilter, *, limit: int, offset: int) -> Page[Credential]:
        found = sorted(
            (
                row.credential
                for row in self._visible().values()
                if (not flt.provider or row.credential.provider == flt.provider)
                and (flt.status is None or row.credential.status is flt.status)
            ),
            key=lambda c: c.id,
        )
        return Page(found[offset : offset + limit], len(found), limit, offset)

    async def of_provider(self, provider: str) -> list[Credential]:
        page = await self.page(CredentialFilter(provider=provider), limit=10**9, offset=0)
        return page.items

    async def refresh_queue(self, *, limit: int) -> list[Credential]:
        queued = [
            row.credential
            for row in self._visible().values()
            if row.credential.refresh_queued_at is not None
        ]
        queued.sort(key=lambda c: (c.refresh_queued_at, c.id))
        return queued[:limit]

    async def list_encrypted(self) -> list[StoredSecret]:
        return [
            StoredSecret(SECRET_KIND, cid, row.payload_enc, payload_aad(cid))
            for cid, row in sorted(self._visible().items())
        ]

    async def replace_encrypted(self, secret: StoredSecret, new_blob: bytes) -> bool:
        row = self._one(secret.owner)
        if secret.kind != SECRET_KIND or row is None or row.payload_enc != secret.blob:
            return False
        self._stage.rows[secret.owner] = SealedCredential(row.credential, new_blob)
        return True


@dataclass
class _Slots:
    leases: dict[str, datetime] = field(default_factory=dict)
    """lease id -> when it expires"""
    spent: list[datetime] = field(default_factory=list)
    """when each request of the last second was granted"""


class MemoryLeaseRegistry:
    """The lease registry and the refresh lock of ONE process (several need Redis).
    Every method runs without awaiting, so each is atomic on the event loop."""

    def __init__(self) -> None:
        self._slots: dict[str, _Slots] = {}
        self._refresh: dict[str, tuple[str, datetime]] = {}

    async def take(self, request: SlotRequest) -> LeaseVerdict:
        now = request.now
        lock = self._refresh.get(request.credential_id)
        if lock is not None and lock[1] > now:
            return LeaseVerdict.REFRESHING
        slots = self._slots.setdefault(request.credential_id, _Slots())
        slots.leases = {k: until for k, until in slots.leases.items() if until > now}
        if len(slots.leases) >= request.max_concurrency:
            return LeaseVerdict.BUSY
        window = now - timedelta(seconds=1)
        slots.spent = [at for at in slots.spent if at > window]
        if len(slots.spent) >= request.requests_per_second:
            return LeaseVerdict.RATE
        slots.leases[request.lease_id] = now + timedelta(seconds=request.ttl_seconds)
        slots.spent.append(now)
        return LeaseVerdict.GRANTED

    async def give_back(self, credential_id: str, lease_id: str, now: datetime) -> bool:
        slots = self._slots.get(credential_id)
        until = None if slots is None else slots.leases.pop(lease_id, None)
        return until is not None and until > now

    async def held(self, credential_id: str, now: datetime) -> int:
        slots = self._slots.get(credential_id)
        return 0 if slots is None else sum(1 for until in slots.leases.values() if until > now)

    async def hold(
        self, credential_id: str, token: str, *, ttl_seconds: float, now: datetime
    ) -> bool:
        current = self._refresh.get(credential_id)
        if current is not None and current[1] > now:
            return False
        self._refresh[credential_id] = (token, now + timedelta(seconds=ttl_seconds))
        return True

    async def let_go(self, credential_id: str, token: str) -> None:
        current = self._refresh.get(credential_id)
        if current is not None and current[0] == token:
            del self._refresh[credential_id]

    async def refreshing(self, credential_ids: Collection[str], now: datetime) -> set[str]:
        return {
            cid
            for cid in credential_ids
            if (lock := self._refresh.get(cid)) is not None and lock[1] > now
        }
