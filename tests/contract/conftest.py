"""Users for contract suites whose rows belong to a user. Each suite's ``backend`` fixture
provides ``create_user`` (a no-op where the store keeps no foreign keys)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.ids import new_id


@pytest.fixture
async def alice(backend: Any) -> str:
    user_id = new_id()
    await backend.create_user(user_id)
    return user_id


@pytest.fixture
async def bob(backend: Any) -> str:
    user_id = new_id()
    await backend.create_user(user_id)
    return user_id
