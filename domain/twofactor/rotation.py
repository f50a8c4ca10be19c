"""TOTP secrets as a ``SecretHolder`` for key rotation."""

from __future__ import annotations

from domain.keyring_service import StoredSecret
from domain.twofactor.ports import UnitOfWorkFactory


class TotpSecretHolder:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def list_encrypted(self) -> list[StoredSecret]:
        async with self._uow() as uow:
            return await uow.totp.list_encrypted()

    async def replace_encrypted(self, secret: StoredSecret, new_blob: bytes) -> bool:
        async with self._uow() as uow:
            replaced = await uow.totp.replace_encrypted(secret, new_blob)
            await uow.commit()
        return replaced
