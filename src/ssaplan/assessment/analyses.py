"""Analyses built on scored countries: quadrants, funding mismatch, regional roll-ups,
year-over-year change and the per-country explanation.

Pure: arrays and :class:`~ssaplan.assessment.engine.PropensityResult` in, immutable
results out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ssaplan.assessment.engine import BoolArray, FloatArray, PropensityResult

# Quadrants of priority x propensity, split at the medians of the scored countries.
QUADRANTS: Mapping[str, str] = {
    "sustain": "high priority, high propensity: invest and sustain",
    "shape_conditions": "high priority, low propensity: address conditions first, manage risk",
    "opportunity": "lower priority, high propensity: opportunity at low cost",
    "reconsider": "lower priority, low propensity: reconsider",
}


def _median(values: FloatArray) -> float | None:
    ok = values[np.isfinite(values)]
    return float(np.median(ok)) if len(ok) else None


@dataclass(frozen=True)
class QuadrantResult:
    """Each country's quadrant (None where priority or propensity is undefined)."""

    propensity_cut: float | None
    priority_cut: float | None
    labels: tuple[str | None, ...]

    def counts(self) -> dict[str, int]:
        return {q: sum(1 for label in self.labels if label == q) for q in QUADRANTS}

    def summary(self) -> str:
        if self.propensity_cut is None or self.priority_cut is None:
            return "quadrants: no country has both a priority and a propensity"
        parts = ", ".join(f"{q} {n}" for q, n in self.counts().items())
        return (
            f"quadrants split at propensity {self.propensity_cut:.1f} and priority "
            f"{self.priority_cut:.1f}: {parts}"
        )


def quadrants(
    propensity: FloatArray,
    priority: FloatArray,
    *,
    propensity_cut: float | None = None,
    priority_cut: float | None = None,
) -> QuadrantResult:
    """Place each country in a quadrant of priority x propensity.

    Parameters
    ----------
    propensity, priority : float arrays, shape (n,)
        0-100, NaN where undefined.
    propensity_cut, priority_cut : float, optional
        Where "high" starts (inclusive); default the median over the countries with
        both values defined, so the quadrants are relative to this assessment.
    """
    both = np.isfinite(propensity) & np.isfinite(priority)
    pc = propensity_cut if propensity_cut is not None else _median(propensity[both])
    qc = priority_cut if priority_cut is not None else _median(priority[both])
    labels: list[str | None] = []
    for p, q, ok in zip(propensity, priority, both, strict=True):
        if not ok or pc is None or qc is None:
            labels.append(None)
        elif q >= qc:
            labels.append("sustain" if p >= pc else "shape_conditions")
        else:
            labels.append("opportunity" if p >= pc else "reconsider")
    return QuadrantResult(pc, qc, tuple(labels))


@dataclass(frozen=True)
class MismatchResult:
    """Funding set against priority and propensity.

    ``merit_share`` is each country's share of priority x propensity, ``funding_share``
    its share of the money; ``gap = funding_share - merit_share`` (positive: more money
    than its merit share). Index lists point into the country order.
    """

    funding: FloatArray
    funding_share: FloatArray
    merit_share: FloatArray
    gap: FloatArray
    high_cost_cut: float | None
    low_funding_cut: float | None
    high_cost_low_propensity: tuple[int, ...]
    underfunded_priority: tuple[int, ...]

    def summary(self) -> str:
        total = float(np.nansum(self.funding))
        return (
            f"funding mismatch over ${total:,.0f}: {len(self.high_cost_low_propensity)} high-cost, "
            f"low-propensity partners; {len(self.underfunded_priority)} high-priority, "
            "high-propensity partners underfunded"
        )


