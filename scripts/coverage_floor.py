"""The branch-coverage floor of the suite: check a run against it, and ratchet it up.

``make test`` measures branch coverage of ``src/ssaplan`` (pytest-cov, every xdist worker,
both back ends) and writes ``.coverage.json``. This script then compares the total with the
floor kept in ``pyproject.toml`` (``[tool.coverage.report] fail_under``):

- below the floor: the run fails, naming both figures and the files that lost most;
- more than :data:`SLACK` points above it: the run passes and says how to raise the floor.

``python scripts/coverage_floor.py --raise`` moves the floor up to the measured total less
:data:`SLACK` (the variation between two runs of the same code: thread and timing paths
differ a little). It never lowers the floor: that takes an edit a reviewer sees.

Exit codes: 0 met, 1 below the floor, 2 no measurement to read.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
REPORT = ROOT / ".coverage.json"
SLACK = 0.3  # percentage points
_FLOOR = re.compile(r"^(fail_under\s*=\s*)([0-9.]+)\s*$", re.MULTILINE)


def read_floor(text: str) -> float:
    match = _FLOOR.search(text)
    if match is None:
        raise SystemExit(f"{PYPROJECT}: no `fail_under = N` under [tool.coverage.report]")
    return float(match.group(2))


def measured(report: Path) -> tuple[float, dict[str, float]]:
    data = json.loads(report.read_text(encoding="utf-8"))
    files = {
        name: float(info["summary"]["percent_covered"]) for name, info in data["files"].items()
    }
    return float(data["totals"]["percent_covered"]), files


def raised(floor: float, total: float) -> float:
    """The floor after a run that reached ``total``: up by whole tenths, never down."""
    candidate = math.floor((total - SLACK) * 10) / 10
    return max(floor, candidate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--raise", dest="raise_floor", action="store_true")
    args = parser.parse_args(argv)
    if not args.report.exists():
        print(f"coverage: no report at {args.report} (run `make test` first)", file=sys.stderr)
        return 2
    text = PYPROJECT.read_text(encoding="utf-8")
    floor = read_floor(text)
    total, files = measured(args.report)
    if args.raise_floor:
        new = raised(floor, total)
        if new > floor:
            PYPROJECT.write_text(_FLOOR.sub(rf"\g<1>{new:.1f}", text, count=1), encoding="utf-8")
            print(f"coverage floor raised from {floor:.1f}% to {new:.1f}% (measured {total:.2f}%)")
        else:
            print(f"coverage floor stays at {floor:.1f}% (measured {total:.2f}%)")
        return 0
    if total < floor:
        worst = sorted(files.items(), key=lambda item: item[1])[:8]
        print(
            f"coverage FAILED: branch coverage {total:.2f}% is below the floor {floor:.1f}% "
            "(pyproject.toml [tool.coverage.report] fail_under). Add tests for the new code; "
            "the least covered files:",
            file=sys.stderr,
        )
        for name, percent in worst:
            print(f"  {percent:5.1f}%  {name}", file=sys.stderr)
        return 1
    hint = ""
    if total - SLACK >= floor + 0.1:
        hint = " — raise the floor: python scripts/coverage_floor.py --raise"
    print(f"coverage: {total:.2f}% branch coverage, floor {floor:.1f}%{hint}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
