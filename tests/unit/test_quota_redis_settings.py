"""issue 18: ``KARPOV_QUOTA_REDIS_URL``, the quota gate's own Redis: one node or a Redis
Cluster by its scheme, refused without ``KARPOV_REDIS_URL`` or with an unknown scheme, and
shown by ``karpov doctor`` without its password."""

from __future__ import annotations

import pytest
from redis.asyncio.cluster import RedisCluster

from gateway.container import quota_gate_client
from gateway.doctor import MASK, effective_configuration
from gateway.settings import ConfigError, load_settings
from persistence.redis.pipelined import PipelinedRedis
from persistence.redis.quota import RedisClusterQuotaGate, RedisQuotaGate, quota_gate

MAIN = "redis://127.0.0.1:6379/0"


def test_the_gate_uses_the_main_redis_unless_told_otherwise() -> None:
    settings = load_settings(redis_url=MAIN)
    assert settings.quota_redis_url is None
    assert (settings.quota_gate_url, settings.quota_gate_cluster) == (MAIN, False)


@pytest.mark.parametrize(
    ("url", "cluster"),
    [
        ("redis://quota.internal:6380/2", False),
        ("rediss://:pw@quota.internal:6380/0", False),
        ("redis+cluster://10.0.0.5:7000", True),
        ("rediss+cluster://user:pw@10.0.0.5:7000", True),
    ],
)
def test_each_url_form_is_taken(url: str, cluster: bool) -> None:
    settings = load_settings(redis_url=MAIN, quota_redis_url=url)
    assert (settings.quota_gate_url, settings.quota_gate_cluster) == (url, cluster)


def test_a_quota_redis_without_the_main_redis_is_refused_naming_both() -> None:
    with pytest.raises(ConfigError, match="KARPOV_QUOTA_REDIS_URL needs KARPOV_REDIS_URL"):
        load_settings(quota_redis_url="redis+cluster://10.0.0.5:7000")


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5:7000", "redis-cluster://10.0.0.5:7000", "redis+cluster://h:7000/3"]
)
def test_a_malformed_quota_redis_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match=r"^KARPOV_QUOTA_REDIS_URL: "):
        load_settings(redis_url=MAIN, quota_redis_url=url)


def test_doctor_shows_the_quota_redis_url_without_its_password() -> None:
    settings = load_settings(
        redis_url=MAIN, quota_redis_url="rediss+cluster://gate:s3cret@10.0.0.5:7000"
    )
    shown = effective_configuration(settings)
    assert shown["quota_redis_url"] == f"rediss+cluster://gate:{MASK}@10.0.0.5:7000"
    assert "s3cret" not in str(shown)


async def test_a_cluster_url_gets_redis_pys_cluster_client_and_the_cluster_gate() -> None:
    client = quota_gate_client("redis+cluster://127.0.0.1:7000", 0.25)
    try:
        assert isinstance(client, RedisCluster)
        node = client.get_default_node() if client.nodes_manager.nodes_cache else None
        assert node is None or node.port == 7000
        kwargs = client.nodes_manager.connection_kwargs
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.25, 0.25)
        assert client.cluster_error_retry_attempts == 1  # one retry, after a refresh
        assert client.retry is None  # none on one connection
        assert isinstance(quota_gate(client, restorable=True), RedisClusterQuotaGate)
    finally:
        await client.aclose()


async def test_a_single_node_url_keeps_the_lean_client_and_the_single_node_gate() -> None:
    client = quota_gate_client("redis://127.0.0.1:6379/5", 0.25)
    try:
        assert isinstance(client, PipelinedRedis)
        gate = quota_gate(client, restorable=True)
        assert type(gate) is RedisQuotaGate
    finally:
        await client.aclose()
