"""Everything the QQ Music client can be pointed at or tuned with, with public defaults.

Each URL is one setting (the composition root reads ``KARPOV_QQMUSIC_*`` / ``KARPOV_WECHAT_*``
into this object), so tests and private mirrors aim the client elsewhere without code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

ANDROID_USER_AGENT = "QQMusic 14090008(android 10)"
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
DEFAULT_QIMEI36 = "6c9d3cd110abca9b16311cee10001e717614"
"""The public QIMEI device id clients fall back on; without one, search answers lose their
item lists."""


@dataclass(frozen=True, slots=True)
class QQMusicConfig:
    api_url: str = "https://u.y.qq.com/cgi-bin/musicu.fcg"
    """``KARPOV_QQMUSIC_API_URL``: the ``musicu.fcg`` JSON endpoint."""
    ptlogin_url: str = "https://ssl.ptlogin2.qq.com"
    """``KARPOV_QQMUSIC_PTLOGIN_URL``: origin of ``ptqrshow`` / ``ptqrlogin``."""
    graph_url: str = "https://graph.qq.com"
    """``KARPOV_QQMUSIC_GRAPH_URL``: origin of the QQ Connect ``/oauth2.0/authorize`` step."""
    wechat_open_url: str = "https://open.weixin.qq.com"
    """``KARPOV_WECHAT_OPEN_URL``: origin of ``/connect/qrconnect`` and the QR image."""
    wechat_long_poll_url: str = "https://lp.open.weixin.qq.com"
    """``KARPOV_WECHAT_LONG_POLL_URL``: origin of the scan-status long poll."""
    stream_url: str = "https://ws.stream.qqmusic.qq.com/"
    """``KARPOV_QQMUSIC_STREAM_URL``: the audio host used when the upstream offers none but
    ``dl.stream`` hosts (which refuse most clients)."""
    image_url: str = "https://y.gtimg.cn/music/photo_new/"
    """``KARPOV_QQMUSIC_IMAGE_URL``: where album covers and artist photos are served."""
    login_hosts: tuple[str, ...] = ("qq.com",)
    """Hosts (and their subdomains) the QQ login's ``check_sig`` redirect chain may visit;
    the hosts of ``ptlogin_url`` and ``graph_url`` are always allowed."""

    timeout_s: float = 10.0
    """``KARPOV_QQMUSIC_TIMEOUT``: whole-call limit of one ``musicu.fcg`` request."""
    login_timeout_s: float = 15.0
    """Per request of the QR login pages (ptlogin2, graph, WeChat)."""
    wechat_poll_timeout_s: float = 30.0
    """WeChat holds a scan-status poll open about 25 s before answering 408."""
    max_concurrency: int = 10
    """``KARPOV_QQMUSIC_MAX_CONCURRENCY``: requests in flight per client."""
    batch_limit: int = 30
    """Sub-requests per ``musicu.fcg`` body; larger batches are split."""
    sign_requests: bool = False
    """``KARPOV_QQMUSIC_SIGN``: add the ``sign=`` query signature to every request."""

    guid: str | None = None
    """32 hex characters identifying this client as one device; random when unset."""
    user_agent: str = ANDROID_USER_AGENT
    browser_user_agent: str = BROWSER_USER_AGENT
    client_type: int = 11
    """``comm.ct`` of the Android profile."""
    client_version: int = 14090008
    """``comm.cv`` of the Android profile (14.9.0.8)."""
    qimei36: str = DEFAULT_QIMEI36
    vkey_comm: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Extra ``comm`` fields for play-URL calls only (some accounts need ``{"ct": 19}``)."""

    play_url_max_ttl_s: int = 600
    """A play URL is reported to expire after at most this long, or the upstream's own
    ``expiration`` when that is sooner."""
    qr_ttl_s: int = 180
    """How long a QR login session is offered for."""

    def __post_init__(self) -> None:
        if self.max_concurrency < 1 or self.batch_limit < 1:
            raise ValueError("max_concurrency and batch_limit must be at least 1")
        if self.timeout_s <= 0 or self.login_timeout_s <= 0 or self.wechat_poll_timeout_s <= 0:
            raise ValueError("timeouts must be positive")
        if self.guid is not None and (
            len(self.guid) != 32 or any(c not in "0123456789abcdef" for c in self.guid)
        ):
            raise ValueError("guid must be 32 lower-case hex characters")
