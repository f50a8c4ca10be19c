"""Pool payloads as a ``SecretHolder`` for key rotation (``karpov keys rotate``)."""

from __future__ import annotations

from domain.keyring_service import StoredSecret
from domain.pool.ports import UnitOfWorkFactory


class PoolPayloadHolder:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def list_encrypted(self) -> list[StoredSecret]:
        async with self._uow() as uow:
            return await uow.pool_credentials.list_encrypted()

    async def replace_encrypted(self, secret: StoredSecret, new_blob: bytes) -> bool:
        async with self._uow() as uow:
            replaced = await uow.pool_credentials.replace_encrypted(secret, new_blob)
            await uow.commit()
        return replaced
