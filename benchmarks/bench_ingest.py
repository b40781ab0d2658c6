"""IATI import throughput and peak memory, side by side with a bare lxml iterparse.

A large file (200 MB; 20 MB with ``--quick``) is generated in a temporary folder by
repeating the real activities of a DFID IATI 1.01 file (``../shared/data/iati``) with
new identifiers. Each measurement runs in its own subprocess, started by a small
launcher that reports the child's peak memory with
``resource.getrusage(RUSAGE_CHILDREN)``; throughput is the file's size over the time
the child spent on the work itself (interpreter start-up and ``init`` excluded).

Rows:

- *bare iterparse, every element*: ``for _ in lxml.etree.iterparse(path): pass`` —
  nothing done with the elements, nothing freed (so memory grows with the file).
- *bare iterparse, activities freed*: the same parse reporting only ``iati-activity``
  end events and clearing each one: the floor any constant-memory importer pays.
- *ssaplan import into SQLite*: the real import (safety checks, versions, currency
  conversion, bulk writes, audit) in one transaction.

Targets (issue 3): at least 40% of the bare parse's throughput, under 300 MB peak.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TITLE = "IATI import: throughput and peak memory vs a bare lxml iterparse"
ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "data" / "iati" / "publishers" / "gb-1_dfid_drc__CD.xml"
TARGET_SHARE = 0.40
TARGET_PEAK_MB = 300
_IDENTIFIER = re.compile(rb"<iati-identifier>([^<]*)</iati-identifier>")


def generate(path: Path, megabytes: int) -> int:
    """Write an IATI 1.01 file of about ``megabytes`` MB; return its activity count."""
    from lxml import etree

    root = etree.parse(str(SOURCE)).getroot()
    activities = [etree.tostring(a) for a in root.iterfind("iati-activity")]
    target = megabytes * 1024 * 1024
    written = count = 0
    with path.open("wb") as out:
        out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="1.01">\n')
        while written < target:
            block = activities[count % len(activities)]
            copy = count // len(activities)
            block = _IDENTIFIER.sub(
                lambda m, c=copy: b"<iati-identifier>" + m.group(1) + b"-R%d</iati-identifier>" % c,
                block,
                count=1,
            )
            out.write(block)
            written += len(block)
            count += 1
        out.write(b"</iati-activities>\n")
    return count


# -- what the children run ---------------------------------------------------------
def _child(kind: str, path: str, db: str | None) -> dict[str, Any]:
    if kind == "bare-all":
        from lxml import etree

        started = time.perf_counter()
        for _ in etree.iterparse(path):
            pass
        return {"seconds": time.perf_counter() - started}
    if kind == "bare-stream":
        from lxml import etree

        started = time.perf_counter()
        for _event, el in etree.iterparse(path, events=("end",), tag="iati-activity"):
            el.clear(keep_tail=False)
            parent = el.getparent()
            while parent is not None and el.getprevious() is not None:
                del parent[0]
        return {"seconds": time.perf_counter() - started}
    assert db is not None
    from ssaplan.core.permissions import Actor
    from ssaplan.core.store import Store
    from ssaplan.ingest.service import IngestService

    store = Store(db)
    started = time.perf_counter()
    with store.transaction() as session:
        summary = IngestService(session, Actor("benchmark", "admin")).import_iati([Path(path)])
    seconds = time.perf_counter() - started
    store.dispose()
    return {"seconds": seconds, "activities": summary["activities"]}


_LAUNCHER = (
    "import json, resource, subprocess, sys\n"
    "out = subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True).stdout\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(json.dumps({**json.loads(out), 'peak_kb': peak}))\n"
)


def _measure(kind: str, path: Path, db: str | None = None) -> dict[str, Any]:
    child = [sys.executable, "-m", "benchmarks.bench_ingest", "--child", kind, str(path)]
    if db:
        child.append(db)
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *child],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return dict(json.loads(done.stdout))


def run(quick: bool) -> list[dict[str, Any]]:
    """Generate the file, measure the three rows, compare with the targets."""
    if not SOURCE.exists():
        raise SystemExit(f"{SOURCE} is missing: the benchmark repeats its real activities")
    megabytes = 20 if quick else 200
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ssaplan-bench-") as tmp:
        path = Path(tmp) / "big-iati.xml"
        activities = generate(path, megabytes)
        size_mb = path.stat().st_size / 1e6
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        subprocess.run(
            [sys.executable, "-m", "ssaplan.cli", "--db", db, "init"],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        results = {
            "bare iterparse, every element": _measure("bare-all", path),
            "bare iterparse, activities freed": _measure("bare-stream", path),
            "ssaplan import into SQLite": _measure("import", path, db),
        }
    bare_all = size_mb / results["bare iterparse, every element"]["seconds"]
    bare_stream = size_mb / results["bare iterparse, activities freed"]["seconds"]
    for name, r in results.items():
        throughput = size_mb / r["seconds"]
        rows.append(
            {
                "what": name,
                "file MB": round(size_mb, 1),
                "activities": r.get("activities", activities),
                "seconds": round(r["seconds"], 2),
                "MB/s": round(throughput, 1),
                "vs bare (every element)": round(throughput / bare_all, 2),
                "vs bare (activities freed)": round(throughput / bare_stream, 2),
                "peak MB": round(r["peak_kb"] / 1024, 1),
                "target": "",
            }
        )
    imported = rows[-1]
    verdict = []
    for column in ("vs bare (every element)", "vs bare (activities freed)"):
        met = imported[column] >= TARGET_SHARE
        verdict.append(f"{column.removeprefix('vs ')}: {'met' if met else 'MISSED'}")
    memory = "met" if imported["peak MB"] < TARGET_PEAK_MB else "MISSED"
    imported["target"] = (
        f">= {TARGET_SHARE:.0%} of " + ", ".join(verdict) + f"; < {TARGET_PEAK_MB} MB: {memory}"
    )
    return rows


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        result = _child(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
        print(json.dumps(result))
        sys.exit(0)
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
