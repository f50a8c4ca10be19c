"""Real processes for topology tests (issue 17): our own ``redis-server`` on a free port
(stopped by its PID) and ``karpov`` commands (serve, worker) as subprocesses."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KARPOV = [sys.executable, "-c", "from gateway.cli import main; raise SystemExit(main())"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


class OwnRedis:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        server = shutil.which("redis-server")
        assert server, "redis-server is needed for the topology tests"
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, 10)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class Karpov:
    """``karpov <args>`` with ``env`` (on top of a clean KARPOV_ environment)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith("KARPOV_")}
        self.log = log
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            [*KARPOV, *args], cwd=ROOT, env={**base, "PYTHONPATH": str(ROOT), **env},
            stdout=self._out, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, then the exit code (killed and failed if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"did not stop on SIGTERM; log:\n{self.output()}") from None
        finally:
            self._out.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]
