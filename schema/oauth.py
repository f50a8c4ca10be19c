"""GraphQL fields of OAuth login."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import oauth
from schema.info import CtxInfo
from schema.payloads import payload
from schema.types.oauth import (
    OAuthIdentity,
    OAuthIntent,
    OAuthProvider,
    OAuthStartInput,
    OAuthStartPayload,
    OAuthUnlinkInput,
    OAuthUnlinkPayload,
)


@strawberry.type
class OAuthQueries:
    @strawberry.field(description="Configured sign-in providers (Linux.do, OpenID Connect).")
    async def oauth_providers(self, info: CtxInfo) -> list[OAuthProvider]:
        return [OAuthProvider.from_domain(p) for p in await oauth.oauth_providers(info.context)]

    @strawberry.field(
        description="Start a provider sign-in: returns the provider URL to open in this "
        "browser, and sets the cookie that binds the flow to it (so call it with "
        "credentials). `bind` links the provider to the signed-in viewer; `next` is a "
        "same-site path or a URL on the frontend origin.",
        deprecation_reason="Use the oauthStart mutation: starting a sign-in stores the "
        "flow's state, and side effects belong in mutations.",
    )
    async def oauth_start_url(
        self,
        info: CtxInfo,
        provider: Annotated[
            str, strawberry.argument(description="The provider's name (see `oauthProviders`).")
        ],
        intent: Annotated[
            OAuthIntent,
            strawberry.argument(
                description="LOGIN signs in (or registers); BIND links the provider to the viewer."
            ),
        ] = OAuthIntent.LOGIN,
        next: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "Where to send the browser afterwards: a same-site path or a URL on the "
                    "frontend origin."
                )
            ),
        ] = None,
    ) -> str | None:
        return await oauth.oauth_start_url(info.context, provider, intent.value, next)

    @strawberry.field(
        description="The viewer's linked provider accounts (never their tokens).",
        deprecation_reason="Use `viewer { oauthIdentities(first: …) }`: a connection with cursors.",
    )
    async def oauth_identities(self, info: CtxInfo) -> list[OAuthIdentity] | None:
        identities = await oauth.oauth_identities(info.context)
        return [OAuthIdentity.from_domain(i) for i in identities]


@strawberry.type
class OAuthMutations:
    @strawberry.mutation(
        description="Start a provider sign-in: returns the provider URL to open in this "
        "browser, and sets the cookie that binds the flow to it (so call it with "
        "credentials)."
    )
    async def oauth_start(self, info: CtxInfo, input: OAuthStartInput) -> OAuthStartPayload:
        ctx = info.context
        call = oauth.oauth_start_url(ctx, input.provider, input.intent.value, input.next)
        return await payload(OAuthStartPayload, ctx, call)

    @strawberry.mutation(
        description="Unlink a provider; refused while it is the only way to sign in."
    )
    async def oauth_unlink(self, info: CtxInfo, input: OAuthUnlinkInput) -> OAuthUnlinkPayload:
        ctx = info.context
        return await payload(OAuthUnlinkPayload, ctx, oauth.oauth_unlink(ctx, input.provider))
