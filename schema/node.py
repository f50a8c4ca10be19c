"""``node(id)``: any object by its global id, across the contexts (Relay's Node field).
The one field module that reaches several contexts' resolvers, by design."""

from __future__ import annotations

import strawberry

from domain.errors import DomainError
from domain.music.errors import MusicNotFound  # music (issue 13)
from domain.music.model import MusicId  # music (issue 13)
from resolvers import accounts, admin, oauth, pool
from schema.info import CtxInfo
from schema.types.accounts import Session, User
from schema.types.music import music_node_of  # music (issue 13)
from schema.types.node import Node
from schema.types.oauth import OAuthIdentity
from schema.types.pool import PoolCredential


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Fetch an object by its global id.")
    async def node(self, info: CtxInfo, id: strawberry.ID) -> Node | None:
        ctx = info.context
        if ":" in id:  # music (issue 13): music ids are their types' global ids
            try:
                parsed = MusicId.parse(id)
            except DomainError:
                return None
            try:
                return await music_node_of(ctx, parsed)
            except MusicNotFound:
                return None
        if ctx.principal.user_id is not None:
            me = User.from_domain(await accounts.viewer(ctx))
            if me.id == id:
                return me
            for session in await accounts.sessions(ctx):
                found = Session.from_domain(session, ctx)
                if found.id == id:
                    return found
            for identity in await oauth.oauth_identities(ctx):
                linked = OAuthIdentity.from_domain(identity)
                if linked.id == id:
                    return linked
        try:
            return User.from_domain(await admin.admin_user(ctx, id))
        except DomainError:
            pass
        # -- credential pool (issue 13): admins only, like users --
        try:
            return PoolCredential.from_domain(await pool.pool_credential(ctx, id))
        except DomainError:
            return None
