"""The root Query and Mutation types: composed from each context's fields, nothing else.

Each context contributes ``XQueries`` / ``XMutations`` in its own module (``schema/<context>.py``);
a new context adds its classes here. Mutations return domain errors in their payload's
``errors``; queries raise them (``schema.extensions.map_error`` puts the code in
``extensions.code``)."""

from __future__ import annotations

import strawberry

from schema.accounts import AccountMutations, AccountQueries
from schema.admin import AdminMutations, AdminQueries
from schema.apikeys import ApiKeyMutations, ApiKeyQueries
from schema.billing import BillingMutations, BillingQueries
from schema.jobs import JobsQueries  # worker (issue 17)
from schema.music import MusicQueries  # music (issue 13)
from schema.node import NodeQueries
from schema.oauth import OAuthMutations, OAuthQueries
from schema.payments import PaymentMutations, PaymentQueries  # payments (issue 16)
from schema.pool import PoolMutations, PoolQueries  # credential pool (issue 13)
from schema.quota import QuotaQueries
from schema.runtime import RuntimeQueries
from schema.twofactor import TwoFactorMutations, TwoFactorQueries
from schema.usage import UsageQueries


@strawberry.type(
    description=(
        "Every read: the viewer and their keys, usage, billing and music, and the admin views."
    )
)
class Query(
    ApiKeyQueries,
    QuotaQueries,
    UsageQueries,
    AccountQueries,
    TwoFactorQueries,
    RuntimeQueries,
    OAuthQueries,
    NodeQueries,
    AdminQueries,
    BillingQueries,  # billing (issue 14)
    MusicQueries,  # music (issue 13)
    PoolQueries,
    PaymentQueries,  # payments (issue 16)
    JobsQueries,  # worker (issue 17)
):
    pass


@strawberry.type(
    description=(
        "Every change; each takes one `input` and answers a payload whose "
        "`errors` say what went wrong."
    )
)
class Mutation(
    ApiKeyMutations,
    AccountMutations,
    OAuthMutations,
    AdminMutations,
    TwoFactorMutations,
    BillingMutations,  # billing (issue 14)
    PoolMutations,
    PaymentMutations,  # payments (issue 16)
):
    pass
