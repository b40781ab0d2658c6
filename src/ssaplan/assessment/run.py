"""One assessment run, computed from its inputs: pure, so a saved run can be recomputed
from what it stored and checked number for number.

:func:`compute` takes the framework, the settings and the :class:`Inputs` (panels of
raw values, money, policy inputs) and returns an immutable :class:`AssessmentRun`
holding every result and analysis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ssaplan.assessment import analyses, engine
from ssaplan.assessment.engine import FloatArray, Panel
from ssaplan.assessment.framework import Framework

METHOD = "default"
MAX_DRAWS = 200_000


@dataclass(frozen=True)
class Settings:
    """How a run is computed (everything but the year and the framework)."""

    window: int = engine.DEFAULT_WINDOW
    draws: int = engine.DEFAULT_DRAWS
    concentration: float = engine.DEFAULT_CONCENTRATION
    top_tier: float = engine.DEFAULT_TOP_TIER
    seed: int = engine.DEFAULT_SEED
    flag_below: float = engine.DEFAULT_FLAG_BELOW
    tier_weight: float = 0.5
    lookback: int = 5

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Inputs:
    """Everything a run reads, as arrays over the same country order."""

    year: int
    panel: Panel  # the framework's measures for year Y
    previous: Panel | None  # the same for Y - 1, for the change analysis
    funding: FloatArray  # (n,) planned dollars in fiscal year Y
    tiers: FloatArray  # (n,) priority tier, NaN where unset
    relevance: FloatArray  # (n, o) relevance to each objective
    objectives: tuple[str, ...]  # (o,)
    importance: FloatArray  # (o,)
    judgments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    regions: Mapping[str, tuple[str, str, frozenset[str]]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def countries(self) -> tuple[str, ...]:
        return self.panel.countries


def _num(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class AssessmentRun:
    """The results of one run: propensity, sensitivity, priority and the analyses."""

    framework: Framework
    settings: Settings
    inputs: Inputs
    propensity: engine.PropensityResult
    sensitivity: engine.SensitivityResult
    priority: FloatArray
    quadrants: analyses.QuadrantResult
    mismatch: analyses.MismatchResult
    regions: tuple[analyses.RegionRollup, ...]
    changes: tuple[analyses.Change, ...]
    warnings: tuple[str, ...]

    @property
    def year(self) -> int:
        return self.inputs.year

    @property
    def countries(self) -> tuple[str, ...]:
        return self.inputs.countries

    def country_rows(self) -> list[dict[str, Any]]:
        """One entry per country, best rank first (unranked last)."""
        p, s = self.propensity, self.sensitivity
        rows = []
        for i, iso3 in enumerate(self.countries):
            rows.append(
                {
                    "iso3": iso3,
                    "name": self.inputs.names.get(iso3, iso3),
                    "propensity": _num(p.propensity[i]),
                    "priority": _num(self.priority[i]),
                    "completeness": float(p.completeness[i]),
                    "flagged": bool(p.flagged[i]),
                    "constructs": {
                        c: _num(p.construct_scores[i, k]) for k, c in enumerate(p.constructs)
                    },
                    "rank": int(p.rank[i]) or None,
                    "rank_p05": int(s.rank_p05[i]) or None,
                    "rank_p95": int(s.rank_p95[i]) or None,
                    "p_top": _num(s.p_top[i]),
                    "quadrant": self.quadrants.labels[i],
                    "funding": float(self.inputs.funding[i]),
                }
            )
        rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["iso3"]))
        return rows

    def analyses_dict(self) -> dict[str, Any]:
        """The analyses as plain JSON (what a saved assessment keeps)."""
        countries = self.countries
        m = self.mismatch

        def mismatch_row(i: int) -> dict[str, Any]:
            return {
                "iso3": countries[i],
                "funding": float(m.funding[i]),
                "propensity": _num(self.propensity.propensity[i]),
                "priority": _num(self.priority[i]),
                "funding_share": _num(m.funding_share[i]),
                "merit_share": _num(m.merit_share[i]),
                "gap": _num(m.gap[i]),
            }

        movers = sorted(
            (c for c in self.changes if c.delta is not None), key=lambda c: -abs(c.delta or 0.0)
        )
        return {
            "quadrants": {
                "propensity_cut": self.quadrants.propensity_cut,
                "priority_cut": self.quadrants.priority_cut,
                "counts": self.quadrants.counts(),
                "labels": dict(analyses.QUADRANTS),
            },
            "mismatch": {
                "fiscal_year": self.year,
                "high_cost_cut": m.high_cost_cut,
                "low_funding_cut": m.low_funding_cut,
                "high_cost_low_propensity": [mismatch_row(i) for i in m.high_cost_low_propensity],
                "underfunded_priority": [mismatch_row(i) for i in m.underfunded_priority],
                "gaps": [
                    mismatch_row(i)
                    for i in np.argsort(-np.nan_to_num(np.abs(m.gap), nan=-1.0))[:15]
                    if math.isfinite(m.gap[i])
                ],
            },
            "regions": [r.as_dict() for r in self.regions],
            "changes": [
                {
                    "iso3": c.iso3,
                    "previous": c.previous,
                    "current": c.current,
                    "delta": c.delta,
                    "drivers": [asdict(d) for d in c.drivers],
                }
                for c in movers
            ],
            "sensitivity": {
                "draws": self.sensitivity.draws,
                "concentration": self.sensitivity.concentration,
                "seed": self.sensitivity.seed,
                "top_n": self.sensitivity.top_n,
            },
            "warnings": list(self.warnings),
        }

    def as_dict(self) -> dict[str, Any]:
        """The ``ssaplan assess --json`` object."""
        return {
            "year": self.year,
            "framework": self.framework.label,
            "framework_sha256": self.framework.sha256,
            "method": METHOD,
            "settings": self.settings.as_dict(),
            "countries": self.country_rows(),
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        return "\n".join(
            [
                f"assessment {self.year} under {self.framework.label}",
                self.propensity.summary(),
                self.sensitivity.summary(),
                self.quadrants.summary(),
                self.mismatch.summary(),
                *(f"warning: {w}" for w in self.warnings),
            ]
        )


def validate_settings(settings: Settings) -> list[str]:
    """Problems with the settings, as messages (empty when fine)."""
    problems = []
    if not 0 <= settings.draws <= MAX_DRAWS:
        problems.append(f"draws must be 0 to {MAX_DRAWS:,}")
    if not 0 <= settings.window <= 10:
        problems.append("window must be 0 to 10 years")
    if settings.concentration <= 0:
        problems.append("concentration must be positive")
    if not 0 < settings.top_tier <= 1:
        problems.append("top_tier must be in (0, 1]")
    if not 0 <= settings.flag_below <= 1:
        problems.append("flag_below must be in [0, 1]")
    if not 0 <= settings.tier_weight <= 1:
        problems.append("tier_weight must be in [0, 1]")
    return problems


def compute(framework: Framework, settings: Settings, inputs: Inputs) -> AssessmentRun:
    """Score, test the sensitivity, prioritize and analyse, all from ``inputs``."""
    scored = engine.PropensityScorer(framework, flag_below=settings.flag_below).fit(inputs.panel)
    result = scored.result_
    sensitivity = (
        engine.WeightSensitivity(
            draws=settings.draws,
            concentration=settings.concentration,
            top_tier=settings.top_tier,
            seed=settings.seed,
        )
        .fit(result.construct_scores, framework.construct_weights)
        .result_
    )
    priority = engine.priority_scores(
        inputs.tiers, inputs.relevance, inputs.importance, tier_weight=settings.tier_weight
    )
    quads = analyses.quadrants(result.propensity, priority)
    mismatch = analyses.funding_mismatch(result.propensity, priority, inputs.funding)
    regions = analyses.regional_rollups(
        inputs.countries,
        result.propensity,
        priority,
        result.flagged,
        inputs.funding,
        inputs.regions,
    )
    changes: tuple[analyses.Change, ...] = ()
    if inputs.previous is not None:
        before = engine.PropensityScorer(framework, flag_below=settings.flag_below).fit(
            inputs.previous
        )
        changes = analyses.year_over_year(result, before.result_)
    warnings = []
    present = np.isfinite(result.panel.values).sum(axis=0) > 0
    missing = [m for m, ok in zip(result.panel.measures, present.tolist(), strict=True) if not ok]
    first = inputs.year - settings.window
    for measure in missing:
        warnings.append(f"no country has a value of {measure!r} in {first}-{inputs.year}")
    # Values of one measure from different sources are scaled together; say so, since
    # editions and sources may not be comparable (and demo values are not real ones).
    for j, row in enumerate(framework.rows):
        if row.kind != "indicator":
            continue
        sources = sorted({str(s) for s in result.panel.sources[:, j] if s})
        if len(sources) > 1:
            warnings.append(f"{row.measure!r} mixes sources: {', '.join(sources)}")
    if not np.isfinite(inputs.tiers).any():
        warnings.append("no priority tiers are set: priority is undefined for every country")
    flagged = int(result.flagged.sum())
    if flagged:
        warnings.append(
            f"{flagged} countries flagged: less than {settings.flag_below:.0%} of the construct "
            "weight had data"
        )
    return AssessmentRun(
        framework=framework,
        settings=settings,
        inputs=inputs,
        propensity=result,
        sensitivity=sensitivity,
        priority=priority,
        quadrants=quads,
        mismatch=mismatch,
        regions=regions,
        changes=changes,
        warnings=tuple(warnings),
    )
