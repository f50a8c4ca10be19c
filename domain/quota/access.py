"""The request gate both edges call once per request, before any resolver runs: scopes
(for API-key callers), then one admission covering the key's limits and every metered
operation of the request; afterwards, usage events and refunds of failed operations.

GraphQL and /v1 name operations the same way (a /v1 route by its GraphQL twin), so the
scope rules and the metering are declared once and both edges agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.apikeys.model import ApiKey
from domain.apikeys.scopes import scope_allows
from domain.apikeys.verifier import VerifiedKey
from domain.principal import AuthMethod, Principal
from domain.quota.errors import MissingScope
from domain.quota.metering import Metered, metering_of, on_declared
from domain.quota.ports import PlanOfUser, UsageLog
from domain.quota.service import Admission, Caller, QuotaService


@dataclass(frozen=True, slots=True)
class Operation:
    """A root field of a GraphQL request, or the twin of a /v1 route."""

    field: str
    mutation: bool


_SCOPES: dict[str, str] = {}


def declare_scope(field: str, scope: str) -> None:
    """Require ``scope`` of API-key callers for ``field`` (overrides the prefix rules)."""
    _SCOPES[field] = scope
    _KEY_ADMISSIONS.clear()


def scope_for(operation: Operation) -> str | None:
    """The original's rule table (reference §2.2 step 9), by operation instead of path:
    administration needs ``admin:read`` / ``admin:write``, usage needs ``quota:read``;
    account operations need no scope (the original skipped ``/v1/auth/``)."""
    declared = _SCOPES.get(operation.field)
    if declared is not None:
        return declared
    if operation.field.startswith("admin"):
        return "admin:write" if operation.mutation else "admin:read"
    if operation.field.startswith("usage") or operation.field == "rateLimit":
        return "quota:read"  # the original: every /v1/usage/ path
    return None


def key_caller(api_key: VerifiedKey) -> Caller:
    """The allowances an API-key request draws on: the key's own and its owner's plan."""
    key = api_key.key
    return Caller(
        user_id=key.user_id, plan_id=api_key.owner_plan_id, key_id=key.id,
        key_rpm=key.rate_limit_rpm, key_daily=key.rate_limit_daily,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class KeyAdmission:
    """perf (issue 18): what the gate derives, on every request, from an API key, its
    owner's plan id and the request's operations: the caller, the metered operations and
    the first scope the key lacks. Memoised (``key_admission``) by the identities of the
    key and of the operations (the verifier hands out one ``ApiKey`` object per cached
    key, and a change to a key makes a new object; a /v1 route passes the same tuple on
    every call) and by the plan id, so a changed key, plan or declaration is never served
    from an old entry."""

    key: ApiKey
    """Held so that the ids in the memo's key stay theirs (an id is reused only after
    its object is freed); likewise ``operations``."""
    plan_id: str
    operations: Sequence[Operation]
    caller: Caller
    metered: tuple[Metered, ...]
    missing_scope: str | None


_KEY_ADMISSIONS: dict[tuple[int, str, int], KeyAdmission] = {}
_KEY_ADMISSIONS_MAX = 10_000
on_declared(_KEY_ADMISSIONS.clear)  # a new metering declaration changes what is metered


def derive_key_admission(api_key: VerifiedKey, operations: Sequence[Operation]) -> KeyAdmission:
    """What ``RequestGate.enter`` computes for an API-key request, without the memo."""
    key = api_key.key
    missing = None
    for operation in operations:
        scope = scope_for(operation)
        if scope is not None and not scope_allows(key.scopes, scope):
            missing = scope
            break
    metered = tuple([m for op in operations if (m := metering_of(op.field)) is not None])
    return KeyAdmission(
        key, api_key.owner_plan_id, operations, key_caller(api_key), metered, missing
    )


def key_admission(api_key: VerifiedKey, operations: Sequence[Operation]) -> KeyAdmission:
    """``derive_key_admission``, memoised (see ``KeyAdmission``)."""
    if type(operations) is not tuple:  # only an immutable sequence is memoised by identity
        return derive_key_admission(api_key, operations)
    key = api_key.key
    plan_id = api_key.owner_plan_id
    memo_key = (id(key), plan_id, id(operations))
    found = _KEY_ADMISSIONS.get(memo_key)
    if found is not None and found.key is key and found.operations is operations:
        return found
    found = derive_key_admission(api_key, operations)
    if len(_KEY_ADMISSIONS) >= _KEY_ADMISSIONS_MAX:
        _KEY_ADMISSIONS.clear()
    _KEY_ADMISSIONS[memo_key] = found
    return found


class RequestGate:
    def __init__(self, quota: QuotaService, usage: UsageLog, *, plan_of_user: PlanOfUser) -> None:
        self.quota = quota
        self._usage = usage
        self._plan_of_user = plan_of_user

    async def enter(
        self,
        principal: Principal,
        api_key: VerifiedKey | None,
        operations: Sequence[Operation],
        *,
        metered: Sequence[Metered] | None = None,
        requests: int | None = None,
    ) -> Admission | None:
        """Check scopes and admit the request, or raise (403 ``MissingScope``, 429
        ``RateLimited``/``QuotaExceeded``, 503 ``QuotaUnavailable``). ``None``
        when nothing applies (anonymous, admin token, unmetered session request).
        ``metered`` overrides what the operations' metering reserves (a GraphQL
        document's upper bound); ``requests`` is what the plan's QPS counts."""
        if metered is None and principal.method is AuthMethod.API_KEY and api_key is not None:
            # perf (issue 18): a /v1 route's call, derived once per key and plan
            derived = key_admission(api_key, operations)
            if derived.missing_scope is not None:
                raise MissingScope(derived.missing_scope)
            return await self.quota.admit(derived.caller, derived.metered, requests=requests)
        if metered is None:
            metered = [m for op in operations if (m := metering_of(op.field)) is not None]
        if principal.method is AuthMethod.API_KEY and api_key is not None:
            for operation in operations:
                scope = scope_for(operation)
                if scope is not None and not scope_allows(api_key.key.scopes, scope):
                    raise MissingScope(scope)
            return await self.quota.admit(key_caller(api_key), metered, requests=requests)
        if metered and principal.method is AuthMethod.SESSION and principal.user_id:
            plan_id = await self._plan_of_user(principal.user_id)
            return await self.quota.admit(
                Caller(principal.user_id, plan_id), metered, requests=requests
            )
        return None

    async def finish(
        self, admission: Admission, outcomes: Sequence[tuple[Metered, bool]], started: datetime
    ) -> None:
        """Record one usage event per metered operation and refund the failed ones."""
        caller = admission.caller
        for metered, ok in outcomes:
            self._usage.record(
                user_id=caller.user_id, key_id=caller.key_id, metered=metered, ok=ok,
                started=started,
            )  # fmt: skip
            if not ok:
                await self.quota.refund(admission, metered)

    async def settle(
        self,
        admission: Admission,
        outcomes: Sequence[tuple[Metered, bool]],
        started: datetime,
        reserved_units: int,
    ) -> int:
        """Record one usage event per metered resolution and give back every reserved
        unit that did not resolve successfully; returns the units charged."""
        caller = admission.caller
        charged = 0
        for metered, ok in outcomes:
            self._usage.record(
                user_id=caller.user_id, key_id=caller.key_id, metered=metered, ok=ok,
                started=started,
            )  # fmt: skip
            if ok:
                charged += metered.weight
        await self.quota.refund_units(admission, reserved_units - charged, "the unused reservation")
        return charged
