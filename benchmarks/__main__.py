"""``make bench``: run every ``benchmarks/bench_*.py`` (or those named) and print tables.

Each module exposes ``TITLE`` and ``run(quick: bool) -> list[dict]``; every row names
what was measured and its baseline from the same run. Results also go to
``benchmarks/results/<name>.json`` (not committed).

    python -m benchmarks                 # all
    python -m benchmarks portfolio_api   # one
    python -m benchmarks --quick         # smaller inputs, for a smoke run
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no rows)"
    cols = list(rows[0])
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += [
        "  ".join(
            v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in zip(row, widths, strict=True)
        )
        for row in cells
    ]
    return "\n".join(out)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return "" if v is None else str(v)


def _numeric(v: str) -> bool:
    return v.replace(",", "").replace(".", "").replace("-", "").isdigit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default all: {', '.join(available())})"
    )
    parser.add_argument("--quick", action="store_true", help="smaller inputs")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    print(
        f"machine: {platform.machine()}, python {platform.python_version()}, {platform.platform()}"
    )
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"\n== {module.TITLE} ==", flush=True)
        started = time.perf_counter()
        rows = module.run(quick=args.quick)
        print(table(rows))
        print(f"({time.perf_counter() - started:.1f} s)")
        (out_dir / f"{name}.json").write_text(
            json.dumps({"title": module.TITLE, "rows": rows}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
