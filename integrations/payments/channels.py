"""How each channel is shown to buyers: the original's display names, descriptions and icons
(``GET /v1/billing/payment-channels``). ``mock`` is listed only in development."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChannelDisplay:
    provider: str
    display_name: str
    description: str
    icon: str
    """What the web console draws: alipay, wechat, credit or test."""


CHANNEL_DISPLAYS: dict[str, ChannelDisplay] = {
    display.provider: display
    for display in (
        ChannelDisplay("yipay", "支付宝 / 微信（易支付）", "支持支付宝、微信、QQ 钱包", "alipay"),
        ChannelDisplay("hupijiao", "微信支付（虎皮椒）", "微信个人收款方案", "wechat"),
        ChannelDisplay(
            "ldcpay", "Linux Credit (LDC)", "linux.do 官方积分流转，Ed25519 签名", "credit"
        ),
        ChannelDisplay(
            "mock",
            "本地测试支付（仅开发）",
            "立即标记成功，不经真实支付网关；生产环境不会出现",
            "test",
        ),
    )
}
