"""Root fields of API keys, usage and rate limits (mixed into Query and Mutation)."""

from __future__ import annotations

import strawberry

from resolvers import apikeys, quota, usage
from schema.apikeys import (
    ApiKey,
    ApiKeyCreateInput,
    ApiKeyIdInput,
    ApiKeyIssuePayload,
    ApiKeyPayload,
    ApiKeyRotateInput,
    ApiKeySetEnabledInput,
    ApiKeyUpdateInput,
    RateLimitStatus,
    UsageHistory,
    UsageRealtime,
    UsageSummary,
)
from schema.info import CtxInfo
from schema.payloads import payload


@strawberry.type
class ApiKeyQueries:
    @strawberry.field(description="My API keys, newest first (revoked ones included).")
    async def api_keys(self, info: CtxInfo) -> list[ApiKey]:
        ctx = info.context
        return [ApiKey.from_domain(k, ctx) for k in await apikeys.api_keys(ctx)]

    @strawberry.field(description="One of my API keys.")
    async def api_key(self, info: CtxInfo, id: strawberry.ID) -> ApiKey:
        ctx = info.context
        return ApiKey.from_domain(await apikeys.api_key(ctx, id), ctx)

    @strawberry.field(description="The limits this caller is measured against, and what "
                      "remains of them (nothing is charged for asking).")  # fmt: skip
    async def rate_limit(self, info: CtxInfo) -> RateLimitStatus:
        return RateLimitStatus.from_domain(await quota.rate_limit(info.context))

    @strawberry.field(description="Units used today and this month against the plan "
                      "(a superadmin sees everyone's totals).")  # fmt: skip
    async def usage_summary(self, info: CtxInfo) -> UsageSummary:
        return UsageSummary.from_domain(await usage.usage_summary(info.context))

    @strawberry.field(description="Usage per day and operation, newest first (days 1-365).")
    async def usage_history(self, info: CtxInfo, days: int | None = None) -> UsageHistory:
        return UsageHistory.from_domain(await usage.usage_history(info.context, days))

    @strawberry.field(description="The last minute of calls, across every server process.")
    async def usage_realtime(self, info: CtxInfo) -> UsageRealtime:
        return UsageRealtime.from_domain(await usage.usage_realtime(info.context))


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(description="Create an API key; its secret is in the answer, once.")
    async def api_key_create(self, info: CtxInfo, input: ApiKeyCreateInput) -> ApiKeyIssuePayload:
        ctx = info.context
        call = apikeys.api_key_create(ctx, input.to_command())
        return await payload(ApiKeyIssuePayload, ctx, call)

    @strawberry.mutation(description="Change a key's name, scopes, allowlist, limits, expiry.")
    async def api_key_update(self, info: CtxInfo, input: ApiKeyUpdateInput) -> ApiKeyPayload:
        ctx = info.context
        return await payload(ApiKeyPayload, ctx, apikeys.api_key_update(ctx, input.to_command()))

    @strawberry.mutation(description="Turn a key off or back on.")
    async def api_key_set_enabled(
        self, info: CtxInfo, input: ApiKeySetEnabledInput
    ) -> ApiKeyPayload:
        ctx = info.context
        call = apikeys.api_key_set_enabled(ctx, input.to_command())
        return await payload(ApiKeyPayload, ctx, call)

    @strawberry.mutation(description="Revoke a key for good.")
    async def api_key_revoke(self, info: CtxInfo, input: ApiKeyIdInput) -> ApiKeyPayload:
        ctx = info.context
        return await payload(ApiKeyPayload, ctx, apikeys.api_key_revoke(ctx, input.api_key_id))

    @strawberry.mutation(description="Issue a new secret for a key; the old one keeps "
                         "working for the grace period.")  # fmt: skip
    async def api_key_rotate(self, info: CtxInfo, input: ApiKeyRotateInput) -> ApiKeyIssuePayload:
        ctx = info.context
        call = apikeys.api_key_rotate(ctx, input.to_command())
        return await payload(ApiKeyIssuePayload, ctx, call)
