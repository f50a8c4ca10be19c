"""An admin's view of one user, as the original's ``GET /v1/admin/users/:id``: the user,
every API key with its status (the original always answered ``[]``), how many keys are on
each plan, and the balance; and ``GET /v1/admin/users/:id/keys``."""

from __future__ import annotations

from dataclasses import dataclass

from domain.accounts.model import User
from domain.apikeys.model import ApiKey, ApiKeyStatus
from domain.billing.access import require_admin
from domain.billing.errors import BillingUserNotFound
from domain.billing.model import DEFAULT_CURRENCY, Wallet
from domain.billing.ports import AdminViewUnitOfWorkFactory
from domain.clock import Clock
from domain.principal import Principal


@dataclass(frozen=True, slots=True)
class AdminUserView:
    user: User
    api_keys: list[ApiKey]
    plan_counts: dict[str, int]
    """Keys that are not revoked, by plan. Keys follow their owner's plan (unlike the
    original, where each key carried its own), so this is at most one entry."""
    balance: Wallet | None
    """The wallet in the default currency; ``None`` before it ever held money."""


class AdminUserViews:
    def __init__(self, *, uow: AdminViewUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def view(self, principal: Principal, user_id: str) -> AdminUserView:
        require_admin(principal)
        now = self._clock.now()
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise BillingUserNotFound()
            keys = await uow.api_keys.list_for_user(user_id)
            wallet = await uow.wallets.get(user_id, DEFAULT_CURRENCY)
        live = sum(1 for k in keys if k.status(now) is not ApiKeyStatus.REVOKED)
        counts = {user.plan_id: live} if live else {}
        return AdminUserView(user, keys, counts, wallet)

    async def keys(self, principal: Principal, user_id: str) -> list[ApiKey]:
        return (await self.view(principal, user_id)).api_keys
