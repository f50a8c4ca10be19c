"""``karpov doctor``: the effective configuration with secrets masked, then a check of
every dependency it names: one ``problem:`` line per problem (exit 1), else ``ok``."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gateway.settings import Settings

MASK = "********"


def masked_url(url: str | None) -> str | None:
    """The URL with its password (if any) masked."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}{port}"))


def effective_configuration(settings: Settings) -> dict[str, Any]:
    """Every setting; a secret (a field hidden from ``repr``) shows only whether it is set."""
    shown: dict[str, Any] = {}
    for name, info in type(settings).model_fields.items():
        value = getattr(settings, name)
        # readme: by suffix, so min_password_strength and password_reset_url are shown
        if not info.repr or name.endswith(("_secret", "_password")):
            value = MASK if value else value
        elif name in ("database_url", "redis_url", "quota_redis_url"):
            value = masked_url(value)
        elif name == "oauth_oidc_providers":
            value = sorted(value)
        shown[name] = value
    return shown


async def problems(settings: Settings) -> list[str]:
    from redis.asyncio import Redis

    from persistence.migrate import pending_revisions
    from persistence.sql.engine import create_engine, ping

    found: list[str] = []
    engine = create_engine(settings.database_url)
    try:
        await ping(engine)
    except Exception as error:
        found.append(f"database: cannot connect ({type(error).__name__})")
    else:
        try:
            pending = await pending_revisions(settings.database_url)
            if pending:
                found.append(
                    f"migrations: {len(pending)} pending ({', '.join(pending)}); "
                    "run `karpov migrate`"
                )
        except Exception as error:
            found.append(f"migrations: cannot read the revision ({type(error).__name__})")
    finally:
        await engine.dispose()
    if settings.redis_url:
        client = Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            await client.ping()
        except Exception as error:
            found.append(f"redis: cannot connect ({type(error).__name__})")
        finally:
            await client.aclose()
    if settings.quota_redis_url and settings.redis_url:
        found += await _quota_redis_problems(settings)
    production = settings.env != "dev"
    if production and not settings.master_key:
        found.append("KARPOV_MASTER_KEY: not set (every process of a deployment needs the same)")
    if production and not settings.public_base_url.startswith("https://"):
        found.append("KARPOV_PUBLIC_BASE_URL: not https:// in production")
    if production and settings.is_sqlite:
        found.append("KARPOV_DATABASE_URL: SQLite serves one host only; use PostgreSQL")
    if production and not settings.redis_url:
        found.append("KARPOV_REDIS_URL: not set (needed by several processes and the worker)")
    return found


async def _quota_redis_problems(settings: Settings) -> list[str]:
    """issue 18: the quota gate's own Redis answers; a cluster's state is ``ok``."""
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster
    from redis.exceptions import ResponseError

    from gateway.settings import cluster_node_url

    url = settings.quota_gate_url
    if not settings.quota_gate_cluster:
        client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            await client.ping()
        except Exception as error:
            return [f"quota redis: cannot connect ({type(error).__name__})"]
        finally:
            await client.aclose()
        return []
    seed = Redis.from_url(cluster_node_url(url), socket_connect_timeout=2, socket_timeout=2)
    try:
        info = await seed.execute_command("CLUSTER", "INFO")
    except ResponseError as error:  # e.g. a Redis without cluster support
        return [f"quota redis cluster: {error}"]
    except Exception as error:
        return [f"quota redis cluster: cannot connect ({type(error).__name__})"]
    finally:
        await seed.aclose()
    text = info.decode() if isinstance(info, bytes) else str(info)
    state = re.search(r"cluster_state:(\w+)", text)
    if state is None or state.group(1) != "ok":
        shown = state.group(1) if state else "unknown"
        return [f"quota redis cluster: cluster_state:{shown}, not ok"]
    cluster = RedisCluster.from_url(
        cluster_node_url(url), socket_connect_timeout=2, socket_timeout=2,
        cluster_error_retry_attempts=0, connection_error_retry_attempts=0,
    )  # fmt: skip
    try:  # every primary the cluster names answers
        await cluster.ping(target_nodes=RedisCluster.PRIMARIES)
    except Exception as error:
        return [f"quota redis cluster: a primary does not answer ({type(error).__name__})"]
    finally:
        await cluster.aclose()
    return []


async def run_doctor(settings: Settings) -> int:
    for name, value in effective_configuration(settings).items():
        print(f"{name} = {value}")
    found = await problems(settings)
    for line in found:
        print(f"problem: {line}")
    if not found:
        print("ok: no problems found")
    return 1 if found else 0
