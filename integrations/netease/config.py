"""How Karpov talks to NetEase: origin, timeouts, concurrency and client identity."""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.netease.crypto import NETEASE_WEAPI_KEY, RsaPublicKey

DEFAULT_API_URL = "https://music.163.com"
"""NetEase's public API origin; it serves both ``/weapi/...`` and ``/eapi/...``."""

WEB_USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
"""weapi calls present themselves as the web player in a desktop browser."""

CLIENT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Safari/537.36 Chrome/91.0.4472.164 NeteaseMusicDesktop/3.1.17.204416"
)
"""eapi calls present themselves as the Windows desktop client (``os=pc``)."""


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    """The client NetEase sees in the ``os``/``appver`` cookies and the eapi header. The
    desktop client's values: NetEase answers full-bitrate URLs to ``os=pc``."""

    os: str = "pc"
    appver: str = "3.1.17.204416"
    osver: str = "Microsoft-Windows-10-Professional-build-19045-64bit"
    channel: str = "netease"
    versioncode: str = "140"
    resolution: str = "1920x1080"


@dataclass(frozen=True, slots=True)
class NeteaseConfig:
    api_url: str = DEFAULT_API_URL
    """``KARPOV_NETEASE_API_URL``: the origin every call is POSTed to (no trailing slash)."""
    timeout: float = 10.0
    """Seconds for one upstream exchange, first byte sent to last byte read."""
    max_concurrency: int = 8
    """Upstream calls in flight at once from one client (per process). The per-credential
    request rate is the pool's job."""
    weapi_key: RsaPublicKey = NETEASE_WEAPI_KEY
    """The RSA key the weapi second key is sent under. Production uses NetEase's; tests give
    a fake's own key so the fake can read what we send."""
    encrypted_answers: bool = False
    """Ask eapi calls for encrypted answers (``e_r``), as NetEase's own clients do."""
    real_ip: str | None = None
    """Sent as ``X-Real-IP``/``X-Forwarded-For`` when set (hosts outside mainland China get
    ``-460`` answers without one). Off by default: Karpov never invents an address."""
    web_user_agent: str = WEB_USER_AGENT
    client_user_agent: str = CLIENT_USER_AGENT
    identity: ClientIdentity = field(default_factory=ClientIdentity)

    def __post_init__(self) -> None:
        if not self.api_url.startswith(("http://", "https://")):
            raise ValueError("the NetEase API URL must be http(s)")
        if self.api_url.endswith("/"):
            object.__setattr__(self, "api_url", self.api_url.rstrip("/"))
        if self.timeout <= 0 or self.max_concurrency < 1:
            raise ValueError("timeout > 0 and max_concurrency >= 1")
