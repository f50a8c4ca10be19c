"""Payment channel settings (issue 16): which providers are offered and their credentials,
as the original's ``billing.settings`` key ``payment_channels`` (``{channels:[…]}``).

Secrets (``yipayKey``, ``hupijiaoKey``, ``ldcClientSecret``, ``ldcMerchantPrivateKey``) are
sealed with the key ring (AAD ``payment:<provider>:<field>``; ``karpov keys rotate``
re-encrypts them through ``ChannelSecretHolder``) and never leave as plaintext: reads mask
them (``ab****yz``), and an update that sends a masked value back keeps the stored secret.

Every change bumps the document's ``version``. Each process compares the stored version
with the one it built its providers from before it makes an order, takes a callback or
lists the channels (``refresh``: one read of one row), so a change takes effect in every
process without a restart. Enabled channels are registered with ``OrderService``; a
disabled one is withdrawn from new orders but still verifies the callbacks of orders made
while it was on (money already taken is never refused).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain.billing.access import require_admin, require_superadmin
from domain.billing.orders import OrderService
from domain.billing.ports import BuiltChannel, ChannelFactory, UnitOfWorkFactory
from domain.clock import Clock
from domain.errors import InvalidInput
from domain.keyring_service import KeyRingProvider, StoredSecret
from domain.principal import Principal
from domain.security.audit import AuditLog
from domain.security.model import AuditAction

log = logging.getLogger("karpov.billing.channels")

SETTINGS_KEY = "payment_channels"
MASK = "****"
CHANNEL_FIELDS: dict[str, tuple[str, ...]] = {
    "yipay": ("yipayBaseUrl", "yipayMerchantId", "yipayKey", "yipayPaymentType"),
    "hupijiao": ("hupijiaoBaseUrl", "hupijiaoAppId", "hupijiaoKey", "hupijiaoWapName"),
    "ldcpay": ("ldcBaseUrl", "ldcClientId", "ldcClientSecret", "ldcMerchantPrivateKey",
               "ldcPlatformPublicKey"),
}  # fmt: skip
"""The original's PaymentChannelConfig fields, per provider."""
SECRET_FIELDS = frozenset({"yipayKey", "hupijiaoKey", "ldcClientSecret", "ldcMerchantPrivateKey"})
MAX_FIELD = 8192


def mask(secret: str) -> str:
    if not secret:
        return ""
    return MASK if len(secret) <= 4 else f"{secret[:2]}{MASK}{secret[-2:]}"


def is_masked(value: str) -> bool:
    return value == MASK or (len(value) == len(MASK) + 4 and value[2:-2] == MASK)


def _aad(provider: str, name: str) -> bytes:
    return f"payment:{provider}:{name}".encode()


@dataclass(frozen=True, slots=True)
class Channel:
    """One channel as configured (secrets in plaintext: only inside this module)."""

    provider: str
    enabled: bool = False
    fields: dict[str, str] = field(default_factory=dict)
    callback_networks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelView:
    """What an admin reads: secrets masked."""

    provider: str
    enabled: bool
    fields: dict[str, str]
    callback_networks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChannelChange:
    provider: str
    enabled: bool
    fields: Mapping[str, str | None]
    """Absent or ``None``: keep; a masked value: keep the stored secret; ``""``: clear."""
    callback_networks: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class OfferedChannel:
    provider: str
    display_name: str
    description: str
    icon: str


