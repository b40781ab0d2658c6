"""A real ``ssaplan serve --workers 2`` for the tests that need one (loopback only)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import ssaplan


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_two_workers(
    url: str, port: int, log: Path, *, new_group: bool = False
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(ssaplan.__file__).parents[1]),
        "SSAPLAN_SECRET_KEY": "s" * 40,
    }
    with log.open("w") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(  # noqa: S603 - fixed arguments, test database
            [sys.executable, "-c", "from ssaplan.cli import main; main()", "serve"]
            + ["--workers", "2", "--port", str(port), "--db", url],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=new_group,  # its own process group, as a terminal's
        )


def wait_healthy(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5):  # noqa: S310
                return
        except OSError:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
