"""The coverage ratchet: a run below the floor fails, the floor only ever goes up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "coverage_floor.py"
sys.path.insert(0, str(ROOT / "scripts"))
import coverage_floor  # noqa: E402  (a script, not a package)


def _report(path: Path, total: float) -> Path:
    path.write_text(
        json.dumps(
            {
                "totals": {"percent_covered": total},
                "files": {
                    "src/ssaplan/a.py": {"summary": {"percent_covered": 40.0}},
                    "src/ssaplan/b.py": {"summary": {"percent_covered": 99.0}},
                },
            }
        ),
        encoding="utf-8",
    )
    return path


def test_the_floor_in_pyproject_is_set() -> None:
    floor = coverage_floor.read_floor((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert floor >= 80.0, "the branch-coverage floor must be the coverage reached, not zero"


@pytest.mark.parametrize(
    ("floor", "total", "expected"),
    [(90.0, 93.47, 93.1), (93.1, 93.2, 93.1), (93.1, 80.0, 93.1), (0.0, 50.05, 49.7)],
)
def test_raising_moves_up_by_tenths_and_never_down(
    floor: float, total: float, expected: float
) -> None:
    assert coverage_floor.raised(floor, total) == pytest.approx(expected)


def test_a_run_below_the_floor_fails_naming_both_figures(tmp_path: Path) -> None:
    floor = coverage_floor.read_floor((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    report = _report(tmp_path / "cov.json", floor - 1.0)
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--report", str(report)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert f"{floor - 1.0:.2f}%" in run.stderr and f"{floor:.1f}%" in run.stderr
    assert "src/ssaplan/a.py" in run.stderr  # the least covered file is named


def test_a_run_at_the_floor_passes(tmp_path: Path) -> None:
    floor = coverage_floor.read_floor((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    report = _report(tmp_path / "cov.json", floor + 0.05)
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--report", str(report)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr


def test_no_report_is_its_own_exit_code(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--report", str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2 and "make test" in run.stderr