class PaymentChannelService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        keys: KeyRingProvider,
        factory: ChannelFactory,
        orders: OrderService,
        clock: Clock,
        audit: AuditLog,
        mock_offered: bool,
    ) -> None:
        self._uow = uow
        self._keys = keys
        self._factory = factory
        self._orders = orders
        self._clock = clock
        self._audit = audit
        self._mock = mock_offered
        self._version: int | None = None
        self._built: dict[str, BuiltChannel] = {}
        self._secrets: dict[str, tuple[str, ...]] = {}
        self._lock = asyncio.Lock()

    def use_factory(self, factory: ChannelFactory) -> None:
        """Build providers with ``factory`` from the next change on (tests: clients bound
        to fake gateways)."""
        self._factory = factory
        self._version = None

    # -- the callback guard ---------------------------------------------------------------

    def allows(self, provider: str, ip: str | None) -> bool:
        built = self._built.get(provider)
        return True if built is None else built.allows(ip)

    def secrets(self, provider: str) -> Collection[str]:
        return self._secrets.get(provider, ())

    # -- keeping every process current ---------------------------------------------------

    async def refresh(self) -> None:
        """Rebuild the providers when the stored settings changed (in any process)."""
        async with self._uow() as uow:
            doc = await uow.billing_settings.get(SETTINGS_KEY)
        version = int((doc or {}).get("version", 0))
        if version == self._version:
            return
        async with self._lock:
            if version == self._version:
                return
            channels = await self._open(doc)
            self._apply(channels)
            self._version = version

    def _apply(self, channels: list[Channel]) -> None:
        for channel in channels:
            self._secrets[channel.provider] = tuple(
                v for k, v in channel.fields.items() if k in SECRET_FIELDS and v
            )
            if not channel.enabled:
                self._orders.withdraw(channel.provider)
                continue
            try:
                built = self._factory.build(channel)
            except InvalidInput as invalid:  # stored before a rule tightened: skip it
                log.warning("payment channel not usable: %s", invalid.message,
                            extra={"provider": channel.provider})  # fmt: skip
                self._orders.withdraw(channel.provider)
                continue
            self._built[channel.provider] = built
            self._orders.register(built.provider)

    # -- admin views ----------------------------------------------------------------------

    async def get(self, principal: Principal) -> list[ChannelView]:
        require_admin(principal)
        return [self._view(c) for c in await self._load()]

    async def update(
        self, principal: Principal, changes: Sequence[ChannelChange]
    ) -> list[ChannelView]:
        """Merge ``changes`` into the stored channels and save them. The merge reads the
        stored document first; the write checks, under the document's lock, that nobody
        saved in between (else it merges again), so a concurrent update or a key rotation
        is never overwritten with stale secrets."""
        require_superadmin(principal)
        for _attempt in range(5):
            async with self._uow() as uow:
                doc = await uow.billing_settings.get(SETTINGS_KEY)
            base = int((doc or {}).get("version", 0))
            stored = {c.provider: c for c in await self._open(doc)}
            channels = _apply_changes(stored, changes, self._factory)
            sealed = await self._seal(channels)
            async with self._uow() as uow:
                current = await uow.billing_settings.get_for_update(SETTINGS_KEY)
                if current != doc:
                    continue  # saved (or re-encrypted) meanwhile: merge again
                value = {"version": base + 1, "channels": sealed}
                await uow.billing_settings.put(SETTINGS_KEY, value, self._clock.now())
                await uow.commit()
            break
        else:
            raise InvalidInput("the payment settings keep changing; try again", field="channels")
        await self._audit.record(
            AuditAction.BILLING_PAYMENT_CHANNELS_UPDATED, principal,
            enabled=",".join(c.provider for c in channels if c.enabled) or "-",
        )  # fmt: skip
        await self.refresh()
        return [self._view(c) for c in channels]

    async def offered(self) -> list[OfferedChannel]:
        """The channels a buyer may choose (enabled ones; mock only in development)."""
        await self.refresh()
        names = [n for n in self._orders.provider_names if n != "mock" or self._mock]
        return [self._factory.display(n) for n in names]

    # -- storage --------------------------------------------------------------------------

    async def _load(self) -> list[Channel]:
        async with self._uow() as uow:
            doc = await uow.billing_settings.get(SETTINGS_KEY)
        return await self._open(doc)

    async def _open(self, doc: dict[str, Any] | None) -> list[Channel]:
        found = {c.get("provider"): c for c in (doc or {}).get("channels", [])}
        channels = []
        for name, names in CHANNEL_FIELDS.items():
            raw = found.get(name) or {}
            fields = {k: str(raw.get(k) or "") for k in names if k not in SECRET_FIELDS}
            for secret, blob in (raw.get("sealed") or {}).items():
                plain = await self._keys.decrypt(base64.b64decode(blob), _aad(name, secret))
                fields[secret] = plain.decode()
            channels.append(Channel(name, bool(raw.get("enabled")), fields,
                                    tuple(raw.get("callbackNetworks") or ())))  # fmt: skip
        return channels

    async def _seal(self, channels: list[Channel]) -> list[dict[str, Any]]:
        out = []
        for c in channels:
            sealed = {}
            for name, value in c.fields.items():
                if name in SECRET_FIELDS and value:
                    blob = await self._keys.encrypt(value.encode(), _aad(c.provider, name))
                    sealed[name] = base64.b64encode(blob).decode()
            plain = {k: v for k, v in c.fields.items() if k not in SECRET_FIELDS}
            networks = list(c.callback_networks)
            out.append({"provider": c.provider, "enabled": c.enabled, **plain,
                        "callbackNetworks": networks, "sealed": sealed})  # fmt: skip
        return out

    @staticmethod
    def _view(channel: Channel) -> ChannelView:
        fields = {k: (mask(v) if k in SECRET_FIELDS else v) for k, v in channel.fields.items()}
        return ChannelView(channel.provider, channel.enabled, fields, channel.callback_networks)


