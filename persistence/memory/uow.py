"""THE in-process unit of work, for a single process without a database server: every
context's repositories (users, TOTP factors, OAuth identities, API keys) in one unit.

Units of work are serialised by one ``asyncio.Lock`` held for the whole ``async with``, and
their writes are staged and applied only on commit, so the observable behaviour (rollback,
unique e-mail, "the last superadmin" and key-cap races) matches the SQL implementation. A
unit of work must not be opened inside another one in the same task: it would wait for
itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from domain.accounts.model import User
from domain.accounts.ports import UserRepository
from domain.apikeys.ports import ApiKeyRepository
from domain.clock import Clock, SystemClock
from domain.mail.ports import OutboxRepository
from domain.oauth.ports import OAuthIdentityRepository
from domain.pool.ports import CredentialRepository
from domain.twofactor.ports import TotpRepository
from persistence.memory.accounts import MemoryUserRepository
from persistence.memory.apikeys import ApiKeyStage, ApiKeyTables, MemoryApiKeyRepository
from persistence.memory.billing import (
    BillingDraft,
    BillingTables,
    MemoryBillingSettingsRepository,
    MemoryInvoiceRepository,
    MemoryLedgerRepository,
    MemoryOrderRepository,
    MemoryOverageRepository,
    MemoryRefundRepository,
    MemorySubscriptionRepository,
    MemoryWalletRepository,
)
from persistence.memory.oauth import IdentityStage, IdentityTables, MemoryOAuthIdentityRepository
from persistence.memory.outbox import MemoryOutboxRepository, OutboxTables
from persistence.memory.pool import MemoryCredentialRepository, PoolStage, PoolTables
from persistence.memory.twofactor import MemoryTotpRepository, TotpStage, TotpTables


class MemoryUnitOfWorkFactory:
    """``clock`` stamps ``users.updated_at`` when the TOTP repository flips ``totp_enabled``."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._users: dict[str, User] = {}
        self._totp = TotpTables()
        self._identities = IdentityTables()
        self.api_key_tables = ApiKeyTables()
        """The committed keys: ``MemoryApiKeyStore`` (the verification lookup) reads them."""
        self._clock = clock or SystemClock()
        self._lock = asyncio.Lock()
        self.billing_tables = BillingTables()
        self._pool = PoolTables()  # credential pool (issue 13)
        self.outbox_tables = OutboxTables()  # worker (issue 17); MemoryOutboxStore reads it

    def __call__(self) -> AbstractAsyncContextManager[MemoryUnitOfWork]:
        return self._unit_of_work()

    @asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[MemoryUnitOfWork]:
        async with self._lock:
            yield MemoryUnitOfWork(
                self._users,
                self._totp,
                self._clock,
                self._identities,
                self.api_key_tables,
                billing=self.billing_tables,
                pool=self._pool,
                outbox=self.outbox_tables,
            )


class MemoryUnitOfWork:
    def __init__(
        self,
        committed: dict[str, User],
        totp: TotpTables | None = None,
        clock: Clock | None = None,
        identities: IdentityTables | None = None,
        api_keys: ApiKeyTables | None = None,
        *,
        billing: BillingTables | None = None,
        pool: PoolTables | None = None,
        outbox: OutboxTables | None = None,
    ) -> None:
        self._committed = committed
        self._staged: dict[str, User] = {}
        self._totp_tables = totp if totp is not None else TotpTables()
        self._totp_stage = TotpStage()
        self._identity_tables = identities if identities is not None else IdentityTables()
        self._identity_stage = IdentityStage()
        self._api_key_tables = api_keys if api_keys is not None else ApiKeyTables()
        self._api_key_stage = ApiKeyStage()
        self.users: UserRepository = MemoryUserRepository(committed, self._staged)
        self.totp: TotpRepository = MemoryTotpRepository(
            users=committed,
            staged_users=self._staged,
            tables=self._totp_tables,
            stage=self._totp_stage,
            clock=clock or SystemClock(),
        )
        self.identities: OAuthIdentityRepository = MemoryOAuthIdentityRepository(
            users=committed,
            staged_users=self._staged,
            tables=self._identity_tables,
            stage=self._identity_stage,
        )
        self.api_keys: ApiKeyRepository = MemoryApiKeyRepository(
            users=committed,
            staged_users=self._staged,
            tables=self._api_key_tables,
            stage=self._api_key_stage,
        )

        # -- billing (issue 14) --
        self._billing = BillingDraft(billing if billing is not None else BillingTables())
        self.orders = MemoryOrderRepository(self._billing)
        self.wallets = MemoryWalletRepository(self._billing)
        self.ledger = MemoryLedgerRepository(self._billing)
        self.billing_settings = MemoryBillingSettingsRepository(self._billing)
        self.subscriptions = MemorySubscriptionRepository(self._billing)
        self.invoices = MemoryInvoiceRepository(self._billing)
        self.refunds = MemoryRefundRepository(self._billing)
        self.overage = MemoryOverageRepository(self._billing)

        # -- credential pool (issue 13) --
        self._pool_tables = pool if pool is not None else PoolTables()
        self._pool_stage = PoolStage()
        self.pool_credentials: CredentialRepository = MemoryCredentialRepository(
            self._pool_tables, self._pool_stage
        )

        # -- worker (issue 17): the mail outbox --
        self._outbox = MemoryOutboxRepository(outbox if outbox is not None else OutboxTables())
        self.mail_outbox: OutboxRepository = self._outbox

    async def commit(self) -> None:
        self._billing.apply()
        self._outbox.apply()
        self._pool_stage.apply_to(self._pool_tables)
        self._committed.update(self._staged)
        self._staged.clear()
        self._totp_stage.apply_to(self._totp_tables)
        self._identity_stage.apply_to(self._identity_tables)
        self._api_key_stage.apply_to(self._api_key_tables)
