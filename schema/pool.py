"""GraphQL fields of the credential pool's administration (admins), twins of
``/v1/admin/pool/*``."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.pool import ports  # upstreams (issue 15)
from resolvers import pool
from schema.info import CtxInfo
from schema.pagination import connection, page_window
from schema.payloads import payload
from schema.types.music import ProviderName
from schema.types.pool import (
    NeteaseLoginInput,  # upstreams (issue 15)
    NeteaseLoginPayload,
    PoolCredential,
    PoolCredentialAddInput,
    PoolCredentialAddPayload,
    PoolCredentialConnection,
    PoolCredentialEdge,
    PoolCredentialFilter,
    PoolCredentialRefreshInput,
    PoolCredentialRefreshPayload,
    PoolCredentialRemoveInput,
    PoolCredentialRemovePayload,
    PoolCredentialSetStatusInput,
    PoolCredentialSetStatusPayload,
    PoolCredentialTestInput,
    PoolCredentialTestPayload,
    PoolHealth,
    QrLoginPollInput,
    QrLoginPollPayload,
    QrLoginStartInput,
    QrLoginStartPayload,
)


@strawberry.type
class PoolQueries:
    @strawberry.field(description="Pool credentials in id order (admin).")
    async def admin_pool_credentials(
        self,
        info: CtxInfo,
        filter: Annotated[
            PoolCredentialFilter | None,
            strawberry.argument(description="Which credentials; every one when null."),
        ] = None,
        first: int = 50,
        after: str | None = None,
    ) -> PoolCredentialConnection | None:
        offset = page_window(first, after)
        flt = filter or PoolCredentialFilter()
        page = await pool.pool_credentials(
            info.context,
            provider=str(flt.provider) if flt.provider else None,
            status=flt.status.value if flt.status else None,
            limit=first,
            offset=offset,
        )
        nodes = [PoolCredential.from_domain(c) for c in page.items]
        return connection(PoolCredentialConnection, PoolCredentialEdge, nodes, page, offset)

    @strawberry.field(description="One pool credential (admin).")
    async def admin_pool_credential(
        self, info: CtxInfo, id: strawberry.ID
    ) -> PoolCredential | None:
        return PoolCredential.from_domain(await pool.pool_credential(info.context, id))

    @strawberry.field(description="Every count of a provider's pool credentials (admin).")
    async def admin_pool_health(
        self,
        info: CtxInfo,
        provider: Annotated[
            ProviderName,  # type: ignore[valid-type]
            strawberry.argument(description="The music provider (see `musicProviders`)."),
        ],
    ) -> PoolHealth | None:
        return PoolHealth.from_domain(await pool.pool_health(info.context, str(provider)))


@strawberry.type
class PoolMutations:
    @strawberry.mutation(description="Add an upstream account to the pool (admin).")
    async def admin_pool_credential_add(
        self, info: CtxInfo, input: PoolCredentialAddInput
    ) -> PoolCredentialAddPayload:
        ctx = info.context
        return await payload(
            PoolCredentialAddPayload, ctx, pool.pool_credential_add(ctx, input.to_command())
        )

    @strawberry.mutation(description="Remove a pool credential (admin).")
    async def admin_pool_credential_remove(
        self, info: CtxInfo, input: PoolCredentialRemoveInput
    ) -> PoolCredentialRemovePayload:
        ctx = info.context
        call = pool.pool_credential_remove(ctx, input.credential_id)
        return await payload(PoolCredentialRemovePayload, ctx, call)

    @strawberry.mutation(description="Set a pool credential ACTIVE or DISABLED (admin).")
    async def admin_pool_credential_set_status(
        self, info: CtxInfo, input: PoolCredentialSetStatusInput
    ) -> PoolCredentialSetStatusPayload:
        ctx = info.context
        call = pool.pool_credential_set_status(ctx, input.to_command())
        return await payload(PoolCredentialSetStatusPayload, ctx, call)

    @strawberry.mutation(description="Renew a pool credential's login (admin).")
    async def admin_pool_credential_refresh(
        self, info: CtxInfo, input: PoolCredentialRefreshInput
    ) -> PoolCredentialRefreshPayload:
        ctx = info.context
        call = pool.pool_credential_refresh(ctx, input.credential_id)
        return await payload(PoolCredentialRefreshPayload, ctx, call)

    @strawberry.mutation(description="Check a pool credential's login upstream (admin).")
    async def admin_pool_credential_test(
        self, info: CtxInfo, input: PoolCredentialTestInput
    ) -> PoolCredentialTestPayload:
        ctx = info.context
        call = pool.pool_credential_test(ctx, input.to_command())
        return await payload(PoolCredentialTestPayload, ctx, call)

    # -- upstreams (issue 15): admin QR logins --

    @strawberry.mutation(description="Start a QQ Music login by QR, scanned with QQ or "
                         "WeChat (admin; the /v1/admin/login/qr/start twin).")  # fmt: skip
    async def admin_qr_login_start(
        self, info: CtxInfo, input: QrLoginStartInput
    ) -> QrLoginStartPayload:
        ctx = info.context
        call = pool.qr_login_start(ctx, input.platform, label=input.label)
        return await payload(QrLoginStartPayload, ctx, call)

    @strawberry.mutation(description="Check a QR login; on done the account joins the pool "
                         "(admin; the /v1/admin/login/qr/{session} twin).")  # fmt: skip
    async def admin_qr_login_poll(
        self, info: CtxInfo, input: QrLoginPollInput
    ) -> QrLoginPollPayload:
        ctx = info.context
        call = pool.qr_login_poll(ctx, str(input.session_id), label=input.label)
        return await payload(QrLoginPollPayload, ctx, call)

    @strawberry.mutation(description="A NetEase login operation (admin; the twin of every "
                         "/v1/netease/auth/* route).")  # fmt: skip
    async def admin_netease_login(
        self, info: CtxInfo, input: NeteaseLoginInput
    ) -> NeteaseLoginPayload:
        ctx = info.context
        operation = ports.NeteaseLoginOperation(input.operation)
        call = pool.netease_login(
            ctx, operation, input.fields(), store=input.store, label=input.label
        )
        return await payload(NeteaseLoginPayload, ctx, call)
