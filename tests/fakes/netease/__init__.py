"""A fake NetEase Cloud Music API speaking the real weapi/eapi protocol (see ``app``)."""

from tests.fakes.netease.accounts import FakeAccount, Logins
from tests.fakes.netease.app import FakeNetease
from tests.fakes.netease.catalogue import Catalogue, FakeSong, demo_catalogue
from tests.fakes.netease.server import FakeNeteaseServer

__all__ = [
    "Catalogue",
    "FakeAccount",
    "FakeNetease",
    "FakeNeteaseServer",
    "FakeSong",
    "Logins",
    "demo_catalogue",
]