def funding_mismatch(
    propensity: FloatArray,
    priority: FloatArray,
    funding: FloatArray,
    *,
    high_cost_quantile: float = 0.75,
) -> MismatchResult:
    """Where money and merit disagree.

    Parameters
    ----------
    propensity, priority : float arrays, shape (n,)
        0-100, NaN where undefined.
    funding : float array, shape (n,)
        Planned U.S. dollars for each country in the assessment's fiscal year.
    high_cost_quantile : float, default 0.75
        A country is "high cost" when its funding is at or above this quantile of the
        funded (positive) amounts.

    Notes
    -----
    *High cost, low propensity*: high cost and propensity below the median.
    *Underfunded*: priority and propensity both at or above their medians and funding
    below the median of the funded amounts (no money at all counts as below).
    """
    scored = np.isfinite(propensity)
    funded = funding[scored & (funding > 0)]
    high_cut = float(np.quantile(funded, high_cost_quantile)) if len(funded) else None
    low_cut = float(np.median(funded)) if len(funded) else None
    p_med = _median(propensity)
    q_med = _median(priority[scored])
    both = scored & np.isfinite(priority)
    merit = np.where(both, np.where(both, propensity, 0) * np.where(both, priority, 0), 0.0)
    merit_total = merit.sum()
    money = np.where(both, funding, 0.0)
    money_total = money.sum()
    merit_share = np.where(both, merit / merit_total if merit_total > 0 else 0.0, np.nan)
    funding_share = np.where(both, money / money_total if money_total > 0 else 0.0, np.nan)
    high_cost: list[int] = []
    under: list[int] = []
    for i in range(len(funding)):
        if not scored[i] or p_med is None:
            continue
        if high_cut is not None and funding[i] >= high_cut and propensity[i] < p_med:
            high_cost.append(i)
        if (
            both[i]
            and q_med is not None
            and priority[i] >= q_med
            and propensity[i] >= p_med
            and (low_cut is None or funding[i] < low_cut)
        ):
            under.append(i)
    return MismatchResult(
        funding=funding,
        funding_share=funding_share,
        merit_share=merit_share,
        gap=funding_share - merit_share,
        high_cost_cut=high_cut,
        low_funding_cut=low_cut,
        high_cost_low_propensity=tuple(sorted(high_cost, key=lambda i: -funding[i])),
        underfunded_priority=tuple(sorted(under, key=lambda i: -priority[i])),
    )


