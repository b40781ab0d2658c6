"""Start and stop a throwaway PostgreSQL server for tests and benchmarks.

Uses Debian's PostgreSQL binaries; as root, the server runs as the ``postgres`` user
(initdb refuses root). Listens on loopback only, with fsync off: speed over safety,
because everything in it is thrown away.

    python scripts/pgtemp.py start   # prints the URL; state kept in .pgtemp/
    python scripts/pgtemp.py stop
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

STATE = Path(__file__).resolve().parent.parent / ".pgtemp"


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL bin directory, or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    return Path(found[-1]).parent if found else None


def install_if_missing() -> bool:
    """Install Debian's postgresql package when missing and we are root; True if available."""
    if pg_bin() is not None:
        return True
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    print("installing PostgreSQL from Debian's packages...", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "postgresql"],
        check=False,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return pg_bin() is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def start() -> str:
    """Start a server; returns the admin URL (database ``postgres``)."""
    binary = pg_bin()
    if binary is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    if (STATE / "url").exists():
        stop()
    base = Path(tempfile.mkdtemp(prefix="ssaplan-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    base.chmod(0o700)
    port = _free_port()
    subprocess.run(
        _as_postgres(
            [
                str(binary / "initdb"),
                "-D",
                str(base / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {base} "
        "-c fsync=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        _as_postgres(
            [
                str(binary / "pg_ctl"),
                "-D",
                str(base / "data"),
                "-l",
                str(base / "pg.log"),
                "-w",
                "-o",
                options,
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    STATE.mkdir(exist_ok=True)
    (STATE / "url").write_text(url)
    (STATE / "dir").write_text(str(base))
    return url


def stop() -> None:
    if not (STATE / "dir").exists():
        return
    base = Path((STATE / "dir").read_text())
    binary = pg_bin()
    if binary is not None and (base / "data").exists():
        subprocess.run(
            _as_postgres([str(binary / "pg_ctl"), "-D", str(base / "data"), "-m", "fast", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
        )
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(STATE, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["start"]:
        if not install_if_missing():
            sys.exit("PostgreSQL is not installed and cannot be installed here")
        print(start())
    elif sys.argv[1:] == ["stop"]:
        stop()
    else:
        sys.exit("usage: pgtemp.py start|stop")
