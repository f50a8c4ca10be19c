"""Provider clients from the admin's payment channel settings (issue 16): the original's
field names (``yipayBaseUrl``, ``hupijiaoKey``, ``ldcMerchantPrivateKey``, …) become each
provider's config, whose validation names the field that is wrong."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from domain.billing.channels import Channel, OfferedChannel
from domain.billing.ports import PaymentProvider
from domain.errors import InvalidInput
from integrations.payments.channels import CHANNEL_DISPLAYS
from integrations.payments.config import ChannelConfig, HupijiaoConfig, LdcConfig, YipayConfig
from integrations.payments.hupijiao import HupijiaoProvider
from integrations.payments.ldcpay import LdcProvider
from integrations.payments.yipay import YipayProvider


@dataclass(frozen=True, slots=True)
class Built:
    provider: PaymentProvider
    config: ChannelConfig

    def allows(self, ip: str | None) -> bool:
        return self.config.allows(ip)


class ProviderFactory:
    def __init__(self, http: httpx.AsyncClient | None = None) -> None:
        self._http = http

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=15, follow_redirects=False)
        return self._http

    def build(self, channel: Channel) -> Built:
        f = channel.fields
        networks = channel.callback_networks
        if channel.provider == "yipay":
            yipay = YipayConfig(
                base_url=f.get("yipayBaseUrl", ""), merchant_id=f.get("yipayMerchantId", ""),
                key=f.get("yipayKey", ""), payment_type=f.get("yipayPaymentType", "") or "alipay",
                callback_networks=networks,
            )  # fmt: skip
            return Built(YipayProvider(yipay, http=self._client()), yipay)
        if channel.provider == "hupijiao":
            xunhu = HupijiaoConfig(
                app_id=f.get("hupijiaoAppId", ""), app_secret=f.get("hupijiaoKey", ""),
                base_url=f.get("hupijiaoBaseUrl", ""), wap_name=f.get("hupijiaoWapName", ""),
                callback_networks=networks,
            )  # fmt: skip
            return Built(HupijiaoProvider(xunhu, http=self._client()), xunhu)
        if channel.provider == "ldcpay":
            ldc = LdcConfig(
                client_id=f.get("ldcClientId", ""), client_secret=f.get("ldcClientSecret", ""),
                merchant_private_key=f.get("ldcMerchantPrivateKey", ""),
                platform_public_key=f.get("ldcPlatformPublicKey", ""),
                base_url=f.get("ldcBaseUrl", ""), callback_networks=networks,
            )  # fmt: skip
            return Built(LdcProvider(ldc, http=self._client()), ldc)
        raise InvalidInput(f"unknown payment provider {channel.provider!r}", field="provider")

    def display(self, provider: str) -> OfferedChannel:
        shown = CHANNEL_DISPLAYS.get(provider)
        if shown is None:
            return OfferedChannel(provider, provider, "", "")
        return OfferedChannel(shown.provider, shown.display_name, shown.description, shown.icon)
