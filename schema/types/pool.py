"""GraphQL types of the credential pool's administration. No type has a payload field:
a credential's payload goes in (base64, on add) and never comes out."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from domain.pool import commands, model
from resolvers import ids
from schema.describe import describe_values
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


describe_values(
    PoolCredentialStatus,
    {
        "ACTIVE": "In use.",
        "DISABLED": "Turned off by an admin.",
        "BANNED": "Refused by the provider for good.",
        "EXPIRED": "A call found the login dead; it is queued for refresh.",
        "REFRESHING": "A refresh holds it right now (never stuck: the refresh lock expires).",
    },
)


@strawberry.type(description="An upstream account of the credential pool (its payload is sealed "
                 "at rest and never shown).")  # fmt: skip
class PoolCredential(Node):
    raw_id: strawberry.Private[str]
    provider: str = strawberry.field(description="The music provider it logs in to.")
    label: str = strawberry.field(description="A name for people.")
    status: PoolCredentialStatus = strawberry.field(description="Its state.")
    capabilities: list[str] = strawberry.field(description="Empty: every capability.")
    health_score: float = strawberry.field(
        description="How well its calls go, from 0 (failing) to 1 (fine)."
    )
    fail_count: int = strawberry.field(description="Failed calls in a row.")
    cooldown_until: datetime | None = strawberry.field(
        description="Until when it rests (rate limited or failing); null when it does not."
    )
    last_used_at: datetime | None = strawberry.field(description="When a call last used it.")
    last_failed_at: datetime | None = strawberry.field(
        description="When a call with it last failed."
    )
    expires_at: datetime | None = strawberry.field(
        description="When its login expires, when known."
    )
    created_at: datetime = strawberry.field(description="When it was added.")
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
        "provider": "The provider.",
        "total": "Every credential.",
        "active": "Active ones.",
        "disabled": "Disabled ones.",
        "banned": "Banned ones.",
        "expired": "Expired ones.",
        "refreshing": "Ones being refreshed.",
    },
)
class PoolHealth(Mirrored):
    pass


@mirror(
    model.CredentialTestResult,
    name="PoolCredentialTestResult",
    descriptions={
        "success": "Whether the call succeeded.",
        "capability": "The operation tried.",
        "latency_ms": "How long it took.",
        "error": "Why it failed, when it did.",
    },
    description="What checking a credential's login upstream found.",
)
class PoolCredentialTestResult(Mirrored):
    pass


@strawberry.input(description="Which pool credentials to list.")
class PoolCredentialFilter:
    provider: str | None = strawberry.field(default=None, description="Only this provider's.")
    status: PoolCredentialStatus | None = strawberry.field(
        default=None, description="Only those in this state."
    )


@strawberry.input
class PoolCredentialAddInput:
    provider: str = strawberry.field(description="The music provider it logs in to.")
    label: str = strawberry.field(description="A name for people.")
    payload: str = strawberry.field(description="The cookies/tokens, standard base64.")
    capabilities: list[str] = strawberry.field(
        default_factory=list, description="Empty: every capability."
    )
    max_concurrency: int | None = strawberry.field(
        default=None, description="Calls in flight at most; default: the provider's."
    )
    requests_per_second: int | None = strawberry.field(
        default=None, description="Calls started per second at most; default: the provider's."
    )

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
    credential_id: strawberry.ID = strawberry.field(description="The credential's id.")


@strawberry.input(description="The input of `adminPoolCredentialRefresh`.")
class PoolCredentialRefreshInput(PoolCredentialIdInput):
    credential_id: strawberry.ID = strawberry.field(description="The credential's id.")


@strawberry.input
class PoolCredentialSetStatusInput:
    credential_id: strawberry.ID = strawberry.field(description="The credential's id.")
    status: PoolCredentialStatus = strawberry.field(description="ACTIVE or DISABLED.")

    def to_command(self) -> commands.SetCredentialStatus:
        return commands.SetCredentialStatus(self.credential_id, self.status.value)


@strawberry.input
class PoolCredentialTestInput:
    credential_id: strawberry.ID = strawberry.field(description="The credential's id.")
    capability: str | None = strawberry.field(
        default=None, description="Reported back; default health_check."
    )

    def to_command(self) -> commands.CheckCredential:
        return commands.CheckCredential(self.credential_id, self.capability)


@strawberry.interface(
    description="What "
    "`adminPoolCredentialAdd`, `adminPoolCredentialSetStatus`, `adminPoolCredentialRefresh` "
    "answer: each has a payload type of its own that implements this one, so "
    "fragments on it keep matching."
)
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
