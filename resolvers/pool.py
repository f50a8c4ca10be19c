"""Resolvers of the credential pool's administration (admins; the domain checks). Ids are
the client's (global or raw): decoded here. No answer ever carries a payload."""

from __future__ import annotations

from dataclasses import replace

from domain.paging import Page
from domain.pool.commands import AddCredential, CheckCredential, SetCredentialStatus
from domain.pool.model import Credential, CredentialTestResult, ProviderHealth
from domain.pool.netease_login import NeteaseLoginResult  # upstreams (issue 15)
from domain.pool.ports import NeteaseLoginOperation  # upstreams (issue 15)
from domain.pool.qr_login import QrLoginStart, QrLoginStatus  # upstreams (issue 15)
from domain.quota.access import declare_scope  # upstreams (issue 15)
from resolvers import ids
from resolvers.context import Context


async def pool_credential_add(ctx: Context, command: AddCredential) -> Credential:
    return await ctx.services.pool.add(ctx.principal, command)


async def pool_credentials(
    ctx: Context, *, provider: str | None, status: str | None, limit: int, offset: int
) -> Page[Credential]:
    return await ctx.services.pool.list_credentials(
        ctx.principal, provider=provider, status=status, limit=limit, offset=offset
    )


async def pool_credential(ctx: Context, credential_id: str) -> Credential:
    return await ctx.services.pool.get(ctx.principal, ids.pool_credential_id(credential_id))


async def pool_credential_remove(ctx: Context, credential_id: str) -> bool:
    await ctx.services.pool.remove(ctx.principal, ids.pool_credential_id(credential_id))
    return True


async def pool_health(ctx: Context, provider: str) -> ProviderHealth:
    return await ctx.services.pool.health(ctx.principal, provider)


async def pool_credential_set_status(ctx: Context, command: SetCredentialStatus) -> Credential:
    command = replace(command, credential_id=ids.pool_credential_id(command.credential_id))
    return await ctx.services.pool.set_status(ctx.principal, command)


async def pool_credential_refresh(ctx: Context, credential_id: str) -> Credential:
    return await ctx.services.pool.refresh(ctx.principal, ids.pool_credential_id(credential_id))


async def pool_credential_test(ctx: Context, command: CheckCredential) -> CredentialTestResult:
    command = replace(command, credential_id=ids.pool_credential_id(command.credential_id))
    return await ctx.services.pool.check(ctx.principal, command)


# -- upstreams (issue 15): admin QR logins --------------------------------------------------


async def qr_login_start(ctx: Context, platform: str, *, label: str | None) -> QrLoginStart:
    return await ctx.services.qr_logins.start(ctx.principal, platform, label=label)


async def qr_login_poll(ctx: Context, session_id: str, *, label: str | None) -> QrLoginStatus:
    return await ctx.services.qr_logins.poll(ctx.principal, session_id, label=label)


# The original's path rule asks API keys for music:read on every /v1/netease/ path, the
# login routes included; the domain still requires an admin.
declare_scope("adminNeteaseLogin", "music:read")


async def netease_login(
    ctx: Context,
    operation: NeteaseLoginOperation,
    fields: dict[str, str | None],
    *,
    store: bool = False,
    label: str | None = None,
) -> NeteaseLoginResult:
    return await ctx.services.netease_logins.call(
        ctx.principal, operation, fields, store=store, label=label
    )
