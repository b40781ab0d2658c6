"""Start-up of a short command: ``ssaplan programs list --limit 10`` beside ``python -c pass``.

Each row is the median of ``ROUNDS`` runs, interleaved (baseline, floor, command, ...),
wall-clock and CPU (user + system) of the child; the machine's load average is
printed beside them, since on a shared machine the wall clock mostly measures the
queue for a core. Rows:

- *python -c pass*: the issue's baseline, the interpreter alone.
- *import floor*: ``import sqlalchemy.orm, pydantic, typer``: the libraries any
  command that reads the database loads; no lazy import goes below this.
- *command floor*: the import floor plus what any typer command on SQLite loads as
  well: ``import pydantic`` alone is lazy (it loads none of ``pydantic.main``), but
  typer 0.29 checks every option's value with a pydantic ``TypeAdapter``
  (``typer._adapters`` imports ``pydantic.main``, ``pydantic.types`` and the schema
  generator), and the database needs SQLAlchemy's SQLite dialect. This, not the import
  floor, is the start-up a command cannot go below by deferring its own imports.
  Both floors run with the cyclic collector on (the command keeps it off during its
  imports, below: it can come out below them).
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

Then (issue 9; 0.83 s measured before; target < 0.5 s). Wall clock on this 2-core
machine shared with other sessions (load 2 to 2.5) swings by half, so the figures
that decide are instruction counts, ``valgrind --tool=callgrind`` of one run each
(``PYTHONHASHSEED=0``, warm bytecode cache), in millions: ``python -c pass`` 41,
import floor 1393, command floor 1615, ``programs list --limit 10`` 2377 before.
Its own part (about 760 M over the command floor), by ``time.process_time`` of each
step in one process: declaring the mapped classes (reference, core, portfolio
models: 45-65 ms), building the pydantic schemas (portfolio, core: 30 ms; the input
schemas are half of it), the domain declarations and permission table (18 ms),
configuring every mapper before the first ORM statement (16-24 ms; gone, below), the reference
catalog (11 ms), and the command itself (parsing, compiling three statements,
printing: 30 ms). Nothing the command does not use is imported any more: no FastAPI,
starlette, jinja, lxml, openpyxl, numpy or scipy; no other domain's CLI module (the
root group mounts only the invoked one, see ``cli.DomainGroup``); rich only for a
progress bar (``clikit.progress``), never here (help and errors are plain:
``rich_markup_mode=None``).

Changed:

- The list's page, count and money statements name table columns, not mapped
  attributes: they compile as Core, without the ORM compile step and without
  configuring every mapper first. 2377 -> 2302.
- The cyclic collector is off while ``ssaplan.cli``'s imports run (typer,
  SQLAlchemy, pydantic: objects that live as long as the process), which are then
  frozen out of its sight (``gc.freeze``). Without the freeze it only postpones the
  work (2282). 2302 -> 2152: 9.5 % fewer instructions than before, and more of the
  wall clock, the collector's passes over a large heap being mostly cache misses.
  Wall (this bench, four runs of each tree interleaved, load 1.3-2.5, medians of
  5): 0.71-1.06 s before, 1.19-1.46 times the command floor of the same run; 0.51-0.68
  s after, 0.94-1.13 times it (the floors themselves read 0.49-0.68 s in these runs).
- Filters name table columns as well, so a filtered list stays Core (the same SQL).
- The list loads no pydantic model of the portfolio: the command prints the page the
  API sends (``PortfolioService.list_programs_json``, plain data in ``ProgramList``'s
  shape, byte-for-byte its JSON), and the service, fields and reading modules import
  ``portfolio.schemas`` only where a model is built (get, create, update). Building
  those schemas was 30-42 ms of the command. Wall (this bench, medians of 5, load 0.3):
  0.516 s before, 0.436 s after, against a command floor of 0.426-0.432 s.
  ``tests/test_cli.py`` checks what a list may not load.

Measured and not taken: deferring the input schemas' build (``defer_build=True`` on
``StrictModel``: 2377 -> 2226 alone) breaks FastAPI with pydantic 2.14 (a deferred
model as a body or query parameter raises ``UnsupportedFieldAttributeWarning`` when
the route is declared); deferring the response-only schemas saves nothing (2369);
keeping the collector off for the whole command saves 1 % more (2124) at the cost of
memory in long commands; a lazy ``pycountry`` import saves nothing (the catalog
needs it at load).

Left: the command is within a few per cent of the command floor, which is typer's and
pydantic's own start-up.
What remains is the ORM: the portfolio's models import the reference models (the
tables their foreign keys name) and ``core.memo`` the core models, so 24 mapped
classes are declared for a read of seven tables; and the pydantic schema builds
of ``portfolio.schemas``' input models (a module of their own, or a FastAPI-safe way
to defer them).
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
            "command floor: + pydantic.main, typer._adapters, sqlite dialect": [
                py,
                "-c",
                "import sqlalchemy.orm, sqlalchemy.dialects.sqlite, pydantic.main, typer._adapters",
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
    rows: list[dict[str, Any]] = []
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
    wall_s = cli["wall s (median)"]
    cli["target"] = f"< {TARGET_S} s wall: " + ("met" if wall_s < TARGET_S else "MISSED")
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
