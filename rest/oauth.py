"""/v1/auth/oauth routes (the original's gin paths and shapes).

``start`` and ``callback`` are browser navigations: they answer 302. ``start`` refuses bad
input with the JSON envelope (unknown provider 400, ``bind`` without a session 401, a
``next`` that is not a same-site path or on the frontend origin 400); ``callback`` always
redirects, to the frontend's ``/oauth-error?code=…&message=…`` when the flow fails."""

from __future__ import annotations

from typing import Annotated, TypedDict

from domain.oauth.model import OAuthIdentity, ProviderInfo
from domain.oauth.service import CallbackParams, state_cookie_name
from resolvers import oauth
from rest.envelope import rfc3339
from rest.router import Redirect, RestRequest
from rest.schemas import Shape
from rest.views import Time, camel


class Providers(TypedDict):
    providers: list[Annotated[dict[str, object], Shape(ProviderInfo)]]


class IdentityItem(TypedDict):
    provider: str
    providerSub: str
    providerLogin: str | None
    providerEmail: str | None
    providerName: str | None
    providerAvatar: str | None
    trustLevel: int | None
    createdAt: Time | None
    lastLoginAt: Time | None


class Identities(TypedDict):
    identities: list[IdentityItem]


class Unbound(TypedDict):
    unbound: bool


async def providers(req: RestRequest) -> Providers:
    return {"providers": [camel(p) for p in await oauth.oauth_providers(req.ctx)]}


async def start(req: RestRequest) -> Redirect:
    url = await oauth.oauth_start_url(
        req.ctx, req.path("provider"), req.query("intent"), req.query("next")
    )
    return Redirect(url)


async def callback(req: RestRequest) -> Redirect:
    provider = req.path("provider")
    params = CallbackParams(
        code=req.query("code"),
        state=req.query("state"),
        error=req.query("error"),
        error_description=req.query("error_description"),
    )
    binding = req.request.cookies.get(state_cookie_name(provider))
    return Redirect(await oauth.oauth_callback(req.ctx, provider, params, binding))


def identity_item(identity: OAuthIdentity) -> IdentityItem:
    return {
        "provider": identity.provider,
        "providerSub": identity.subject,
        "providerLogin": identity.login,
        "providerEmail": identity.email,
        "providerName": identity.name,
        "providerAvatar": identity.avatar_url,
        "trustLevel": identity.trust_level,
        "createdAt": rfc3339(identity.created_at),
        "lastLoginAt": rfc3339(identity.last_login_at),
    }


async def identities(req: RestRequest) -> Identities:
    return {"identities": [identity_item(i) for i in await oauth.oauth_identities(req.ctx)]}


async def unlink(req: RestRequest) -> Unbound:
    await oauth.oauth_unlink(req.ctx, req.path("provider"))
    return {"unbound": True}
