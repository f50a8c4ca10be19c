"""GraphQL types of API keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

import strawberry

from domain.apikeys import commands, model
from domain.apikeys.service import DEFAULT_GRACE, IssuedKey
from resolvers import ids
from resolvers.context import Context
from schema.describe import describe_values
from schema.errors import UserError
from schema.inputs import given_fields
from schema.types.node import Node, PageInfo


@strawberry.enum(description="Whether a key works now.")
class ApiKeyStatus(Enum):
    ACTIVE = "active"
    DISABLED = "disabled"
    EXPIRED = "expired"
    REVOKED = "revoked"


describe_values(
    ApiKeyStatus,
    {
        "ACTIVE": "It works.",
        "DISABLED": "Turned off; it can be turned on again.",
        "EXPIRED": "Past its expiry.",
        "REVOKED": "Revoked for good.",
    },
)


@strawberry.type(description="An API key. Its secret is shown once, when created or rotated.")
class ApiKey(Node):
    id: strawberry.ID = strawberry.field(description="The key's global id.")
    raw_id: strawberry.Private[str]
    prefix: str = strawberry.field(description="The first characters of the key.")
    last4: str = strawberry.field(description="The last four characters of the key.")
    name: str = strawberry.field(description="A name for people.")
    description: str = strawberry.field(description="A note for people.")
    scopes: list[str] = strawberry.field(description="Empty means every scope.")
    ip_allowlist: list[str] = strawberry.field(description="Empty means any address.")
    rate_limit_rpm: int = strawberry.field(description="Requests per minute; 0 = no limit.")
    rate_limit_daily: int = strawberry.field(description="Requests per UTC day; 0 = no limit.")
    enabled: bool = strawberry.field(
        description="Whether the key may be used (turned off by `apiKeySetEnabled`)."
    )
    status: ApiKeyStatus = strawberry.field(description="Whether the key works now, and why not.")
    total_requests: int = strawberry.field(description="How many requests the key has made.")
    created_at: datetime = strawberry.field(description="When the key was created.")
    expires_at: datetime | None = strawberry.field(
        description="When the key stops working; null for never."
    )
    last_used_at: datetime | None = strawberry.field(
        description="When the key was last used; null if never."
    )
    previous_key_expires_at: datetime | None = strawberry.field(
        description="After a rotation: until when the previous secret still works."
    )

    @classmethod
    def from_domain(cls, key: model.ApiKey, ctx: Context) -> ApiKey:
        now = ctx.services.clock.now()
        return cls(
            id=strawberry.ID(ids.to_global_id("ApiKey", key.id)), raw_id=key.id,
            prefix=key.prefix, last4=key.last4, name=key.name, description=key.description,
            scopes=list(key.scopes), ip_allowlist=list(key.ip_allowlist),
            rate_limit_rpm=key.rate_limit_rpm, rate_limit_daily=key.rate_limit_daily,
            enabled=key.enabled, status=ApiKeyStatus(key.status(now).value),
            total_requests=key.total_requests, created_at=key.created_at,
            expires_at=key.expires_at, last_used_at=key.last_used_at,
            previous_key_expires_at=key.previous_key_expires_at(now),
        )  # fmt: skip


@strawberry.type(description="A key together with its secret: store the secret now.")
class IssuedApiKey:
    key: ApiKey = strawberry.field(description="The key.")
    plaintext: str = strawberry.field(description="The whole key; it is never shown again.")

    @classmethod
    def from_domain(cls, issued: IssuedKey, ctx: Context) -> IssuedApiKey:
        return cls(key=ApiKey.from_domain(issued.key, ctx), plaintext=issued.plaintext)


@strawberry.input
class ApiKeyCreateInput:
    name: str = strawberry.field(description="A name for people (required).")
    description: str = strawberry.field(default="", description="A note for people.")
    scopes: list[str] = strawberry.field(
        default_factory=list,
        description="What the key may call (e.g. `music:read`); empty means every scope.",
    )
    ip_allowlist: list[str] = strawberry.field(
        default_factory=list,
        description="Addresses or CIDR blocks the key may be used from; empty means any.",
    )
    rate_limit_rpm: int = strawberry.field(
        default=0, description="Requests per minute; 0 = no limit of its own."
    )
    rate_limit_daily: int = strawberry.field(
        default=0, description="Requests per day; 0 = no limit of its own."
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the key stops working; null for never."
    )

    def to_command(self) -> commands.CreateApiKey:
        return commands.CreateApiKey(**given_fields(self))


@strawberry.input(description="Only the fields given change; expiresAt null removes it.")
class ApiKeyUpdateInput:
    api_key_id: strawberry.ID = strawberry.field(description="The key's id.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="A new name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="A new note.")
    scopes: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="New scopes; empty means every scope."
    )
    ip_allowlist: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="A new allowlist; empty means any address."
    )
    rate_limit_rpm: int | None = strawberry.field(
        default=strawberry.UNSET, description="A new per-minute limit; 0 = none."
    )
    rate_limit_daily: int | None = strawberry.field(
        default=strawberry.UNSET, description="A new daily limit; 0 = none."
    )
    expires_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="A new expiry; null removes it."
    )

    def to_command(self) -> commands.UpdateApiKey:
        changes = given_fields(self, leave_out=("api_key_id",))
        return commands.UpdateApiKey(self.api_key_id, commands.KeyChanges(**changes))  # type: ignore[typeddict-item]


@strawberry.input(description="The input of `apiKeyRevoke`.")
class ApiKeyIdInput:
    api_key_id: strawberry.ID = strawberry.field(description="The key's id.")


@strawberry.input
class ApiKeySetEnabledInput:
    api_key_id: strawberry.ID = strawberry.field(description="The key's id.")
    enabled: bool = strawberry.field(description="True to turn the key on, false to turn it off.")

    def to_command(self) -> commands.SetApiKeyEnabled:
        return commands.SetApiKeyEnabled(self.api_key_id, self.enabled)


@strawberry.input
class ApiKeyRotateInput:
    api_key_id: strawberry.ID = strawberry.field(description="The key's id.")
    grace_seconds: int = strawberry.field(
        default=int(DEFAULT_GRACE.total_seconds()),
        description="How long the old secret keeps working (0 to 7 days).",
    )

    def to_command(self) -> commands.RotateApiKey:
        grace = timedelta(seconds=self.grace_seconds)
        return commands.RotateApiKey(self.api_key_id, grace)


@strawberry.interface(
    description="What "
    "`apiKeyCreate`, `apiKeyRotate` "
    "answer: each has a payload type of its own that implements this one, so "
    "fragments on it keep matching."
)
class ApiKeyIssuePayload:
    issued: IssuedApiKey | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# issue 11: one payload type per mutation; ApiKeyIssuePayload was shared.
@strawberry.type(description="The result of `apiKeyCreate`.")
class ApiKeyCreatePayload(ApiKeyIssuePayload):
    pass


@strawberry.type(description="The result of `apiKeyRotate`.")
class ApiKeyRotatePayload(ApiKeyIssuePayload):
    pass


@strawberry.interface(
    description="What "
    "`apiKeyUpdate`, `apiKeySetEnabled`, `apiKeyRevoke` "
    "answer: each has a payload type of its own that implements this one, so "
    "fragments on it keep matching."
)
class ApiKeyPayload:
    api_key: ApiKey | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# issue 11: one payload type per mutation; ApiKeyPayload was shared.
@strawberry.type(description="The result of `apiKeyUpdate`.")
class ApiKeyUpdatePayload(ApiKeyPayload):
    pass


@strawberry.type(description="The result of `apiKeySetEnabled`.")
class ApiKeySetEnabledPayload(ApiKeyPayload):
    pass


@strawberry.type(description="The result of `apiKeyRevoke`.")
class ApiKeyRevokePayload(ApiKeyPayload):
    pass


@strawberry.type
class ApiKeyEdge:
    cursor: str
    node: ApiKey


@strawberry.type
class ApiKeyConnection:
    edges: list[ApiKeyEdge]
    nodes: list[ApiKey]
    page_info: PageInfo
    total_count: int