@dataclass(frozen=True)
class RegionRollup:
    """Propensity, priority and money of the scored members of one region."""

    code: str
    name: str
    kind: str
    members: int
    scored: int
    flagged: int
    mean_propensity: float | None
    mean_priority: float | None
    funding: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def regional_rollups(
    countries: Sequence[str],
    propensity: FloatArray,
    priority: FloatArray,
    flagged: BoolArray,
    funding: FloatArray,
    regions: Mapping[str, tuple[str, str, frozenset[str]]],
) -> tuple[RegionRollup, ...]:
    """Roll scored countries up to regions (bureaus, commands, organizations).

    Parameters
    ----------
    countries : sequence of str, length n
        ISO3 codes, in the order of the arrays.
    propensity, priority : float arrays, shape (n,)
        0-100, NaN where undefined.
    flagged : bool array, shape (n,)
        Results under the completeness threshold.
    funding : float array, shape (n,)
        Planned U.S. dollars in the assessment's fiscal year.
    regions : mapping of code -> (name, kind, member ISO3 codes)
        The groupings to roll up to.

    Returns
    -------
    tuple of RegionRollup
        One per region, in the order given. Means are over the members that have a
        value (None when none has); ``funding`` sums the members' money.
    """
    index = {c: i for i, c in enumerate(countries)}
    out = []
    for code, (name, kind, members) in regions.items():
        ids = np.array(sorted(index[m] for m in members if m in index), dtype=np.int64)
        p = propensity[ids] if len(ids) else np.array([])
        q = priority[ids] if len(ids) else np.array([])
        p_ok, q_ok = p[np.isfinite(p)], q[np.isfinite(q)]
        out.append(
            RegionRollup(
                code=code,
                name=name,
                kind=kind,
                members=len(members),
                scored=len(p_ok),
                flagged=int(flagged[ids].sum()) if len(ids) else 0,
                mean_propensity=float(p_ok.mean()) if len(p_ok) else None,
                mean_priority=float(q_ok.mean()) if len(q_ok) else None,
                funding=float(funding[ids].sum()) if len(ids) else 0.0,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Driver:
    """A measure's part in a country's change of propensity, in points."""

    measure: str
    points: float
    previous: float | None
    current: float | None


@dataclass(frozen=True)
class Change:
    """A country's propensity this year against last year, and what drove it."""

    iso3: str
    previous: float | None
    current: float | None
    delta: float | None
    drivers: tuple[Driver, ...]


def year_over_year(
    current: PropensityResult, previous: PropensityResult, *, top: int = 3
) -> tuple[Change, ...]:
    """Change of each country's propensity and the measures that moved it most.

    Parameters
    ----------
    current, previous : PropensityResult
        The same framework scored for year Y and year Y - 1 (countries are matched
        by ISO3 code; they need not be the same set).
    top : int, default 3
        How many measures to report per country, largest absolute part first.

    Returns
    -------
    tuple of Change
        One per country of ``current``; ``delta`` is None when either year has no
        score. A measure's part is the change of its contribution (points of
        propensity); all parts sum to the change. Min-max scaling is relative, so a
        measure can move a country's score when other countries' values change; the
        raw values are given so a reader can tell.
    """
    prev_index = {c: i for i, c in enumerate(previous.countries)}
    prev_cols = {m: j for j, m in enumerate(previous.panel.measures)}
    out = []
    for i, iso3 in enumerate(current.countries):
        now = current.propensity[i]
        pi = prev_index.get(iso3)
        before = previous.propensity[pi] if pi is not None else np.nan
        if pi is None or not (np.isfinite(now) and np.isfinite(before)):
            out.append(
                Change(
                    iso3,
                    float(before) if np.isfinite(before) else None,
                    float(now) if np.isfinite(now) else None,
                    None,
                    (),
                )
            )
            continue
        parts = []
        for j, measure in enumerate(current.panel.measures):
            pj = prev_cols.get(measure)
            old = previous.contributions[pi, pj] if pj is not None else 0.0
            delta = float(current.contributions[i, j] - old)
            raw_now = current.panel.values[i, j]
            raw_old = previous.panel.values[pi, pj] if pj is not None else np.nan
            parts.append(
                Driver(
                    measure,
                    delta,
                    float(raw_old) if np.isfinite(raw_old) else None,
                    float(raw_now) if np.isfinite(raw_now) else None,
                )
            )
        parts.sort(key=lambda d: -abs(d.points))
        drivers = tuple(d for d in parts[:top] if abs(d.points) > 1e-9)
        out.append(Change(iso3, float(before), float(now), float(now - before), drivers))
    return tuple(out)


def _num(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def breakdown(result: PropensityResult, iso3: str) -> dict[str, Any]:
    """One country's score explained down to each raw measure value and its source.

    Parameters
    ----------
    result : PropensityResult
        A fitted scorer's result.
    iso3 : str
        A country of ``result``.

    Returns
    -------
    dict
        ``propensity`` (0-100 or None), ``completeness`` (0-1), ``flagged``, ``rank``
        and ``constructs``: each with its set weight, its share after renormalization,
        its score (0-1 or None) and its contribution in points; each of its measures
        with the raw value, year, source, the range it was scaled over, the scaled
        value, its share within the construct and its contribution (points of
        propensity; all contributions add up to the propensity).
    """
    i = result.index(iso3)
    fw = result.framework
    panel = result.panel
    constructs = []
    for c, (name, weight) in enumerate(zip(fw.constructs, fw.construct_weights, strict=True)):
        measures = []
        for j, row in enumerate(fw.rows):
            if row.construct != name:
                continue
            measures.append(
                {
                    "measure": row.measure,
                    "kind": row.kind,
                    "direction": row.direction,
                    "weight": row.measure_weight,
                    "share": float(result.measure_shares[i, j]),
                    "value": _num(panel.values[i, j]),
                    "year": int(panel.years[i, j]) or None,
                    "source": str(panel.sources[i, j]) or None,
                    "min": _num(result.minimums[j]),
                    "max": _num(result.maximums[j]),
                    "normalized": _num(result.normalized[i, j]),
                    "contribution": float(result.contributions[i, j]),
                }
            )
        constructs.append(
            {
                "construct": name,
                "weight": weight,
                "share": float(result.construct_shares[i, c]),
                "score": _num(result.construct_scores[i, c]),
                "contribution": float(
                    sum(m["contribution"] for m in measures)  # type: ignore[misc]
                ),
                "measures": measures,
            }
        )
    return {
        "iso3": iso3,
        "propensity": _num(result.propensity[i]),
        "completeness": float(result.completeness[i]),
        "flagged": bool(result.flagged[i]),
        "rank": int(result.rank[i]) or None,
        "constructs": constructs,
    }
