"""``make test``: the whole suite against SQLite and a throwaway PostgreSQL.

Starts the PostgreSQL server (installing Debian's package first if it is missing and
we may), points the tests at it with ``SSAPLAN_TEST_PG``, runs pytest, stops the
server. Without PostgreSQL the PostgreSQL tests are skipped loudly, except in CI
(``CI=true``), where that is a failure. Extra arguments go to pytest.

A whole run (no arguments) also measures branch coverage of ``src/ssaplan`` and fails
below the floor in ``pyproject.toml`` (``scripts/coverage_floor.py``: the ratchet).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import pgtemp  # noqa: E402  (a sibling script, not a package)


def main() -> int:
    env = dict(os.environ)
    started = False
    if not env.get("SSAPLAN_TEST_PG"):
        if pgtemp.install_if_missing():
            env["SSAPLAN_TEST_PG"] = pgtemp.start()
            started = True
            print(f"throwaway PostgreSQL at {env['SSAPLAN_TEST_PG']}", file=sys.stderr)
        elif env.get("CI") == "true":
            print("PostgreSQL is required in CI but is not installed", file=sys.stderr)
            return 1
        else:
            print("WARNING: PostgreSQL not available; its tests will be skipped", file=sys.stderr)
    # Every test that starts `ssaplan` as a subprocess imports the whole stack again;
    # without cached bytecode (PYTHONDONTWRITEBYTECODE is set on some machines) each one
    # compiles SQLAlchemy, pydantic and the app from source first.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    workers = env.get("SSAPLAN_TEST_WORKERS", "2")
    whole = not sys.argv[1:]
    measure = (
        ["--cov=ssaplan", "--cov-branch", "--cov-report=", "--cov-report=json:.coverage.json"]
        if whole
        else []
    )
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-n",
        workers,
        "--dist",
        "loadgroup",
        "--durations=15",  # where the suite's time goes (CI must stay under 30 minutes)
        *measure,
        *sys.argv[1:],
    ]
    try:
        code = subprocess.call(cmd, env=env)
        if whole:
            floor = subprocess.call([sys.executable, str(HERE / "coverage_floor.py")])
            code = code or floor
        return code
    finally:
        if started:
            pgtemp.stop()


if __name__ == "__main__":
    sys.exit(main())
