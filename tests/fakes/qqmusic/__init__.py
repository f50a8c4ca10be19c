"""A fake QQ Music (``musicu.fcg``, ptlogin2, graph.qq.com, WeChat qrconnect) for tests."""

from tests.fakes.qqmusic.app import FakeQQMusic
from tests.fakes.qqmusic.server import LoopbackServer

__all__ = ["FakeQQMusic", "LoopbackServer"]
