"""Gaps: what the policy asks for that nobody funds (policy: "identify gaps").

Pure functions over plain records the service builds from strategies, the portfolio,
assessments and donor activities. Definitions (docs/coordination.md, "Gaps"):

1. **unfunded objectives**: strategy objectives no funded program serves;
2. **neglected partners**: partners in the top share of both priority and propensity
   whose funding from anyone (our programs plus other donors) is in the bottom share;
3. **uncovered cells**: institution type × purpose combinations in a partner that no
   program and no donor activity covers;
4. **expiring coverage**: objectives whose every funded program ends within N months.

A program serves an objective only while it runs: objectives and expiring coverage look
at the programs active at some point of the window ``[as_of, as_of + months]`` (a
program that has ended, or starts after the window, serves nothing in it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from ssaplan.core.errors import Detail, Invalid


@dataclass(frozen=True)
class Objective:
    """An objective of a country or regional strategy (``partner`` its country or
    region code, if it has one)."""

    id: str
    name: str = ""
    partner: str | None = None


@dataclass(frozen=True)
class Coverage:
    """A funded effort as the gap analysis sees it: a program of ours (``source``
    ``program``) or a donor activity (``donor``), the objectives it serves, where, on
    which institution type and purpose, until when, with how much money (dollars)."""

    id: str
    source: str = "program"
    objectives: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    institution_type: str | None = None
    purpose: str | None = None
    end: date | None = None
    usd: int | float = 0
    start: date | None = None

    def active_between(self, first: date, last: date) -> bool:
        """Whether the effort runs at some point from ``first`` to ``last`` (inclusive);
        a missing start or end is taken as open."""
        return (self.start is None or self.start <= last) and (
            self.end is None or self.end >= first
        )


@dataclass(frozen=True)
class PartnerStanding:
    """A partner's priority (set by policy) and propensity (from the assessment)."""

    partner: str
    priority: float
    propensity: float


@dataclass(frozen=True)
class Gap:
    """One gap: its kind, the subject (objective id, partner, or partner with a cell),
    a human sentence and the figures behind it."""

    kind: str
    subject: str
    reason: str
    figures: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "reason": self.reason,
            "figures": dict(self.figures),
        }


def _funded(coverage: Iterable[Coverage]) -> list[Coverage]:
    return [c for c in coverage if c.usd > 0]


def unfunded_objectives(
    objectives: Iterable[Objective],
    coverage: Iterable[Coverage],
    *,
    as_of: date,
    months: int = 12,
) -> tuple[Gap, ...]:
    """Objectives that no program with money (> 0 dollars) serves while active in the
    window from ``as_of`` to ``months`` later. A program that ended before ``as_of`` or
    starts after the window does not count: it serves nothing now."""
    horizon = add_months(as_of, months)
    served = {
        o for c in _funded(coverage) if c.active_between(as_of, horizon) for o in c.objectives
    }
    return tuple(
        Gap(
            "unfunded_objective",
            o.id,
            f"no funded program serves {o.name or o.id} between {as_of.isoformat()} "
            f"and {horizon.isoformat()}",
            {"partner": o.partner, "as_of": as_of.isoformat(), "horizon": horizon.isoformat()},
        )
        for o in objectives
        if o.id not in served
    )


def neglected_partners(
    standings: Iterable[PartnerStanding],
    funding: Mapping[str, float],
    *,
    top_share: float = 1 / 3,
    bottom_share: float = 1 / 3,
) -> tuple[Gap, ...]:
    """Partners in the top ``top_share`` of priority and of propensity (by rank among the
    partners given) and in the bottom ``bottom_share`` of funding from anyone
    (``funding``: partner → dollars from our programs and other donors; missing = 0).
    Ordered by how far priority and propensity outrun funding."""
    rows = list(standings)
    if not 0 < top_share <= 1 or not 0 < bottom_share <= 1:
        raise Invalid("bad shares", [Detail(("top_share",), "shares must be in (0, 1]")])
    if not rows:
        return ()
    pr = _percentile_ranks([r.priority for r in rows])
    pp = _percentile_ranks([r.propensity for r in rows])
    money = [float(funding.get(r.partner, 0.0)) for r in rows]
    fr = _percentile_ranks(money)
    out = []
    for k, r in enumerate(rows):
        if pr[k] >= 1 - top_share and pp[k] >= 1 - top_share and fr[k] <= bottom_share:
            out.append(
                (
                    -(pr[k] + pp[k]) / 2 + fr[k],
                    Gap(
                        "neglected_partner",
                        r.partner,
                        f"{r.partner}: priority and propensity in the top {top_share:.0%} "
                        f"but funding in the bottom {bottom_share:.0%}",
                        {
                            "priority": r.priority,
                            "propensity": r.propensity,
                            "usd": int(round(money[k])),
                            "priority_rank": round(pr[k], 3),
                            "propensity_rank": round(pp[k], 3),
                            "funding_rank": round(fr[k], 3),
                        },
                    ),
                )
            )
    return tuple(g for _, g in sorted(out, key=lambda x: (x[0], x[1].subject)))


