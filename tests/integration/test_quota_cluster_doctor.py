"""issue 18: ``karpov doctor`` checks the quota gate's own Redis: a Redis Cluster must
answer with ``cluster_state:ok``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.doctor import problems
from gateway.settings import load_settings
from tests.support.processes import free_port
from tests.support.redis_cluster import OwnRedisCluster


async def quota_problems(tmp_path: Path, url: str) -> list[str]:
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'doctor.db'}",
        redis_url=f"redis://127.0.0.1:{free_port()}/0",  # the main Redis is not under test
        quota_redis_url=url,
    )
    return [line for line in await problems(settings) if line.startswith("quota redis")]


async def test_a_healthy_cluster_passes(tmp_path: Path, redis_cluster: OwnRedisCluster) -> None:
    assert await quota_problems(tmp_path, redis_cluster.url) == []


@pytest.fixture
def unjoined_node(tmp_path: Path, redis_cluster: OwnRedisCluster) -> Iterator[OwnRedisCluster]:
    """A cluster-enabled node that was never given slots (``cluster_state:fail``)."""
    assert shutil.which("redis-server")
    node = OwnRedisCluster(tmp_path / "unjoined", primaries=1)
    try:
        node.start(create=False)
        yield node
    finally:
        node.stop()


async def test_a_cluster_that_is_not_ok_is_a_problem(
    tmp_path: Path, unjoined_node: OwnRedisCluster
) -> None:
    found = await quota_problems(tmp_path, unjoined_node.url)
    assert found == ["quota redis cluster: cluster_state:fail, not ok"]


async def test_a_redis_without_cluster_support_is_a_problem(tmp_path: Path) -> None:
    own = OwnRedisCluster(tmp_path / "plain", primaries=1)
    try:
        own.start(create=False, cluster=False)
        found = await quota_problems(tmp_path, own.url)
    finally:
        own.stop()
    assert found == ["quota redis cluster: This instance has cluster support disabled"]


async def test_an_unreachable_cluster_is_a_problem(tmp_path: Path) -> None:
    found = await quota_problems(tmp_path, f"redis+cluster://127.0.0.1:{free_port()}")
    assert found == ["quota redis cluster: cannot connect (ConnectionError)"]
