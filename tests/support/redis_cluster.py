"""issue 18: our own three-primary Redis Cluster for the quota gate's tests.

Three ``redis-server --cluster-enabled yes`` processes on free ports in 20000-40000 (each
with its cluster bus port, port + 10000, free too), joined by ``redis-cli --cluster
create`` with no replicas, waited on until ``cluster_state:ok``, and stopped by their PIDs.
The shared Redis (6379) is never touched."""

from __future__ import annotations

import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PORTS = (20000, 30000)
"""Client ports are picked in [20000, 30000), so the bus ports (+10000) stay below 40000."""


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_ports(n: int) -> list[int]:
    """``n`` ports whose port + 10000 (the cluster bus) is free too."""
    rng = random.Random()
    found: list[int] = []
    while len(found) < n:
        port = rng.randrange(*PORTS)
        if port not in found and _free(port) and _free(port + 10000):
            found.append(port)
    return found


@dataclass
class OwnRedisCluster:
    directory: Path
    primaries: int = 3
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """What ``KARPOV_QUOTA_REDIS_URL`` names it by (any node will do)."""
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    @property
    def node_urls(self) -> list[str]:
        return [f"redis://127.0.0.1:{port}/0" for port in self.ports]

    def start(self, *, create: bool = True, cluster: bool = True) -> None:
        """``create=False``: the nodes only, never joined (``cluster_state:fail``);
        ``cluster=False``: plain Redis servers (no cluster support)."""
        server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
        assert server and cli, "redis-server and redis-cli are needed for the cluster tests"
        self.ports = free_cluster_ports(self.primaries)
        for port in self.ports:
            node = self.directory / str(port)
            node.mkdir(parents=True)
            options = {
                "port": str(port),
                "bind": "127.0.0.1",
                "cluster-enabled": "yes" if cluster else "no",
                "cluster-config-file": "nodes.conf",
                "cluster-node-timeout": "2000",
                "save": "",
                "appendonly": "no",
                "dir": str(node),
                "logfile": str(node / "redis.log"),
            }
            command = [server, *(part for name, value in options.items()
                                 for part in (f"--{name}", value))]  # fmt: skip
            self.commands.append(command)
        self._launch()
        if not create:
            return
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(
            [cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        for port in self.ports:
            self._wait(lambda port=port: "cluster_state:ok" in self._cli(port, "CLUSTER", "INFO"),
                       "reach cluster_state:ok")  # fmt: skip

    def _launch(self) -> None:
        for command in self.commands:
            self.processes.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
        for port in self.ports:
            self._wait(lambda port=port: self._cli(port, "PING") == "PONG", "start")

    def restart(self) -> None:
        """Every node stopped, then started again on its port, empty (no persistence) but
        with its cluster configuration (``nodes.conf``): the cluster comes back whole."""
        self.stop()
        self._launch()
        for port in self.ports:
            self._wait(lambda port=port: "cluster_state:ok" in self._cli(port, "CLUSTER", "INFO"),
                       "reach cluster_state:ok again")  # fmt: skip

    def _cli(self, port: int, *command: str) -> str:
        done = subprocess.run(
            ["redis-cli", "-p", str(port), *command], capture_output=True, text=True, timeout=10
        )
        return done.stdout.strip()

    def _wait(self, ready: object, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():  # type: ignore[operator]
                return
            time.sleep(0.05)
        raise RuntimeError(f"the test Redis Cluster did not {what} within {timeout} s")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []
