"""Resolvers of API keys (shared by GraphQL and /v1): commands in, domain keys out. A key
id is the client's (global or raw): decoded here, so both edges accept the same ids."""

from __future__ import annotations

from dataclasses import replace

from domain.apikeys.commands import CreateApiKey, RotateApiKey, SetApiKeyEnabled, UpdateApiKey
from domain.apikeys.model import ApiKey
from domain.apikeys.service import IssuedKey
from resolvers import ids
from resolvers.context import Context


async def api_keys(ctx: Context) -> list[ApiKey]:
    return await ctx.services.api_keys.list(ctx.principal)


async def api_key(ctx: Context, key_id: str) -> ApiKey:
    return await ctx.services.api_keys.get(ctx.principal, ids.api_key_id(key_id))


async def api_key_create(ctx: Context, command: CreateApiKey) -> IssuedKey:
    return await ctx.services.api_keys.create(ctx.principal, command)


async def api_key_update(ctx: Context, command: UpdateApiKey) -> ApiKey:
    command = replace(command, key_id=ids.api_key_id(command.key_id))
    return await ctx.services.api_keys.update(ctx.principal, command)


async def api_key_set_enabled(ctx: Context, command: SetApiKeyEnabled) -> ApiKey:
    command = replace(command, key_id=ids.api_key_id(command.key_id))
    return await ctx.services.api_keys.set_enabled(ctx.principal, command)


async def api_key_revoke(ctx: Context, key_id: str) -> ApiKey:
    return await ctx.services.api_keys.revoke(ctx.principal, ids.api_key_id(key_id))


async def api_key_rotate(ctx: Context, command: RotateApiKey) -> IssuedKey:
    command = replace(command, key_id=ids.api_key_id(command.key_id))
    return await ctx.services.api_keys.rotate(ctx.principal, command)
