"""Start-up of a short command: ``ssaplan programs list --limit 10`` beside ``python -c pass``.

Each row is the median of ``ROUNDS`` runs, interleaved (baseline, floor, command, ...),
wall-clock and CPU (user + system) of the child; the machine's load average is
printed beside them, since on a shared machine the wall clock mostly measures the
queue for a core. Rows:

- *python -c pass*: the issue's baseline, the interpreter alone.
- *import floor*: ``import sqlalchemy.orm, pydantic, typer``: the libraries any
  command that reads the database loads; no lazy import goes below this.
- *programs list --limit 10*: the real command on an initialized database.

Bytecode: a package installed by pip has its ``.pyc`` files; an environment with
``PYTHONDONTWRITEBYTECODE=1`` and no ``__pycache__`` recompiles every module of
SQLAlchemy, pydantic and typer on every start (about 4x the CPU). The children here
get a bytecode cache of their own (``PYTHONPYCACHEPREFIX``, warmed by one run first),
as an installed copy would have.

Where the time went (``python -X importtime``), before: ``alembic.script`` (asked for
the schema's head revisions on every command, a third of the start-up),
``pydantic_settings`` (imported for one constant, the default database URL), then
SQLAlchemy's ORM and the portfolio's own models and schemas, which the command needs.
After: the heads are read from the migration scripts' ``revision`` lines and the
database's ``alembic_version`` table directly; the default URL lives in
``core/defaults.py``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TITLE = "CLI start-up: programs list --limit 10 vs python -c pass"
ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 0.5
ROUNDS = 5


def _env(cache: Path, db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    env["SSAPLAN_DB"] = db
    return env


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = os.times()
    started = time.perf_counter()
    subprocess.run(argv, check=True, env=env, cwd=ROOT, capture_output=True)
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def run(quick: bool = False) -> list[dict[str, Any]]:
    rounds = 3 if quick else ROUNDS
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="ssaplan-bench-cli-") as tmp:
        folder = Path(tmp)
        db = f"sqlite:///{folder / 'cli.db'}"
        env = _env(folder / "pycache", db)
        subprocess.run(
            [py, "-m", "ssaplan.cli", "--db", db, "init"],
            check=True,
            env=env,
            cwd=ROOT,
            capture_output=True,
        )
        commands = {
            "python -c pass (baseline)": [py, "-c", "pass"],
            "import floor: sqlalchemy.orm, pydantic, typer": [
                py,
                "-c",
                "import sqlalchemy.orm, pydantic, typer",
            ],
            "ssaplan programs list --limit 10": [
                py,
                "-m",
                "ssaplan.cli",
                "programs",
                "list",
                "--limit",
                "10",
            ],
        }
        for argv in commands.values():  # warm the bytecode cache
            _time(argv, env)
        walls: dict[str, list[float]] = {k: [] for k in commands}
        cpus: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(rounds):
            for name, argv in commands.items():
                wall, cpu = _time(argv, env)
                walls[name].append(wall)
                cpus[name].append(cpu)
    load = os.getloadavg()[0]
    base_wall = statistics.median(walls["python -c pass (baseline)"])
    rows = []
    for name in commands:
        wall = statistics.median(walls[name])
        rows.append(
            {
                "what": name,
                "runs": rounds,
                "wall s (median)": round(wall, 3),
                "cpu s (median)": round(statistics.median(cpus[name]), 3),
                "wall over baseline s": round(wall - base_wall, 3),
                "load avg (1 min)": round(load, 1),
                "target": "",
            }
        )
    cli = rows[-1]
    cli["target"] = f"< {TARGET_S} s wall: " + (
        "met" if cli["wall s (median)"] < TARGET_S else "MISSED"
    )
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
