"""GraphQL types of the credential pool's administration. No type has a payload field:
a credential's payload goes in (base64, on add) and never comes out."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.scalars import JSON  # upstreams (issue 15)

from domain.pool import (
    commands,
    model,
    ports,  # upstreams (issue 15)
)
from resolvers import ids
from schema.describe import describe_values
from schema.errors import UserError
from schema.mirror import Mirrored, mirror
from schema.types.music import ProviderName
from schema.types.node import Node, PageInfo


@strawberry.enum(description="A pool credential's state.")
class PoolCredentialStatus(enum.Enum):
    ACTIVE = "active"
    DISABLED = "disabled"
    BANNED = "banned"
    EXPIRED = "expired"
    """A call found the login dead; it is queued for refresh."""
    REFRESHING = "refreshing"
    """A refresh holds it right now (never stuck: the refresh lock expires)."""


describe_values(
    PoolCredentialStatus,
    {
        "ACTIVE": "In use.",
        "DISABLED": "Turned off by an admin.",
        "BANNED": "Refused by the provider for good.",
        "EXPIRED": "A call found the login dead; it is queued for refresh.",
        "REFRESHING": "A refresh holds it right now (never stuck: the refresh lock expires).",
    },
)


@strawberry.type(description="An upstream account of the credential pool (its payload is sealed "
                 "at rest and never shown).")  # fmt: skip
class PoolCredential(Node):
    raw_id: strawberry.Private[str]
    provider: ProviderName = strawberry.field(  # type: ignore[valid-type]
        description="The music provider it logs in to."
    )
    label: str = strawberry.field(description="A name for people.")
    status: PoolCredentialStatus = strawberry.field(description="Its state.")
    capabilities: list[str] = strawberry.field(description="Empty: every capability.")
    health_score: float = strawberry.field(
        description="How well its calls go, from 0 (failing) to 1 (fine)."
    )
    fail_count: int = strawberry.field(description="Failed calls in a row.")
    cooldown_until: datetime | None = strawberry.field(
        description="Until when it rests (rate limited or failing); null when it does not."
    )
    last_used_at: datetime | None = strawberry.field(description="When a call last used it.")
    last_failed_at: datetime | None = strawberry.field(
        description="When a call with it last failed."
    )
    expires_at: datetime | None = strawberry.field(
        description="When its login expires, when known."
    )
    created_at: datetime = strawberry.field(description="When it was added.")
    max_concurrency: int = strawberry.field(description="Calls in flight at most.")
    requests_per_second: int = strawberry.field(description="Calls started per second at most.")
    refresh_queued_at: datetime | None = strawberry.field(
        description="When a call found the login dead (waiting for a refresh)."
    )

    @classmethod
    def from_domain(cls, c: model.Credential, ctx: object = None) -> PoolCredential:
        return cls(
            id=strawberry.ID(ids.to_global_id("PoolCredential", c.id)),
            raw_id=c.id,
            provider=ProviderName(c.provider),
            label=c.label,
            status=PoolCredentialStatus(c.status.value),
            capabilities=list(c.capabilities),
            health_score=c.health_score,
            fail_count=c.fail_count,
            cooldown_until=c.cooldown_until,
            last_used_at=c.last_used_at,
            last_failed_at=c.last_failed_at,
            expires_at=c.expires_at,
            created_at=c.created_at,
            max_concurrency=c.max_concurrency,
            requests_per_second=c.requests_per_second,
            refresh_queued_at=c.refresh_queued_at,
        )


@strawberry.type
class PoolCredentialEdge:
    cursor: str
    node: PoolCredential


@strawberry.type
class PoolCredentialConnection:
    edges: list[PoolCredentialEdge]
    nodes: list[PoolCredential]
    page_info: PageInfo
    total_count: int


@mirror(
    model.ProviderHealth,
    name="PoolHealth",
    description="Every count of one provider's pool credentials.",
    descriptions={
        "in_cooldown": "Active credentials cooling down (rate limited or failing).",
        "avg_health_score": "Average health of the active credentials (0 when none).",
        "provider": "The provider.",
        "total": "Every credential.",
        "active": "Active ones.",
        "disabled": "Disabled ones.",
        "banned": "Banned ones.",
        "expired": "Expired ones.",
        "refreshing": "Ones being refreshed.",
    },
    types={"provider": ProviderName},
)
class PoolHealth(Mirrored):
    pass


@mirror(
    model.CredentialTestResult,
    name="PoolCredentialTestResult",
    descriptions={
        "success": "Whether the call succeeded.",
        "capability": "The operation tried.",
        "latency_ms": "How long it took.",
        "error": "Why it failed, when it did.",
    },
    description="What checking a credential's login upstream found.",
)
class PoolCredentialTestResult(Mirrored):
    pass


@strawberry.input(description="Which pool credentials to list.")
class PoolCredentialFilter:
    provider: ProviderName | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only this provider's."
    )
    status: PoolCredentialStatus | None = strawberry.field(
        default=None, description="Only those in this state."
    )


@strawberry.input
class PoolCredentialAddInput:
    provider: ProviderName = strawberry.field(  # type: ignore[valid-type]
        description="The music provider it logs in to."
    )
    label: str = strawberry.field(description="A name for people.")
    payload: str = strawberry.field(description="The cookies/tokens, standard base64.")
    capabilities: list[str] = strawberry.field(
        default_factory=list, description="Empty: every capability."
    )
    max_concurrency: int | None = strawberry.field(
        default=None, description="Calls in flight at most; default: the provider's."
    )
    requests_per_second: int | None = strawberry.field(
        default=None, description="Calls started per second at most; default: the provider's."
    )

    def to_command(self) -> commands.AddCredential:
        return commands.AddCredential(
            provider=str(self.provider),  # a StrEnum: its value
            label=self.label,
            payload_base64=self.payload,
            capabilities=tuple(self.capabilities),
            max_concurrency=self.max_concurrency,
            requests_per_second=self.requests_per_second,
        )


@strawberry.input
class PoolCredentialIdInput:
    credential_id: strawberry.ID


# issue 11: one input type per mutation; PoolCredentialIdInput was shared.
@strawberry.input(description="The input of `adminPoolCredentialRemove`.")
class PoolCredentialRemoveInput(PoolCredentialIdInput):
    credential_id: strawberry.ID = strawberry.field(description="The credential's id.")


@strawberry.input(description="The input of `adminPoolCredentialRefresh`.")
class PoolCredentialRefreshInput(PoolCredentialIdInput):
    credential_id: strawberry.ID = strawberry.field(description="The credential's id.")


@strawberry.input
class PoolCredentialSetStatusInput:
    credential_id: strawberry.ID = strawberry.field(description="The credential's id.")
    status: PoolCredentialStatus = strawberry.field(description="ACTIVE or DISABLED.")

    def to_command(self) -> commands.SetCredentialStatus:
        return commands.SetCredentialStatus(self.credential_id, self.status.value)


@strawberry.input
class PoolCredentialTestInput:
    credential_id: strawberry.ID = strawberry.field(description="The credential's id.")
    capability: str | None = strawberry.field(
        default=None, description="Reported back; default health_check."
    )

    def to_command(self) -> commands.CheckCredential:
        return commands.CheckCredential(self.credential_id, self.capability)


@strawberry.interface(
    description="What "
    "`adminPoolCredentialAdd`, `adminPoolCredentialSetStatus`, `adminPoolCredentialRefresh` "
    "answer: each has a payload type of its own that implements this one, so "
    "fragments on it keep matching."
)
class PoolCredentialPayload:
    credential: PoolCredential | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# issue 11: one payload type per mutation; PoolCredentialPayload was shared.
@strawberry.type(description="The result of `adminPoolCredentialAdd`.")
class PoolCredentialAddPayload(PoolCredentialPayload):
    pass


@strawberry.type(description="The result of `adminPoolCredentialSetStatus`.")
class PoolCredentialSetStatusPayload(PoolCredentialPayload):
    pass


@strawberry.type(description="The result of `adminPoolCredentialRefresh`.")
class PoolCredentialRefreshPayload(PoolCredentialPayload):
    pass


@strawberry.type
class PoolCredentialRemovePayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PoolCredentialTestPayload:
    result: PoolCredentialTestResult | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# -- upstreams (issue 15): admin QR logins --------------------------------------------------


@strawberry.input
class QrLoginStartInput:
    platform: str = strawberry.field(description="qq or wx (mobile is not supported).")
    label: str | None = strawberry.field(
        default=None, description="The pool credential's label (default: the platform's)."
    )


@strawberry.input
class QrLoginPollInput:
    session_id: strawberry.ID = strawberry.field(description="The start's sessionId.")
    label: str | None = strawberry.field(
        default=None, description="Overrides the label given at the start."
    )


@strawberry.type
class QrLoginStartPayload:
    session_id: str | None = strawberry.field(
        default=None, description="64 hex characters; poll with it (any process answers)."
    )
    image: str | None = strawberry.field(default=None, description="The QR code, a data URL.")
    expires_in_sec: int | None = None
    platform: str | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class QrLoginPollPayload:
    event: str | None = strawberry.field(
        default=None,
        description="init, waiting, scanned, done, timeout, refuse or other.",
    )
    credential: PoolCredential | None = strawberry.field(
        default=None, description="On done: the pool credential the login became."
    )
    error: str | None = strawberry.field(
        default=None, description="Why the check failed (event other)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


# -- upstreams (issue 15): NetEase logins for admins ----------------------------------------

NeteaseLoginOperation = strawberry.enum(
    ports.NeteaseLoginOperation,
    name="NeteaseLoginOperation",
    description="The /v1/netease/auth/* operations.",
)
describe_values(
    NeteaseLoginOperation,
    {
        "LOGIN_CELLPHONE": "POST /login/cellphone: phone with password, md5Password or captcha.",
        "LOGIN_EMAIL": "POST /login/email: email with password or md5Password.",
        "QR_KEY": "POST /login/qr/key: a new QR login key and its URL.",
        "QR_CREATE": "POST /login/qr/create: the QR URL of a key (and its image with qrimg).",
        "QR_CHECK": "POST /login/qr/check: whether a key was scanned and confirmed.",
        "REFRESH": "POST /login/refresh: renew the login given as cookie.",
        "STATUS": "GET /login/status: the account of the login given as cookie.",
        "REGISTER_ANONYMOUS": "POST /register/anonymous: a visitor login.",
        "CAPTCHA_SENT": "POST /captcha/sent: send an SMS code to phone (ctcode).",
        "CAPTCHA_VERIFY": "POST /captcha/verify: check an SMS code (phone, captcha, ctcode).",
    },
)


@strawberry.input(description="The original's request fields; each operation reads its own.")
class NeteaseLoginInput:
    operation: NeteaseLoginOperation = strawberry.field(  # type: ignore[valid-type]
        description="Which NetEase login call to make."
    )
    phone: str | None = strawberry.field(default=None, description="A cellphone number.")
    password: str | None = strawberry.field(default=None, description="The plain password.")
    md5_password: str | None = strawberry.field(
        default=None, description="The password's MD5, hex (instead of password)."
    )
    captcha: str | None = strawberry.field(default=None, description="An SMS code.")
    country_code: str | None = strawberry.field(
        default=None, description="The phone's country code for a login (default 86)."
    )
    ctcode: str | None = strawberry.field(
        default=None, description="The phone's country code for the captcha calls (default 86)."
    )
    email: str | None = strawberry.field(default=None, description="A NetEase (163) e-mail.")
    key: str | None = strawberry.field(default=None, description="A QR login key.")
    qrimg: bool | None = strawberry.field(
        default=None, description="With QR_CREATE: answer the QR image too."
    )
    cookie: str | None = strawberry.field(default=None, description="An existing login.")
    store: bool = strawberry.field(
        default=False, description="Put the login this answer carries into the pool."
    )
    label: str | None = strawberry.field(
        default=None, description="The pool credential's label when store is true."
    )

    def fields(self) -> dict[str, str | None]:
        return {
            "phone": self.phone, "password": self.password, "md5Password": self.md5_password,
            "captcha": self.captcha, "countryCode": self.country_code, "ctcode": self.ctcode,
            "email": self.email, "key": self.key, "cookie": self.cookie,
            "qrimg": None if self.qrimg is None else str(self.qrimg).lower(),
        }  # fmt: skip


@strawberry.type
class NeteaseLoginPayload:
    answer: JSON | None = strawberry.field(
        default=None, description="NetEase's answer as the /v1 route gives it."
    )
    credential: PoolCredential | None = strawberry.field(
        default=None, description="With store: the pool credential the login became."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)
