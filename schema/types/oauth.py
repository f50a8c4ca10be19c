"""GraphQL types of OAuth login."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from domain.oauth import model
from resolvers.ids import to_global_id
from schema.describe import describe_values
from schema.errors import UserError
from schema.mirror import Mirrored, mirror
from schema.types.node import Node, PageInfo


@strawberry.enum(description="Why a provider flow is started.")
class OAuthIntent(enum.Enum):
    LOGIN = "login"
    BIND = "bind"


describe_values(
    OAuthIntent,
    {
        "LOGIN": "Sign in, or register a new account.",
        "BIND": "Link the provider account to the signed-in viewer.",
    },
)


@mirror(
    model.ProviderInfo,
    name="OAuthProvider",
    description="A configured sign-in provider.",
    descriptions={
        "name": "The key used in routes, e.g. `linuxdo`.",
        "display_name": "The provider's name for people.",
    },
)
class OAuthProvider(Mirrored):
    pass


@strawberry.type(description="A provider account linked to the viewer. Tokens are never shown.")
class OAuthIdentity(Node):
    id: strawberry.ID = strawberry.field(description="The identity's global id.")
    raw_id: strawberry.Private[str]
    provider: str = strawberry.field(description="The provider's name (see `oauthProviders`).")
    provider_sub: str = strawberry.field(description="The provider's id of the account.")
    provider_login: str | None = strawberry.field(
        description="The account's login name at the provider."
    )
    provider_email: str | None = strawberry.field(
        description="As the provider reported it (not necessarily verified)."
    )
    provider_name: str | None = strawberry.field(
        description="The account's display name at the provider."
    )
    provider_avatar: str | None = strawberry.field(
        description="The account's avatar URL at the provider."
    )
    trust_level: int | None = strawberry.field(description="Linux.do trust level (0-4).")
    created_at: datetime = strawberry.field(description="When it was linked.")
    last_login_at: datetime | None = strawberry.field(
        description="When it was last used to sign in."
    )

    @classmethod
    def from_domain(cls, identity: model.OAuthIdentity, ctx: object = None) -> OAuthIdentity:
        return cls(
            id=strawberry.ID(to_global_id("OAuthIdentity", identity.id)),
            raw_id=identity.id,
            provider=identity.provider,
            provider_sub=identity.subject,
            provider_login=identity.login,
            provider_email=identity.email,
            provider_name=identity.name,
            provider_avatar=identity.avatar_url,
            trust_level=identity.trust_level,
            created_at=identity.created_at,
            last_login_at=identity.last_login_at,
        )


@strawberry.input
class OAuthUnlinkInput:
    provider: str = strawberry.field(description="The provider's name.")


@strawberry.type
class OAuthUnlinkPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


# -- issue 11: starting a sign-in is a mutation (it stores the flow's state) --


@strawberry.input(description="Which provider sign-in to start.")
class OAuthStartInput:
    provider: str = strawberry.field(description="The provider's name (see `oauthProviders`).")
    intent: OAuthIntent = strawberry.field(
        default=OAuthIntent.LOGIN,
        description="LOGIN signs in (or registers); BIND links the provider to the viewer.",
    )
    next: str | None = strawberry.field(
        default=None,
        description="Where to send the browser afterwards: a same-site path or a URL on the "
        "frontend origin.",
    )


@strawberry.type(description="The result of `oauthStart`.")
class OAuthStartPayload:
    url: str | None = strawberry.field(
        default=None, description="The provider URL to open in this browser."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the sign-in could not start."
    )


@strawberry.type
class OAuthIdentityEdge:
    cursor: str
    node: OAuthIdentity


@strawberry.type
class OAuthIdentityConnection:
    edges: list[OAuthIdentityEdge]
    nodes: list[OAuthIdentity]
    page_info: PageInfo
    total_count: int
