"""The deployment files (issue 17) are valid and say what the issue asks: Docker is not
on the build machines, so the files are parsed and checked here, and the topology itself
is tested with real processes (``tests/integration/test_worker_processes.py``)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def test_the_compose_file_runs_api_worker_postgres_redis_and_a_proxy() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"api", "worker", "postgres", "redis", "proxy", "migrate"} <= set(services)
    assert services["worker"]["command"] == ["worker"]
    worker_env = services["worker"]["environment"]  # the shared stores, and its own metrics
    assert worker_env["KARPOV_REDIS_URL"] == services["api"]["environment"]["KARPOV_REDIS_URL"]
    assert (
        worker_env["KARPOV_DATABASE_URL"] == services["api"]["environment"]["KARPOV_DATABASE_URL"]
    )
    assert int(worker_env["KARPOV_WORKER_METRICS_PORT"]) > 0
    assert services["api"]["command"][0] == "serve"
    # Only the proxy publishes a port: no database or Redis port reaches the host.
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    # Secrets come from env files, never from the compose file itself.
    for name in ("api", "worker", "migrate"):
        assert services[name]["env_file"] == ["karpov.env"]
    text = (DEPLOY / "compose.yaml").read_text()
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in text
    assert not re.search(r"KARPOV_MASTER_KEY\s*[:=]\s*\S", text)
    # The API scales: no fixed container name or host port on it.
    assert "container_name" not in services["api"] and "ports" not in services["api"]
    env_example = (DEPLOY / "karpov.env.example").read_text()
    for setting in ("KARPOV_MASTER_KEY=", "KARPOV_TRUSTED_PROXIES=", "KARPOV_PUBLIC_BASE_URL="):
        assert setting in env_example


def test_the_dockerfile_is_multi_stage_non_root_with_a_readiness_check() -> None:
    lines = [
        line.strip()
        for line in (DEPLOY / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) == 2 and stages[0].endswith("AS build")
    assert any(line.startswith("USER karpov") for line in lines)
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert "/readyz" in "\n".join(lines)
    assert 'ENTRYPOINT ["karpov"]' in lines
    assert any("--require-hashes -r requirements.lock" in line for line in lines)
    for line in lines:
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


def test_the_lock_files_pin_every_dependency_with_hashes() -> None:
    for name in ("requirements.lock", "requirements-dev.lock"):
        entries: dict[str, list[str]] = {}
        current = ""
        for line in (ROOT / name).read_text().splitlines():
            if line and not line[0].isspace() and not line.startswith("#"):
                current = line.split()[0]
                entries[current] = []
            elif current and "--hash=sha256:" in line:
                entries[current].append(line)
        assert len(entries) > 40, name
        for pin, hashes in entries.items():
            assert "==" in pin and hashes, (name, pin)
    runtime = (ROOT / "requirements.lock").read_text()
    assert "\narq==" in runtime and "\npytest==" not in runtime
    assert "\npytest==" in (ROOT / "requirements-dev.lock").read_text()
