"""The fake upstreams the parity app's QQ Music and NetEase clients talk to (one of each
per session), so the pool's refresh and test flows and the music routes of both providers
can succeed on both edges."""

from __future__ import annotations

from tests.fakes.netease import FakeNetease
from tests.fakes.qqmusic.app import FakeQQMusic

QQ = FakeQQMusic()
NETEASE = FakeNetease()  # upstreams (issue 15)
