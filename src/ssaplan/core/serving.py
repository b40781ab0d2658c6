"""``ssaplan serve`` with several workers: one listening socket per worker (Linux's
``SO_REUSEPORT``), so the kernel spreads connections over the workers.

With one socket shared by every worker (uvicorn's own ``--workers``), the worker that
wakes first accepts every connection waiting: 20 kept-alive connections opened at once
landed 3/17 or 4/16 on two workers, one worker queueing most of the load while the other
idled, and the 20-client p95 of ``benchmarks/bench_portfolio_api.py`` varied from 40 to
111 ms between runs. With a socket each, the kernel picks the socket by a hash of the
connection's addresses.

The parent here only supervises: it checks the port is free (a plain bind: refused if any
socket holds it, so two servers never share a port by accident), starts the workers
(fresh interpreters, as uvicorn's), replaces one that dies after it has started, stops
every worker on SIGINT or SIGTERM, and stops with an error when a worker dies during its
start-up (a broken database or app would fail the same way on every restart).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import socket
import sys
import time
from multiprocessing.process import BaseProcess
from types import FrameType

APP = "ssaplan.app:app_from_environment"
STARTUP_S = 20.0  # a worker that dies sooner than this after its start did not start
BACKLOG = 2048


def supported() -> bool:
    """Whether the kernel spreads connections over sockets sharing a port (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def port_free(host: str, port: int) -> str | None:
    """None if ``host:port`` can be listened on, else why not."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def worker(host: str, port: int, log_level: str) -> None:
    """One worker: its own socket on the shared port, one uvicorn server on it."""
    import uvicorn

    config = uvicorn.Config(APP, factory=True, host=host, port=port, log_level=log_level)
    # Ctrl-C reaches every process of the terminal: uvicorn finishes the requests in
    # flight and re-raises it afterwards; a worker then ends quietly, not with a traceback.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[_listen(host, port)])


def serve(host: str, port: int, workers: int, *, log_level: str = "warning") -> int:
    """Run ``workers`` workers until SIGINT or SIGTERM; the exit code (0, or 1 when a
    worker could not start)."""
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(target=worker, args=(host, port, log_level), daemon=True)
        process.start()
        return process, time.monotonic()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    running = [start() for _ in range(workers)]
    code = 0
    try:
        while not stopping:
            time.sleep(0.2)
            for i, (process, started) in enumerate(running):
                if process.is_alive() or stopping:
                    continue
                if time.monotonic() - started < STARTUP_S:
                    print(
                        f"error: a worker stopped while starting (exit code {process.exitcode});"
                        " stopping the server",
                        file=sys.stderr,
                    )
                    stopping, code = True, 1
                    break
                running[i] = start()  # died while serving: replaced
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()  # uvicorn finishes the requests in flight
        for process, _ in running:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return code
