"""THE SQL unit of work: one transaction carrying every context's repositories (users,
TOTP factors, OAuth identities, API keys), so it satisfies each context's ``UnitOfWork``
protocol. See ``persistence.sql.transaction`` for how it begins on each database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.accounts.ports import UserRepository
from domain.apikeys.ports import ApiKeyRepository
from domain.clock import Clock, SystemClock
from domain.mail.ports import OutboxRepository
from domain.oauth.ports import OAuthIdentityRepository
from domain.pool.ports import CredentialRepository
from domain.twofactor.ports import TotpRepository
from persistence.sql.accounts import SqlUserRepository
from persistence.sql.apikeys import SqlApiKeyRepository
from persistence.sql.billing import (
    SqlBillingSettingsRepository,
    SqlInvoiceRepository,
    SqlLedgerRepository,
    SqlOrderRepository,
    SqlOverageRepository,
    SqlRefundRepository,
    SqlSubscriptionRepository,
    SqlWalletRepository,
)
from persistence.sql.engine import SQLITE_BEGIN, is_sqlite
from persistence.sql.oauth import SqlOAuthIdentityRepository
from persistence.sql.outbox import SqlOutboxRepository
from persistence.sql.pool import SqlCredentialRepository
from persistence.sql.totp import SqlTotpRepository
from persistence.sql.transaction import Transaction


class SqlUnitOfWorkFactory:
    """``async with factory() as uow``: one transaction; leaving without commit rolls back.

    ``clock`` stamps the ``updated_at`` columns the TOTP repository writes by itself."""

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        # SQLite: no BEGIN at the first statement; Transaction.for_write issues one.
        self._engine = (
            engine.execution_options(**{SQLITE_BEGIN: ""}) if is_sqlite(engine) else engine
        )
        self._clock = clock or SystemClock()

    def __call__(self) -> AbstractAsyncContextManager[SqlUnitOfWork]:
        return self._unit_of_work()

    @asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[SqlUnitOfWork]:
        # Closing the connection rolls back whatever was not committed, also when the
        # block raised or was cancelled.
        async with self._engine.connect() as conn:
            yield SqlUnitOfWork(conn, self._clock)


class SqlUnitOfWork:
    """Each repository is made when first used: a unit of work that reads one user (most
    of them) builds nothing else."""

    def __init__(self, conn: AsyncConnection, clock: Clock | None = None) -> None:
        self._tx = Transaction(conn)
        self._clock = clock or SystemClock()

    @cached_property
    def users(self) -> UserRepository:
        return SqlUserRepository(self._tx)

    @cached_property
    def totp(self) -> TotpRepository:
        return SqlTotpRepository(self._tx, self._clock)

    @cached_property
    def identities(self) -> OAuthIdentityRepository:
        return SqlOAuthIdentityRepository(self._tx)

    @cached_property
    def api_keys(self) -> ApiKeyRepository:
        return SqlApiKeyRepository(self._tx)

    # -- billing (issue 14) --
    @cached_property
    def orders(self) -> SqlOrderRepository:
        return SqlOrderRepository(self._tx)

    @cached_property
    def wallets(self) -> SqlWalletRepository:
        return SqlWalletRepository(self._tx)

    @cached_property
    def ledger(self) -> SqlLedgerRepository:
        return SqlLedgerRepository(self._tx)

    @cached_property
    def billing_settings(self) -> SqlBillingSettingsRepository:
        return SqlBillingSettingsRepository(self._tx)

    @cached_property
    def subscriptions(self) -> SqlSubscriptionRepository:
        return SqlSubscriptionRepository(self._tx)

    @cached_property
    def invoices(self) -> SqlInvoiceRepository:
        return SqlInvoiceRepository(self._tx)

    @cached_property
    def refunds(self) -> SqlRefundRepository:
        return SqlRefundRepository(self._tx)

    @cached_property
    def overage(self) -> SqlOverageRepository:
        return SqlOverageRepository(self._tx)

    # -- end of billing --
    # -- credential pool (issue 13) --
    @cached_property
    def pool_credentials(self) -> CredentialRepository:
        return SqlCredentialRepository(self._tx)

    # -- worker (issue 17): the mail outbox --
    @cached_property
    def mail_outbox(self) -> OutboxRepository:
        return SqlOutboxRepository(self._tx)

    async def commit(self) -> None:
        await self._tx.commit()
