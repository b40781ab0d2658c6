"""Overlap detection: pairs of activities that likely duplicate each other, with reasons.

:func:`find_overlaps` is the one entry point. It cleans the input by stated rules,
prepares arrays, searches candidate pairs by partner blocks (or, for reference, all
pairs), scores them (:mod:`.scoring`), applies reviewers' marks and explains every pair
in plain words. See docs/coordination.md for the score, its calibration and the rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ssaplan.coordination.engine import text as textmod
from ssaplan.coordination.engine.records import (
    MARKS,
    SOURCES,
    Activity,
    OverlapConfig,
    pair_key,
)
from ssaplan.coordination.engine.scoring import Prepared, Scored, score_pairs
from ssaplan.coordination.engine.search import (
    Progress,
    SearchStats,
    blocked_search,
    brute_force,
)
from ssaplan.core.errors import Detail, Invalid

KINDS = ("program-program", "program-donor", "donor-donor")


@dataclass(frozen=True)
class OverlapPair:
    """Two activities that may duplicate each other: ``a`` and ``b`` are their own ids
    (a program before a donor activity, else by id), ``score`` in [0, 1], ``likely``
    whether it reaches the threshold (and was not dismissed by a reviewer)."""

    a: str
    b: str
    score: float
    likely: bool
    reasons: tuple[str, ...]
    kind: str
    components: Mapping[str, float | None]
    flags: tuple[str, ...] = ()
    mark: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "score": round(self.score, 3),
            "likely": self.likely,
            "reasons": list(self.reasons),
            "kind": self.kind,
            "components": dict(self.components),
            "flags": list(self.flags),
            "mark": self.mark,
        }


@dataclass(frozen=True)
class Skipped:
    """An activity left out of the comparison, and why."""

    id: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "reason": self.reason}


@dataclass(frozen=True)
class OverlapResult:
    """The pairs found (best first), activities skipped, marks whose activities are gone."""

    pairs: tuple[OverlapPair, ...]
    skipped: tuple[Skipped, ...]
    orphan_marks: tuple[tuple[str, str], ...]
    stats: Mapping[str, Any]

    @property
    def likely(self) -> tuple[OverlapPair, ...]:
        return tuple(pair for pair in self.pairs if pair.likely)

    def pair(self, a: str, b: str) -> OverlapPair | None:
        key = pair_key(a, b)
        return next((p for p in self.pairs if pair_key(p.a, p.b) == key), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pairs": [p.as_dict() for p in self.pairs],
            "skipped": [s.as_dict() for s in self.skipped],
            "orphan_marks": [list(m) for m in self.orphan_marks],
            "stats": dict(self.stats),
        }


def clean(activities: Iterable[Activity]) -> tuple[list[Activity], list[Skipped]]:
    """Apply the input rules: codes trimmed and upper-cased, reversed rules left to the
    scorer; an activity is skipped when its id repeats an earlier one, its source is
    unknown, it has neither title nor description, or neither country nor region."""
    kept: list[Activity] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for act in activities:
        if act.id in seen:
            skipped.append(Skipped(act.id, "duplicate id: only the first record is compared"))
            continue
        seen.add(act.id)
        if act.source not in SOURCES:
            skipped.append(Skipped(act.id, f"unknown source {act.source!r}"))
            continue
        title = (act.title or "").strip()
        description = (act.description or "").strip()
        if not title and not description:
            skipped.append(Skipped(act.id, "no title and no description: nothing to compare"))
            continue
        countries = tuple(sorted({c.strip().upper() for c in act.countries if c and c.strip()}))
        regions = tuple(sorted({r.strip() for r in act.regions if r and r.strip()}))
        if not countries and not regions:
            skipped.append(Skipped(act.id, "no country and no region: no partner to compare"))
            continue
        kept.append(
            replace(
                act,
                countries=countries,
                regions=regions,
                title=title,
                description=description,
                institution_type=(act.institution_type or "").strip() or None,
                purpose=(act.purpose or "").strip() or None,
                dac_code=(act.dac_code or "").strip() or None,
            )
        )
    kept.sort(key=lambda a: (SOURCES.index(a.source), a.id))
    return kept, skipped


def _marks(marks: Mapping[tuple[str, str], str] | None) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    problems = []
    for (a, b), mark in (marks or {}).items():
        if mark not in MARKS:
            problems.append(Detail(("marks", f"{a}|{b}"), f"mark must be one of {MARKS}"))
        out[pair_key(a, b)] = mark
    if problems:
        raise Invalid("unknown reviewer marks", problems)
    return out


def find_overlaps(
    activities: Iterable[Activity],
    *,
    regions_of: Mapping[str, Sequence[str]] | None = None,
    marks: Mapping[tuple[str, str], str] | None = None,
    config: OverlapConfig | None = None,
    vectorizer: textmod.TextVectorizer | None = None,
    country_names: Mapping[str, str] | None = None,
    method: str = "blocked",
    progress: Progress | None = None,
) -> OverlapResult:
    """Pairs of activities that likely duplicate each other.

    Parameters
    ----------
    activities : iterable of Activity
        Programs and donor activities; bad records are skipped or flagged by the rules.
    regions_of : mapping ISO3 -> region codes, optional
        Each country's regions and regional organisations (bureau, combatant command,
        memberships). Without it a region named by an activity only meets the same
        region named by another.
    marks : mapping (id, id) -> "confirmed" | "complementary" | "dismissed", optional
        Reviewers' marks; key order does not matter. Marked pairs are always reported
        (scored afresh) with their mark; dismissed pairs are never ``likely`` unless
        ``config.dismissed_are_likely``.
    config : OverlapConfig, optional
        Weights, thresholds, rules; default ``OverlapConfig.load()``.
    vectorizer : TextVectorizer, optional
        Default: the bundled TF-IDF.
    country_names : mapping ISO3 -> name, optional
        For the reasons ("same partner: Somalia"); codes are shown without it. Institution
        type and purpose codes (lower case, never an ISO3 code) may be in it too ("same
        institution type: Border management").
    method : "blocked" (default) or "brute"
        ``brute`` compares every pair (the reference for recall; small inputs only).
    progress : callable (stage, done, total), optional
        Told what a long run is doing: ``"texts"`` (0 of n, before the vectors are
        built), ``"partner blocks"`` (block after block), ``"reasons"`` (pairs explained).
    """
    cfg = config or OverlapConfig.load()
    wanted = _marks(marks)
    kept, skipped = clean(activities)
    names = dict(country_names or {})
    stats: dict[str, Any] = {"activities": len(kept), "skipped": len(skipped)}
    if len(kept) < 2:
        return OverlapResult((), tuple(skipped), tuple(sorted(wanted)), stats)
    if progress is not None:
        progress("texts", 0, len(kept))
    prep = Prepared(
        kept, regions_of=regions_of or {}, vectorizer=vectorizer or textmod.TfidfVectorizer()
    )
    if progress is not None:
        progress("texts", len(kept), len(kept))
    if method == "blocked":
        scored, search_stats = blocked_search(prep, cfg, progress)
    elif method == "brute":
        reference = brute_force(prep, cfg)
        scored, search_stats = reference.scored, SearchStats()
        search_stats.extra["above_candidate"] = reference.above_candidate
        search_stats.extra["seconds"] = round(reference.seconds, 3)
    else:
        raise Invalid("unknown method", [Detail(("method",), "use 'blocked' or 'brute'")])
    stats.update(search_stats.as_dict())
    stats["vectorizer"] = prep.vectorizer.name

    index = {id_: i for i, id_ in enumerate(prep.ids)}
    found = {(int(a), int(b)) for a, b in zip(scored.ia, scored.ib, strict=True)}
    extra_a: list[int] = []
    extra_b: list[int] = []
    orphans: list[tuple[str, str]] = []
    for a, b in sorted(wanted):
        if a not in index or b not in index or a == b:
            orphans.append((a, b))
            continue
        i, j = sorted((index[a], index[b]))
        if (i, j) not in found:
            extra_a.append(i)
            extra_b.append(j)
    if extra_a:
        scored = Scored.concat(
            [scored, score_pairs(prep, cfg, np.array(extra_a), np.array(extra_b))]
        )
    # Python lists, not numpy scalars: explaining is a Python loop over the pairs
    columns = {name: getattr(scored, name).tolist() for name in Scored.__dataclass_fields__}
    per_activity = {
        name: getattr(prep, name).tolist()
        for name in (
            "dated",
            "reversed",
            "inst_inferred",
            "has_description",
            "dac5",
            "dac3",
            "source",
        )
    }
    if progress is not None:
        progress("reasons", 0, len(scored))
    pairs = [
        _explain(prep, cfg, columns, per_activity, k, wanted, names) for k in range(len(scored))
    ]
    if progress is not None:
        progress("reasons", len(scored), len(scored))
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    stats["pairs"] = len(pairs)
    stats["likely"] = sum(p.likely for p in pairs)
    return OverlapResult(tuple(pairs), tuple(skipped), tuple(orphans), stats)


# --- explanations --------------------------------------------------------------------


def _num(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 3)


def _name(code: str | None, names: Mapping[str, str]) -> str:
    if code is None:
        return "unknown"
    return names.get(code, code)


def _explain(
    p: Prepared,
    cfg: OverlapConfig,
    s: Mapping[str, list[Any]],
    rows: Mapping[str, list[Any]],
    k: int,
    marks: Mapping[tuple[str, str], str],
    names: Mapping[str, str],
) -> OverlapPair:
    i, j = int(s["ia"][k]), int(s["ib"][k])
    a, b = p.activities[i], p.activities[j]
    reasons: list[str] = []
    flags: list[str] = []
    halved = f"score x{cfg.contradiction_factor:g}"

    # partner
    shared = sorted(set(a.countries) & set(b.countries))
    if shared and set(a.countries) == set(b.countries):
        label = "same partner" if len(shared) == 1 else "same partners"
        reasons.append(f"{label}: {', '.join(_name(c, names) for c in shared)}")
    elif shared:
        union = len(set(a.countries) | set(b.countries))
        listed = ", ".join(_name(c, names) for c in shared)
        reasons.append(f"partners overlap: {listed} ({len(shared)} of {union} countries)")
    for x, y in ((a, b), (b, a)):
        via = sorted(
            {
                c
                for c in set(x.countries) - set(y.countries)
                for r in y.regions
                if c in p.members.get(r, ())
            }
        )
        if via:
            regions = ", ".join(sorted(r for r in y.regions if set(via) & p.members.get(r, set())))
            reasons.append(
                f"regional overlap: {', '.join(_name(c, names) for c in via)} in {regions} ({y.id})"
            )
    if not a.countries and not b.countries and set(a.regions) & set(b.regions):
        reasons.append(f"same regions: {', '.join(sorted(set(a.regions) & set(b.regions)))}")
    for x in (a, b):
        if not x.countries:
            flags.append(f"{x.id}:no_country")
            reasons.append(f"no country on {x.id}: partner compared through its regions")

    # period
    if math.isnan(s["period"][k]):
        for x, ok in ((a, rows["dated"][i]), (b, rows["dated"][j])):
            if not ok:
                flags.append(f"{x.id}:no_dates")
                reasons.append(f"no dates on {x.id}: period not compared")
    elif s["period"][k] > 0:
        reasons.append(f"periods overlap {round(100 * float(s['period'][k]))}%")
    else:
        reasons.append(f"periods do not overlap ({halved})")
    for x, idx in ((a, i), (b, j)):
        if rows["reversed"][idx]:
            flags.append(f"{x.id}:dates_reversed")
            reasons.append(f"end before start on {x.id}: dates swapped")

    # institution type
    ta, tb = p.inst_names[i], p.inst_names[j]
    for x, idx, t in ((a, i, ta), (b, j, tb)):
        if rows["inst_inferred"][idx]:
            flags.append(f"{x.id}:institution_inferred")
            reasons.append(
                f"institution type of {x.id} inferred from DAC code {x.dac_code}: {_name(t, names)}"
            )
    if ta and tb:
        if ta == tb:
            reasons.append(f"same institution type: {_name(ta, names)}")
        elif s["institution"][k] > 0:
            reasons.append(f"related institution types: {_name(ta, names)} ~ {_name(tb, names)}")
        else:
            reasons.append(
                f"different institution types: {_name(ta, names)} vs {_name(tb, names)} ({halved})"
            )
    else:
        missing = ", ".join(x.id for x, t in ((a, ta), (b, tb)) if not t)
        reasons.append(f"institution type unknown for {missing}: not compared")

    # purpose and DAC code
    if a.purpose and b.purpose:
        if a.purpose == b.purpose:
            reasons.append(f"same purpose: {_name(a.purpose, names)}")
        elif p.purpose_rel[p.purpose[i], p.purpose[j]] > 0:
            reasons.append(
                f"related purposes: {_name(a.purpose, names)} ~ {_name(b.purpose, names)}"
            )
        else:
            reasons.append(
                f"different purposes: {_name(a.purpose, names)} vs {_name(b.purpose, names)}"
            )
    if rows["dac5"][i] >= 0 and rows["dac5"][j] >= 0:
        if rows["dac5"][i] == rows["dac5"][j]:
            reasons.append(f"same DAC code: {a.dac_code}")
        elif rows["dac3"][i] == rows["dac3"][j]:
            reasons.append(f"same DAC category: {str(a.dac_code)[:3]}")
        else:
            reasons.append(f"different DAC codes: {a.dac_code} vs {b.dac_code}")

    # text
    value = float(s["text"][k])
    no_desc = [x.id for x, idx in ((a, i), (b, j)) if not rows["has_description"][idx]]
    for x_id in no_desc:
        flags.append(f"{x_id}:no_description")
    subject = "descriptions" if not no_desc else f"titles (no description on {', '.join(no_desc)})"
    if value >= 0.5:
        reasons.append(f"{subject} similar ({value:.2f})")
    elif value >= cfg.candidate_text:
        reasons.append(f"{subject} partly similar ({value:.2f})")
    else:
        reasons.append(f"{subject} not similar ({value:.2f})")
    if s["language_mismatch"][k]:
        flags.append("language_mismatch")
        la, lb = p.language_names[i], p.language_names[j]
        reasons.append(
            f"different languages ({la}, {lb}): text similarity not comparable, weighted down"
        )

    mark = marks.get(pair_key(a.id, b.id))
    score = float(s["score"][k])
    likely = score >= cfg.likely
    if mark:
        reasons.append(f"reviewer marked: {mark}")
        if mark == "dismissed" and not cfg.dismissed_are_likely:
            likely = False
    kind = KINDS[int(rows["source"][i]) + int(rows["source"][j])]
    components = {
        "partner": _num(s["partner"][k]),
        "period": _num(s["period"][k]),
        "institution": _num(s["institution"][k]),
        "purpose": _num(s["purpose"][k]),
        "text": _num(s["text"][k]),
        "cosine": _num(s["cosine"][k]),
        "contradictions": int(s["contradictions"][k]),
    }
    return OverlapPair(
        a=a.id,
        b=b.id,
        score=score,
        likely=bool(likely),
        reasons=tuple(reasons),
        kind=kind,
        components=components,
        flags=tuple(flags),
        mark=mark,
    )
