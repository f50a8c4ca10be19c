"""Where a test app's pool lifecycles point: the fake QQ Music on loopback, and NetEase
at a loopback port nothing listens on (a refresh there fails fast, never the internet)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.fakes.qqmusic.app import FakeQQMusic
from tests.fakes.qqmusic.server import LoopbackServer


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def pool_upstreams(fake: FakeQQMusic | None = None) -> Iterator[tuple[FakeQQMusic, dict[str, Any]]]:
    """The fake QQ Music running, and the settings that aim the app's lifecycles."""
    fake = fake or FakeQQMusic()
    server = LoopbackServer(fake)
    server.start()
    try:
        yield (
            fake,
            {
                "qqmusic_api_url": f"{server.origin}/cgi-bin/musicu.fcg",
                "netease_api_url": closed_port_url(),
                "netease_timeout": 2.0,
            },
        )
    finally:
        server.stop()
