"""``node(id)`` and ``nodes(ids)``: any object by its global id, across the contexts (Relay's
Node fields). The one field module that reaches several contexts' resolvers, by design.
Every type that implements ``Node`` resolves here (``NODE_TYPES``; a test checks the
schema against it); an id the caller may not see is null, like an unknown one."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

import strawberry

from domain.errors import DomainError, InvalidInput
from domain.music.errors import MusicNotFound  # music (issue 13)
from domain.music.model import MusicId  # music (issue 13)
from resolvers import accounts, admin, apikeys, billing, oauth, pool
from resolvers.context import Context
from schema.info import CtxInfo
from schema.types.accounts import Session, User
from schema.types.apikeys import ApiKey
from schema.types.billing import BillingSubscription, Invoice, Order
from schema.types.music import MUSIC_NODE_TYPES, music_node_of  # music (issue 13)
from schema.types.node import Node
from schema.types.oauth import OAuthIdentity
from schema.types.pool import PoolCredential

MAX_NODES = 100
NODE_TYPES = frozenset(
    {"User", "Session", "ApiKey", "OAuthIdentity", "PoolCredential", "Order", "Invoice",
     "BillingSubscription", *(t.__name__ for t in MUSIC_NODE_TYPES)}
)  # fmt: skip


def _type_of(global_id: str) -> str | None:
    padded = global_id + "=" * (-len(global_id) % 4)
    try:
        decoded = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, raw = decoded.partition(":")
    return type_name if sep and raw else None


async def _music(ctx: Context, id: str) -> Node | None:
    try:
        return await music_node_of(ctx, MusicId.parse(id))
    except (DomainError, MusicNotFound):
        return None


async def resolve_node(ctx: Context, id: str) -> Node | None:
    if ":" in id:  # music (issue 13): music ids are their types' global ids
        return await _music(ctx, id)
    type_name = _type_of(id)
    signed_in = ctx.principal.user_id is not None
    try:
        if type_name == "ApiKey":
            return ApiKey.from_domain(await apikeys.api_key(ctx, id), ctx)
        if type_name == "Session" and signed_in:
            for session in await accounts.sessions(ctx):
                found = Session.from_domain(session, ctx)
                if found.id == id:
                    return found
        if type_name == "OAuthIdentity" and signed_in:
            for identity in await oauth.oauth_identities(ctx):
                linked = OAuthIdentity.from_domain(identity)
                if linked.id == id:
                    return linked
        if type_name == "User":
            if signed_in:
                me = User.from_domain(await accounts.viewer(ctx))
                if me.id == id:
                    return me
            return User.from_domain(await admin.admin_user(ctx, id))
        if type_name == "PoolCredential":  # credential pool (issue 13): admins only
            return PoolCredential.from_domain(await pool.pool_credential(ctx, id))
        if type_name == "Order":
            return Order.from_domain(await billing.order(ctx, id), ctx)
        if type_name == "Invoice":
            return Invoice.from_domain(await billing.invoice(ctx, id), ctx)
        if type_name == "Subscription" and signed_in:  # BillingSubscription's ids
            mine = await billing.subscription(ctx)
            if mine is not None:
                found_sub = BillingSubscription.from_domain(mine, ctx)
                if found_sub.id == id:
                    return found_sub
    except DomainError:
        return None
    return None


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="Fetch an object by its global id (null when it does not exist or the "
        "caller may not see it)."
    )
    async def node(
        self,
        info: CtxInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id (`Node.id`).")],
    ) -> Node | None:
        return await resolve_node(info.context, id)

    @strawberry.field(
        description=f"Fetch objects by their global ids, in order (null for each one that "
        f"does not exist or the caller may not see); at most {MAX_NODES} ids."
    )
    async def nodes(
        self,
        info: CtxInfo,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description=f"Global ids (`Node.id`), at most {MAX_NODES}."),
        ],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise InvalidInput(f"at most {MAX_NODES} ids per request", field="ids")
        return [await resolve_node(info.context, id) for id in ids]
