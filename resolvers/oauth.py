"""Resolvers of OAuth login (shared by GraphQL and /v1).

The flow's cookie (``oauth_state_<provider>``) is scoped to ``/v1/auth/oauth/``: the
browser sends it only to the callback, whichever edge started the flow."""

from __future__ import annotations

from domain.oauth.model import CallbackKind, OAuthIdentity, ProviderInfo
from domain.oauth.service import CallbackParams
from resolvers.accounts import set_session_cookie
from resolvers.context import Context

STATE_COOKIE_PATH = "/v1/auth/oauth/"


async def oauth_providers(ctx: Context) -> list[ProviderInfo]:
    return ctx.services.oauth.providers()


async def oauth_start_url(
    ctx: Context, provider: str, intent: str | None, next_url: str | None
) -> str:
    """Start a flow: store it, set the cookie that binds it to this browser, and return the
    provider URL to send the browser to."""
    started = await ctx.services.oauth.start(
        ctx.principal, provider, intent=intent, next_url=next_url
    )
    ctx.cookies.set(
        started.cookie_name,
        started.cookie_value,
        max_age=started.cookie_max_age,
        path=STATE_COOKIE_PATH,
    )
    return started.authorization_url


async def oauth_callback(
    ctx: Context, provider: str, params: CallbackParams, binding: str | None
) -> str:
    """Finish a flow; returns where to send the browser. A sign-in sets the ``sid``
    cookie; every callback clears the flow's cookie."""
    outcome = await ctx.services.oauth.complete(ctx.principal, provider, params, binding)
    if outcome.cookie_name:
        ctx.cookies.delete(outcome.cookie_name, path=STATE_COOKIE_PATH)
    if outcome.kind is CallbackKind.SIGNED_IN:
        assert outcome.issued is not None
        set_session_cookie(ctx, outcome.issued)
    return outcome.location


async def oauth_identities(ctx: Context) -> list[OAuthIdentity]:
    return await ctx.services.oauth.identities(ctx.principal)


async def oauth_unlink(ctx: Context, provider: str) -> bool:
    await ctx.services.oauth.unlink(ctx.principal, provider)
    return True