def _apply_changes(
    stored: dict[str, Channel], changes: Sequence[ChannelChange], factory: ChannelFactory
) -> list[Channel]:
    seen: set[str] = set()
    for change in changes:
        name = (change.provider or "").strip().lower()
        if name not in CHANNEL_FIELDS:
            raise InvalidInput(f"unknown payment provider {change.provider!r}", field="provider")
        if name in seen:
            raise InvalidInput(f"{name} is listed twice", field="provider")
        seen.add(name)
        channel = _merged(stored[name], change)
        if channel.enabled:
            factory.build(channel)  # every field checked, 400 naming the field
        stored[name] = channel
    return [stored[name] for name in CHANNEL_FIELDS]


def _merged(stored: Channel, change: ChannelChange) -> Channel:
    fields = dict(stored.fields)
    allowed = CHANNEL_FIELDS[stored.provider]
    for name, value in change.fields.items():
        if name not in allowed:
            raise InvalidInput(f"{name} is not a field of {stored.provider}", field=name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > MAX_FIELD:
            raise InvalidInput(f"{name} must be text of at most {MAX_FIELD} characters",
                               field=name)  # fmt: skip
        if name in SECRET_FIELDS and is_masked(value):
            continue  # the masked value an admin read: keep the stored secret
        fields[name] = value.strip()
    networks = (
        stored.callback_networks
        if change.callback_networks is None
        else tuple(str(n).strip() for n in change.callback_networks if str(n).strip())
    )
    return Channel(stored.provider, bool(change.enabled), fields, networks)


class ChannelSecretHolder:
    """The channels' sealed secrets as a ``SecretHolder`` (``karpov keys rotate``)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def list_encrypted(self) -> list[StoredSecret]:
        async with self._uow() as uow:
            doc = await uow.billing_settings.get(SETTINGS_KEY)
        found = []
        for c in (doc or {}).get("channels", []):
            for name, blob in (c.get("sealed") or {}).items():
                provider = str(c.get("provider"))
                raw = base64.b64decode(blob)
                owner = f"{provider}:{name}"
                found.append(StoredSecret("payment_channel", owner, raw, _aad(provider, name)))
        return found

    async def replace_encrypted(self, secret: StoredSecret, new_blob: bytes) -> bool:
        provider, _, name = secret.owner.partition(":")
        async with self._uow() as uow:
            doc = await uow.billing_settings.get_for_update(SETTINGS_KEY)
            for c in (doc or {}).get("channels", []):
                sealed = c.get("sealed") or {}
                if c.get("provider") == provider and name in sealed:
                    if base64.b64decode(sealed[name]) != secret.blob:
                        return False
                    sealed[name] = base64.b64encode(new_blob).decode()
                    assert doc is not None
                    await uow.billing_settings.put(SETTINGS_KEY, doc, datetime.now(UTC))
                    await uow.commit()
                    return True
        return False
