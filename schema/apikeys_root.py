"""Root fields of API keys, usage and rate limits (mixed into Query and Mutation)."""

from __future__ import annotations

import strawberry

from resolvers import apikeys
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
from schema.payloads import CtxInfo, payload


@strawberry.type
class ApiKeyQueries:
    @strawberry.field(description="My API keys, newest first (revoked ones included).")
    async def api_keys(self, info: CtxInfo) -> list[ApiKey]:
        return await apikeys.api_keys(info.context)

    @strawberry.field(description="One of my API keys.")
    async def api_key(self, info: CtxInfo, id: strawberry.ID) -> ApiKey:
        return await apikeys.api_key(info.context, id)

    @strawberry.field(description="The limits this caller is measured against, and what "
                      "remains of them (nothing is charged for asking).")  # fmt: skip
    async def rate_limit(self, info: CtxInfo) -> RateLimitStatus:
        return await apikeys.rate_limit(info.context)

    @strawberry.field(description="Units used today and this month against the plan "
                      "(a superadmin sees everyone's totals).")  # fmt: skip
    async def usage_summary(self, info: CtxInfo) -> UsageSummary:
        return await apikeys.usage_summary(info.context)

    @strawberry.field(description="Usage per day and operation, newest first (days 1-365).")
    async def usage_history(self, info: CtxInfo, days: int | None = None) -> UsageHistory:
        return await apikeys.usage_history(info.context, days)

    @strawberry.field(description="The last minute of calls, across every server process.")
    async def usage_realtime(self, info: CtxInfo) -> UsageRealtime:
        return await apikeys.usage_realtime(info.context)


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(description="Create an API key; its secret is in the answer, once.")
    async def api_key_create(self, info: CtxInfo, input: ApiKeyCreateInput) -> ApiKeyIssuePayload:
        return await payload(
            ApiKeyIssuePayload, apikeys.api_key_create(info.context, input),
            lambda issued: {"issued": issued},
        )  # fmt: skip

    @strawberry.mutation(description="Change a key's name, scopes, allowlist, limits, expiry.")
    async def api_key_update(self, info: CtxInfo, input: ApiKeyUpdateInput) -> ApiKeyPayload:
        return await payload(
            ApiKeyPayload, apikeys.api_key_update(info.context, input),
            lambda key: {"api_key": key},
        )  # fmt: skip

    @strawberry.mutation(description="Turn a key off or back on.")
    async def api_key_set_enabled(
        self, info: CtxInfo, input: ApiKeySetEnabledInput
    ) -> ApiKeyPayload:
        return await payload(
            ApiKeyPayload, apikeys.api_key_set_enabled(info.context, input),
            lambda key: {"api_key": key},
        )  # fmt: skip

    @strawberry.mutation(description="Revoke a key for good.")
    async def api_key_revoke(self, info: CtxInfo, input: ApiKeyIdInput) -> ApiKeyPayload:
        return await payload(
            ApiKeyPayload, apikeys.api_key_revoke(info.context, input.api_key_id),
            lambda key: {"api_key": key},
        )  # fmt: skip

    @strawberry.mutation(description="Issue a new secret for a key; the old one keeps "
                         "working for the grace period.")  # fmt: skip
    async def api_key_rotate(self, info: CtxInfo, input: ApiKeyRotateInput) -> ApiKeyIssuePayload:
        return await payload(
            ApiKeyIssuePayload, apikeys.api_key_rotate(info.context, input),
            lambda issued: {"issued": issued},
        )  # fmt: skip
