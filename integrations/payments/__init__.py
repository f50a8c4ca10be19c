"""Payment-provider clients behind ``domain.billing.ports.PaymentProvider``: yipay (epay V1),
hupijiao (XunhuPay), ldcpay (Linux Credit) and the development-only mock.

Each provider module's docstring states its protocol and where the original gateway
differed from it. Build a provider from its config and a shared ``httpx.AsyncClient``:

    YipayProvider(YipayConfig(base_url=…, merchant_id=…, key=…), http=client)
"""

from typing import TYPE_CHECKING

from integrations.payments.channels import CHANNEL_DISPLAYS, ChannelDisplay
from integrations.payments.config import (
    ChannelConfig,
    HupijiaoConfig,
    LdcConfig,
    MockConfig,
    YipayConfig,
    YipayCreation,
)
from integrations.payments.hupijiao import HupijiaoProvider
from integrations.payments.ldcpay import LdcProvider
from integrations.payments.log_redaction import install_log_redaction
from integrations.payments.masking import is_masked, mask_secret
from integrations.payments.mock import MockProvider
from integrations.payments.networks import CallbackNetworks
from integrations.payments.signing import SortedParamsSigner, signatures_match
from integrations.payments.yipay import PaymentForm, YipayProvider

__all__ = [
    "CHANNEL_DISPLAYS",
    "CallbackNetworks",
    "ChannelConfig",
    "ChannelDisplay",
    "HupijiaoConfig",
    "HupijiaoProvider",
    "LdcConfig",
    "LdcProvider",
    "MockConfig",
    "MockProvider",
    "PaymentForm",
    "SortedParamsSigner",
    "YipayConfig",
    "YipayCreation",
    "YipayProvider",
    "install_log_redaction",
    "is_masked",
    "mask_secret",
    "signatures_match",
]

if TYPE_CHECKING:
    from domain.billing.ports import PaymentProvider

    def _every_provider_implements_the_port(
        yipay: YipayProvider, hupijiao: HupijiaoProvider, ldc: LdcProvider, mock: MockProvider
    ) -> list[PaymentProvider]:
        """Checked by mypy only: a signature drifting from the port fails ``make check``."""
        return [yipay, hupijiao, ldc, mock]