def _percentile_ranks(values: Sequence[float]) -> np.ndarray:
    """Mid-rank percentiles in [0, 1] (ties share their mean rank; one value gives 1)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 1:
        return np.ones(1)
    order = x.argsort(kind="stable")
    ranks = np.empty(n)
    ranks[order] = np.arange(n)
    for value in np.unique(x):
        tied = x == value
        ranks[tied] = ranks[tied].mean()
    return ranks / (n - 1)


def uncovered_cells(
    partners: Iterable[str],
    coverage: Iterable[Coverage],
    *,
    institution_types: Sequence[str],
    purposes: Sequence[str],
) -> tuple[Gap, ...]:
    """Institution type × purpose cells of each partner that no funded program or donor
    activity covers. An effort without a purpose covers every purpose of its institution
    type (donor activities rarely say which policy purpose they serve)."""
    covered: set[tuple[str, str, str]] = set()
    for c in _funded(coverage):
        if not c.institution_type:
            continue
        for partner in c.partners:
            for purpose in [c.purpose] if c.purpose else purposes:
                covered.add((partner, c.institution_type, purpose))
    out = []
    for partner in partners:
        for inst in institution_types:
            for purpose in purposes:
                if (partner, inst, purpose) not in covered:
                    out.append(
                        Gap(
                            "uncovered_cell",
                            f"{partner}/{inst}/{purpose}",
                            f"nobody covers {inst} x {purpose} in {partner}",
                            {"partner": partner, "institution_type": inst, "purpose": purpose},
                        )
                    )
    return tuple(out)


def add_months(d: date, months: int) -> date:
    """``d`` moved by ``months`` calendar months, the day clamped to the month's last."""
    month = d.month - 1 + months
    year = d.year + month // 12
    month = month % 12 + 1
    days = [
        31,
        29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return date(year, month, min(d.day, days))


def expiring_coverage(
    objectives: Iterable[Objective],
    coverage: Iterable[Coverage],
    *,
    as_of: date,
    months: int = 12,
) -> tuple[Gap, ...]:
    """Objectives whose funded programs active in the window (``as_of`` to ``months``
    later) all end within it (a program with no end date is taken as continuing).
    Programs that start after the window are listed as ``successors``: they do not
    close the gap that opens when the last current program ends. Objectives with no
    active program at all are :func:`unfunded_objectives`, not listed here."""
    horizon = add_months(as_of, months)
    by_objective: dict[str, list[Coverage]] = {}
    later: dict[str, list[Coverage]] = {}
    for c in _funded(coverage):
        if c.active_between(as_of, horizon):
            target = by_objective
        elif c.start is not None and c.start > horizon:
            target = later
        else:
            continue  # already ended: it covers nothing any more
        for objective_id in c.objectives:
            target.setdefault(objective_id, []).append(c)
    out = []
    for o in objectives:
        serving = by_objective.get(o.id, [])
        if serving and all(c.end is not None and c.end <= horizon for c in serving):
            last = max(c.end for c in serving if c.end is not None)
            successors = sorted(later.get(o.id, []), key=lambda c: (c.start or horizon, c.id))
            out.append(
                Gap(
                    "expiring_coverage",
                    o.id,
                    f"every program serving {o.name or o.id} ends by {last.isoformat()}",
                    {
                        "partner": o.partner,
                        "programs": sorted(c.id for c in serving),
                        "last_end": last.isoformat(),
                        "horizon": horizon.isoformat(),
                        "successors": [c.id for c in successors],
                        "next_start": (
                            successors[0].start.isoformat()
                            if successors and successors[0].start
                            else None
                        ),
                    },
                )
            )
    return tuple(out)
