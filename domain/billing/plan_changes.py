"""Making a plan change take effect at once, in every process.

Two things can change a caller's limits: a user's plan (a purchase, an expiry, an admin
grant: ``users.plan_id``) and a plan's own limits (``PUT /v1/billing/plans/:id``). The
quota gate caches plans and the sessions' memo caches users; each change forgets the
entry in this process first, then publishes ``user:<id>`` or ``plan:<id>`` on a broadcast
(Redis pub/sub in a deployment) that every process follows (``follow``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from domain.billing.ports import Broadcast, Subscribable

log = logging.getLogger("karpov.billing.plans")

EVERYTHING = "*"


class PlanChanges:
    def __init__(
        self,
        *,
        forget_user: Callable[[str], None],
        forget_plan: Callable[[str | None], None],
        broadcast: Broadcast,
    ) -> None:
        self._forget_user = forget_user
        self._forget_plan = forget_plan
        self._broadcast = broadcast

    async def user_changed(self, user_id: str) -> None:
        self._forget_user(user_id)
        await self._publish(f"user:{user_id}")

    async def plan_changed(self, plan_id: str) -> None:
        self._forget_plan(plan_id)
        await self._publish(f"plan:{plan_id}")

    def apply(self, item: str) -> None:
        kind, _, ident = item.partition(":")
        if item == EVERYTHING:
            self._forget_plan(None)  # users are remembered for a second at most anyway
        elif kind == "user" and ident:
            self._forget_user(ident)
        elif kind == "plan" and ident:
            self._forget_plan(ident)

    async def follow(self, source: Subscribable) -> None:
        """Apply what other processes publish, until cancelled (a background task)."""
        async for item in source.subscribe():
            self.apply(item)

    async def _publish(self, item: str) -> None:
        try:
            await self._broadcast.publish(item)
        except Exception:
            # Stored already; other processes catch up when their caches expire.
            log.exception("could not broadcast a plan change (%s)", item)
