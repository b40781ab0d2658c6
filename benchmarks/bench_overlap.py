"""Overlap detection over 100,000 generated activities (about 190 partners, 6 agencies
and 10 donors, 2% planted near-duplicates, a tenth of donor texts taken from the real
IATI files in ../shared when present), timed in a child process whose peak resident
memory is read from ``getrusage`` (wall and CPU seconds both reported: on a shared
machine the CPU time is the steadier figure); then, on a 10,000-activity sample, the fast method
and brute-force all-pairs cosine side by side on the same vectors, with the recall of
the fast method. Target: 100,000 in under 5 minutes on 2 cores, recall >= 0.95.

Where the time goes (100k, see the ``*_s`` columns): most of it is Python text
analysis (tokens, stems, lexicon and place-name matching: about 0.3 ms per activity)
and the language check; the sparse products within partner blocks and the vectorised
scoring take seconds; writing the reasons of the reported pairs is Python again and
grows with the number of pairs, not of activities. Brute force spends its time in the
dense all-pairs products, which grow with the square of the sample.
"""

from __future__ import annotations

import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "src" / "ssaplan" / "reference" / "data"
IATI = ROOT.parent / "shared" / "data" / "iati" / "publishers"
TITLE = "coordination: overlap detection, 100,000 activities (blocked sparse search vs brute force)"


def partners_and_regions() -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """Sovereign countries (the demo world's partners) and each one's bureau, combatant
    command and organisations, from the reference catalog."""
    with (REFERENCE / "countries.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    regions = {
        r["iso3"]: tuple(x for x in (r["bureau"], r["combatant_command"]) if x) for r in rows
    }
    with (REFERENCE / "memberships.csv").open(encoding="utf-8") as f:
        for m in csv.DictReader(f):
            regions[m["iso3"]] = regions.get(m["iso3"], ()) + (m["organization"],)
    partners = [r["iso3"] for r in rows if r["status"] == "sovereign" and r["iso3"] != "USA"]
    return partners[:190], regions


def real_texts() -> list[tuple[str, str]]:
    """Titles and descriptions of the real IATI activities in ../shared, if present."""
    if not IATI.exists():
        return []
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    out = []
    for path in sorted(IATI.glob("*.xml")):
        for act in etree.parse(str(path), parser).iter("iati-activity"):
            title = " ".join((act.findtext("title") or "").split())
            description = " ".join((act.findtext("description") or "").split())
            if title:
                out.append((title, description[:1500]))
    return out


def _world(n: int, seed: int = 2013) -> Any:
    import random

    from ssaplan.coordination.engine.synthetic import generate

    partners, regions = partners_and_regions()
    random.Random(seed).shuffle(partners)  # the big partners are not all "A..."
    return generate(n, partners=partners, regions_of=regions, seed=seed, real_texts=real_texts())


def child(n: int) -> dict[str, Any]:
    """Generate ``n`` activities, then run the fast method once (in this process)."""
    from ssaplan.coordination.engine import find_overlaps
    from ssaplan.coordination.engine.records import pair_key

    world = _world(n)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    base_rss, cpu0 = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    result = find_overlaps(world.activities, regions_of=world.regions_of)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu0
    rss_result = usage.ru_maxrss
    likely = {pair_key(p.a, p.b) for p in result.likely}
    planted = {pair_key(a, b) for a, b in world.planted}
    json.dumps(result.as_dict())  # the JSON the CLI would print is part of the job
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rss_after_generation_mb": base_rss / 1024,
        "rss_after_result_mb": rss_result / 1024,
        "stats": dict(result.stats),
        "planted": len(planted),
        "planted_found": len(planted & likely),
    }


def _run_child(n: int) -> tuple[dict[str, Any], float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_overlap", "--child", str(n)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return json.loads(out.stdout.strip().splitlines()[-1]), max(peak, before) / 1024


def side_by_side(n: int) -> dict[str, Any]:
    """Fast and brute-force on the same prepared vectors of one sample."""
    from ssaplan.coordination.engine.records import OverlapConfig
    from ssaplan.coordination.engine.scoring import Prepared
    from ssaplan.coordination.engine.search import blocked_search, brute_force
    from ssaplan.coordination.engine.text import TfidfVectorizer

    world = _world(n, seed=7)
    cfg = OverlapConfig.load()
    from ssaplan.coordination.engine.overlap import clean

    kept, _ = clean(world.activities)
    started = time.perf_counter()
    prep = Prepared(kept, regions_of=world.regions_of, vectorizer=TfidfVectorizer())
    prepare_s = time.perf_counter() - started
    started = time.perf_counter()
    fast, _stats = blocked_search(prep, cfg)
    fast_s = time.perf_counter() - started
    ref = brute_force(prep, cfg)

    def keys(scored: Any, mask: Any) -> set[tuple[int, int]]:
        return set(zip(scored.ia[mask].tolist(), scored.ib[mask].tolist(), strict=True))

    truth = keys(ref.scored, ref.scored.score >= cfg.likely)
    found = keys(fast, fast.score >= cfg.likely)
    threshold = prep.cosine_for_component(cfg.candidate_text)
    ref_cos = keys(ref.scored, ref.scored.cosine >= threshold)
    fast_cos = keys(fast, fast.cosine >= threshold)
    return {
        "n": len(kept),
        "prepare_s": prepare_s,
        "fast_s": fast_s,
        "brute_s": ref.seconds,
        "likely_brute": len(truth),
        "likely_fast": len(found),
        "recall_likely": len(truth & found) / max(len(truth), 1),
        "recall_reported_above_candidate": len(ref_cos & fast_cos) / max(len(ref_cos), 1),
        "cos_pairs_all": ref.above_candidate,
        "cos_pairs_shared_partner": ref.above_candidate_shared,
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    n_full, n_sample = (10_000, 2_000) if quick else (100_000, 10_000)
    rows: list[dict[str, Any]] = []
    result, peak_mb = _run_child(n_full)
    stats = result["stats"]
    rows.append(
        {
            "measured": f"fast (blocked), {n_full:,} activities",
            "seconds": round(result["seconds"], 1),
            "cpu_s": round(result["cpu_seconds"], 1),
            "peak_rss_mb": round(peak_mb),
            "rss_after_generation_mb": round(result["rss_after_generation_mb"]),
            "rss_before_json_mb": round(result["rss_after_result_mb"]),
            "pairs": stats["pairs"],
            "likely": stats["likely"],
            "planted_recall": round(result["planted_found"] / max(result["planted"], 1), 3),
            "blocks": stats["blocks"],
            "largest_block": stats["largest_block"],
            "block_pairs": stats["block_pairs"],
            "candidates": stats["candidates"],
            "product_s": stats["seconds_product"],
            "scoring_s": stats["seconds_scoring"],
        }
    )
    side = side_by_side(n_sample)
    rows.append(
        {
            "measured": f"sample {side['n']:,}: fast vs brute force (same vectors)",
            "seconds": round(side["fast_s"], 2),
            "brute_force_s": round(side["brute_s"], 2),
            "prepare_s": round(side["prepare_s"], 2),
            "likely_brute": side["likely_brute"],
            "likely_fast": side["likely_fast"],
            "recall_likely": round(side["recall_likely"], 4),
            "recall_cos_pairs": round(side["recall_reported_above_candidate"], 4),
            "cos_pairs_all": side["cos_pairs_all"],
            "cos_pairs_shared_partner": side["cos_pairs_shared_partner"],
        }
    )
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return [{c: row.get(c) for c in columns} for row in rows]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(int(sys.argv[2]))))
    else:
        for row in run(quick="--quick" in sys.argv):
            print(row)
