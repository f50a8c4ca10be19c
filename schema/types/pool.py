"""GraphQL types of the credential pool's administration. No type has a payload field:
a credential's payload goes in (base64, on add) and never comes out."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from domain.pool import commands, model
from resolvers import ids
from schema.errors import UserError
from schema.mirror import Mirrored, mirror
from schema.types.node import Node, PageInfo


@strawberry.enum(description="A pool credential's state.")
class PoolCredentialStatus(enum.Enum):
    ACTIVE = "active"
    DISABLED = "disabled"
    BANNED = "banned"
    EXPIRED = "expired"
    """A call found the login dead; it is queued for refresh."""
    REFRESHING = "refreshing"
    """A refresh holds it right now (never stuck: the refresh lock expires)."""


@strawberry.type(description="An upstream account of the credential pool (its payload is sealed "
                 "at rest and never shown).")  # fmt: skip
class PoolCredential(Node):
    raw_id: strawberry.Private[str]
    provider: str
    label: str
    status: PoolCredentialStatus
    capabilities: list[str] = strawberry.field(description="Empty: every capability.")
    health_score: float
    fail_count: int
    cooldown_until: datetime | None
    last_used_at: datetime | None
    last_failed_at: datetime | None
    expires_at: datetime | None
    created_at: datetime
    max_concurrency: int = strawberry.field(description="Calls in flight at most.")
    requests_per_second: int = strawberry.field(description="Calls started per second at most.")
    refresh_queued_at: datetime | None = strawberry.field(
        description="When a call found the login dead (waiting for a refresh)."
    )

    @classmethod
    def from_domain(cls, c: model.Credential, ctx: object = None) -> PoolCredential:
        return cls(
            id=strawberry.ID(ids.to_global_id("PoolCredential", c.id)),
            raw_id=c.id,
            provider=c.provider,
            label=c.label,
            status=PoolCredentialStatus(c.status.value),
            capabilities=list(c.capabilities),
            health_score=c.health_score,
            fail_count=c.fail_count,
            cooldown_until=c.cooldown_until,
            last_used_at=c.last_used_at,
            last_failed_at=c.last_failed_at,
            expires_at=c.expires_at,
            created_at=c.created_at,
            max_concurrency=c.max_concurrency,
            requests_per_second=c.requests_per_second,
            refresh_queued_at=c.refresh_queued_at,
        )


@strawberry.type
class PoolCredentialEdge:
    cursor: str
    node: PoolCredential


@strawberry.type
class PoolCredentialConnection:
    edges: list[PoolCredentialEdge]
    nodes: list[PoolCredential]
    page_info: PageInfo
    total_count: int


@mirror(
    model.ProviderHealth,
    name="PoolHealth",
    description="Every count of one provider's pool credentials.",
    descriptions={
        "in_cooldown": "Active credentials cooling down (rate limited or failing).",
        "avg_health_score": "Average health of the active credentials (0 when none).",
    },
)
class PoolHealth(Mirrored):
    pass


@mirror(model.CredentialTestResult, name="PoolCredentialTestResult")
class PoolCredentialTestResult(Mirrored):
    pass


@strawberry.input
class PoolCredentialFilter:
    provider: str | None = None
    status: PoolCredentialStatus | None = None


@strawberry.input
class PoolCredentialAddInput:
    provider: str
    label: str
    payload: str = strawberry.field(description="The cookies/tokens, standard base64.")
    capabilities: list[str] = strawberry.field(
        default_factory=list, description="Empty: every capability."
    )
    max_concurrency: int | None = None
    requests_per_second: int | None = None

    def to_command(self) -> commands.AddCredential:
        return commands.AddCredential(
            provider=self.provider,
            label=self.label,
            payload_base64=self.payload,
            capabilities=tuple(self.capabilities),
            max_concurrency=self.max_concurrency,
            requests_per_second=self.requests_per_second,
        )


@strawberry.input
class PoolCredentialIdInput:
    credential_id: strawberry.ID


# issue 11: one input type per mutation; PoolCredentialIdInput was shared.
@strawberry.input(description="The input of `adminPoolCredentialRemove`.")
class PoolCredentialRemoveInput(PoolCredentialIdInput):
    pass


@strawberry.input(description="The input of `adminPoolCredentialRefresh`.")
class PoolCredentialRefreshInput(PoolCredentialIdInput):
    pass


@strawberry.input
class PoolCredentialSetStatusInput:
    credential_id: strawberry.ID
    status: PoolCredentialStatus = strawberry.field(description="ACTIVE or DISABLED.")

    def to_command(self) -> commands.SetCredentialStatus:
        return commands.SetCredentialStatus(self.credential_id, self.status.value)


@strawberry.input
class PoolCredentialTestInput:
    credential_id: strawberry.ID
    capability: str | None = strawberry.field(
        default=None, description="Reported back; default health_check."
    )

    def to_command(self) -> commands.CheckCredential:
        return commands.CheckCredential(self.credential_id, self.capability)


@strawberry.type
class PoolCredentialPayload:
    credential: PoolCredential | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# issue 11: one payload type per mutation; PoolCredentialPayload was shared.
@strawberry.type(description="The result of `adminPoolCredentialAdd`.")
class PoolCredentialAddPayload(PoolCredentialPayload):
    pass


@strawberry.type(description="The result of `adminPoolCredentialSetStatus`.")
class PoolCredentialSetStatusPayload(PoolCredentialPayload):
    pass


@strawberry.type(description="The result of `adminPoolCredentialRefresh`.")
class PoolCredentialRefreshPayload(PoolCredentialPayload):
    pass


@strawberry.type
class PoolCredentialRemovePayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PoolCredentialTestPayload:
    result: PoolCredentialTestResult | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
