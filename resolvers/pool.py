"""Resolvers of the credential pool's administration (admins; the domain checks). Ids are
the client's (global or raw): decoded here. No answer ever carries a payload."""

from __future__ import annotations

from dataclasses import replace

from domain.paging import Page
from domain.pool.commands import AddCredential, CheckCredential, SetCredentialStatus
from domain.pool.model import Credential, CredentialTestResult, ProviderHealth
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
