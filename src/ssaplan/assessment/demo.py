"""The ILLUSTRATIVE demo assessment: generated indicators, judgments and policy inputs
for every demo partner, and one saved assessment.

Everything is generated from one seeded generator and labelled: indicator values carry
the source ``demo (illustrative)``, judgments and tiers say in their rationale that
they are generated. Values stay inside each source's published range so pages look
plausible, but they are not data about any real country.
"""

from __future__ import annotations

import math
import random
from typing import Any

from sqlalchemy import func, select

from ssaplan.assessment.framework import load_shipped
from ssaplan.assessment.indicators.layouts import public_layouts
from ssaplan.assessment.indicators.reader import Observation, ParsedFile
from ssaplan.assessment.indicators.service import IndicatorService
from ssaplan.assessment.models import Assessment
from ssaplan.assessment.policy import PolicyService, leaf_objectives
from ssaplan.assessment.run import Settings
from ssaplan.assessment.service import AssessmentService
from ssaplan.core.permissions import Actor
from ssaplan.core.spec import DemoContext
from ssaplan.core.store import Store
from ssaplan.reference.catalog import Catalog, get_catalog

SOURCE = "demo (illustrative)"
LABEL = "ILLUSTRATIVE DEMO DATA — generated, not a real assessment."
DEMO_YEAR = 2026
YEARS = (2023, 2024, 2025, 2026)
ACTOR = Actor("demo-loader", "admin")
# Allies and high-income partners start from a higher latent condition (illustrative).
STRONG = {"EU", "NATO", "GCC"}


def _partners(catalog: Catalog) -> list[str]:
    return sorted(
        c.iso3
        for c in catalog.countries.values()
        if c.status in ("sovereign", "other") and c.bureau and c.iso3 != "USA"
    )


def _ranges() -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for layout in public_layouts():
        for name in layout.measure_names():
            bounds = layout.value_range(name)
            if bounds is not None:
                out.setdefault(name, bounds)
    return out


def generate_observations(seed: int = 2013, catalog: Catalog | None = None) -> list[Observation]:
    """Illustrative values of every indicator of the default framework, for the demo
    partners and :data:`YEARS`."""
    catalog = catalog or get_catalog()
    rng = random.Random(seed * 7 + 4)  # noqa: S311 - reproducible demo data, not a secret
    framework = load_shipped()
    ranges = _ranges()
    strong = {m for org in STRONG for m in catalog.region_members(org)}
    latent = {iso3: rng.gauss(1.1 if iso3 in strong else -0.2, 0.8) for iso3 in _partners(catalog)}
    out: list[Observation] = []
    line = 0
    for row in framework.rows:
        if row.kind != "indicator":
            continue
        low, high = ranges.get(row.measure, (0.0, 1.0))
        if row.measure == "HDI":
            low, high = 0.35, 0.96
        elif row.measure.startswith("WGI"):
            low, high = -2.5, 2.5
        coverage = 0.7 if row.measure.startswith("WJP") else 1.0
        for iso3, q in latent.items():
            if row.measure.startswith("CPIA") and q > 0.3:
                continue  # the CPIA covers IDA-eligible (lower-income) countries only
            if rng.random() > coverage:
                continue
            z = 0.8 * q + 0.6 * rng.gauss(0, 1)
            trend = rng.gauss(0, 0.08)
            for t, year in enumerate(YEARS):
                level = math.tanh((z + trend * t + rng.gauss(0, 0.05)) / 1.6)
                good = 0.5 + 0.5 * level  # 0 worst, 1 best
                share = good if row.direction > 0 else 1.0 - good
                value = low + (high - low) * min(max(share, 0.0), 1.0)
                if row.measure.startswith("Freedom House"):
                    value = float(round(value))
                line += 1
                out.append(
                    Observation(iso3, year, row.measure, SOURCE, round(value, 4), None, line)
                )
    return out


def load_demo_assessment(store: Store, *, seed: int = 2013) -> dict[str, Any]:
    """Add illustrative indicators, judgments, priority tiers and objective relevance for
    the demo partners, then run and save the demo assessment for :data:`DEMO_YEAR`.

    Does nothing if the database already holds an assessment. Returns counts.
    """
    catalog = get_catalog()
    with store.transaction() as session:
        existing = session.execute(select(func.count()).select_from(Assessment)).scalar_one()
        if existing:
            return {"skipped": True, "assessments": existing}
        observations = generate_observations(seed, catalog)
        parsed = ParsedFile(
            file=SOURCE,
            sha256="",
            layout="generated",
            encoding="",
            rows=len(observations),
            observations=tuple(observations),
            missing=0,
            problems=(),
            ignored=(),
            unmatched=(),
            not_countries=(),
        )
        IndicatorService(session, ACTOR).import_files([parsed])
        rng = random.Random(seed * 11 + 3)  # noqa: S311 - reproducible demo data, not a secret
        policy = PolicyService(session, ACTOR, catalog)
        objectives = leaf_objectives(catalog)
        judgment_measures = load_shipped().measures_of("judgment")
        partners = _partners(catalog)
        for iso3 in partners:
            tier = rng.choices((1, 2, 3, 4), (0.1, 0.2, 0.35, 0.35))[0]
            policy.set_tier(iso3, tier, f"{LABEL} Tier drawn at random for the demo.")
            chosen = rng.sample(objectives, rng.randint(3, 14))
            policy.set_relevance(iso3, {o: rng.randint(1, 3) for o in chosen})
            base = rng.uniform(2.5, 8.5)
            for measure in judgment_measures:
                value = round(min(10.0, max(0.0, rng.gauss(base, 1.3))), 1)
                policy.set_judgment(
                    iso3,
                    DEMO_YEAR,
                    measure,
                    value,
                    f"{LABEL} Generated {measure.split(':', 1)[1].strip()} score.",
                )
        service = AssessmentService(session, ACTOR, catalog)
        run = service.run(year=DEMO_YEAR, settings=Settings(seed=seed))
        assessment_id = service.save(run, note=f"{LABEL} Demo assessment (seed {seed}).")
    return {
        "skipped": False,
        "observations": len(observations),
        "partners": len(partners),
        "assessment": assessment_id,
        "year": DEMO_YEAR,
        "illustrative": True,
    }


def load(ctx: DemoContext) -> dict[str, Any]:
    """The assessment's demo step (after the portfolio: its measures read the money)."""
    ctx.log("adding illustrative indicators and the demo assessment...")
    return {"assessment": load_demo_assessment(ctx.store, seed=ctx.seed)}
