"""The fake QQ Music the parity app's pool lifecycles talk to (one per session), so the
pool's refresh and test flows can succeed on both edges."""

from __future__ import annotations

from tests.fakes.qqmusic.app import FakeQQMusic

QQ = FakeQQMusic()
