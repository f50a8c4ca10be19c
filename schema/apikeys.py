"""GraphQL fields of API keys."""

from __future__ import annotations

import strawberry

from resolvers import apikeys
from schema.info import CtxInfo
from schema.payloads import payload
from schema.types.apikeys import (
    ApiKey,
    ApiKeyCreateInput,
    ApiKeyCreatePayload,
    ApiKeyIdInput,
    ApiKeyRevokePayload,
    ApiKeyRotateInput,
    ApiKeyRotatePayload,
    ApiKeySetEnabledInput,
    ApiKeySetEnabledPayload,
    ApiKeyUpdateInput,
    ApiKeyUpdatePayload,
)


@strawberry.type
class ApiKeyQueries:
    @strawberry.field(
        description="My API keys, newest first (revoked ones included).",
        deprecation_reason="Use `viewer { apiKeys(first: …) }`: a connection with cursors.",
    )
    async def api_keys(self, info: CtxInfo) -> list[ApiKey] | None:
        ctx = info.context
        return [ApiKey.from_domain(k, ctx) for k in await apikeys.api_keys(ctx)]

    @strawberry.field(description="One of my API keys.")
    async def api_key(self, info: CtxInfo, id: strawberry.ID) -> ApiKey | None:
        ctx = info.context
        return ApiKey.from_domain(await apikeys.api_key(ctx, id), ctx)


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(description="Create an API key; its secret is in the answer, once.")
    async def api_key_create(self, info: CtxInfo, input: ApiKeyCreateInput) -> ApiKeyCreatePayload:
        ctx = info.context
        call = apikeys.api_key_create(ctx, input.to_command())
        return await payload(ApiKeyCreatePayload, ctx, call)

    @strawberry.mutation(description="Change a key's name, scopes, allowlist, limits, expiry.")
    async def api_key_update(self, info: CtxInfo, input: ApiKeyUpdateInput) -> ApiKeyUpdatePayload:
        ctx = info.context
        return await payload(
            ApiKeyUpdatePayload, ctx, apikeys.api_key_update(ctx, input.to_command())
        )

    @strawberry.mutation(description="Turn a key off or back on.")
    async def api_key_set_enabled(
        self, info: CtxInfo, input: ApiKeySetEnabledInput
    ) -> ApiKeySetEnabledPayload:
        ctx = info.context
        call = apikeys.api_key_set_enabled(ctx, input.to_command())
        return await payload(ApiKeySetEnabledPayload, ctx, call)

    @strawberry.mutation(description="Revoke a key for good.")
    async def api_key_revoke(self, info: CtxInfo, input: ApiKeyIdInput) -> ApiKeyRevokePayload:
        ctx = info.context
        return await payload(
            ApiKeyRevokePayload, ctx, apikeys.api_key_revoke(ctx, input.api_key_id)
        )

    @strawberry.mutation(description="Issue a new secret for a key; the old one keeps "
                         "working for the grace period.")  # fmt: skip
    async def api_key_rotate(self, info: CtxInfo, input: ApiKeyRotateInput) -> ApiKeyRotatePayload:
        ctx = info.context
        call = apikeys.api_key_rotate(ctx, input.to_command())
        return await payload(ApiKeyRotatePayload, ctx, call)
