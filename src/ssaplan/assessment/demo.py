"""The ILLUSTRATIVE demo assessment: generated indicators, judgments and policy inputs
for every demo partner, and one saved assessment.

Indicator levels follow public facts (income group, fragility, political freedom;
``reference/data/country_facts.csv``): fragile states score low on governance and
absorptive capacity, rich democracies high. Priority tiers follow population,
designations, fragility and the major commitments; partners the United States does not
assist, micro-states and rich partners without a commitment get no tier.

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
from ssaplan.portfolio.demo import anchors as demo_anchors
from ssaplan.reference.catalog import Catalog, get_catalog
from ssaplan.reference.facts import Facts, get_facts

SOURCE = "demo (illustrative)"
LABEL = "ILLUSTRATIVE DEMO DATA — generated, not a real assessment."
DEMO_YEAR = 2026
YEARS = (2023, 2024, 2025, 2026)
ACTOR = Actor("demo-loader", "admin")

# A partner's latent condition (higher is better) from public facts: income group,
# fragility and political freedom (reference/data/country_facts.csv). Indicators are
# drawn around it, so rich democracies score high on governance and absorptive capacity
# and fragile states low, as the real indicators do.
INCOME_LEVEL = {"H": 1.2, "UM": 0.3, "LM": -0.25, "L": -0.75, None: -0.6}
FRAGILITY_LEVEL = {"conflict": -0.9, "fragility": -0.5, None: 0.0}
FREEDOM_LEVEL = {"F": 0.4, "PF": 0.0, "NF": -0.4, None: 0.0}
FREEDOM_RIGHTS = {"F": 1.0, "PF": 0.0, "NF": -1.2, None: 0.0}
# Tier cut-offs over the ranked priority scores: the top 12% are tier 1, and so on.
TIER_SHARES = ((1, 0.12), (2, 0.35), (3, 0.70), (4, 1.0))


def _partners(catalog: Catalog) -> list[str]:
    return sorted(
        c.iso3
        for c in catalog.countries.values()
        if c.status in ("sovereign", "other") and c.bureau and c.iso3 != "USA"
    )


def latent_condition(iso3: str, facts: Facts) -> float:
    """The deterministic part of a partner's condition (about -2 to 1.6)."""
    f = facts.countries.get(iso3)
    if f is None:
        return -0.4
    return INCOME_LEVEL[f.income_group] + FRAGILITY_LEVEL[f.fcs] + FREEDOM_LEVEL[f.freedom]


def priority_score(iso3: str, catalog: Catalog, facts: Facts) -> float | None:
    """How much a partner matters for security assistance, from public facts; None for
    partners that get no priority tier: those the United States does not assist, micro-
    states, and high-income partners without a major commitment (they buy, not receive).
    """
    f = facts.countries.get(iso3)
    if f is None or facts.no_security_assistance(iso3) or f.population < 500_000:
        return None
    anchored = iso3 in {a.iso3 for a in demo_anchors()}
    ally = "major_non_nato_ally" in facts.designated(iso3)
    if f.income_group == "H" and not anchored and not ally:
        return None
    score = math.log10(f.population) - 6.0  # 0 for a million people, 3 for a billion
    score += 2.0 if anchored else 0.0
    score += 1.2 if ally else 0.0
    score += 0.6 if iso3 in catalog.region_members("NATO") else 0.0
    score += {"conflict": 0.8, "fragility": 0.3, None: 0.0}[f.fcs]
    # Rich allies matter, but as buyers and co-operators more than as recipients.
    score -= 1.5 if f.income_group == "H" and not anchored else 0.0
    score -= 1.0 if "coup_restriction" in facts.restricted(iso3) else 0.0
    return score


def tiers(catalog: Catalog, facts: Facts, rng: random.Random) -> dict[str, int]:
    """Priority tiers (1 highest) by ranked :func:`priority_score` with a little noise."""
    scores = {}
    for iso3 in _partners(catalog):
        s = priority_score(iso3, catalog, facts)
        if s is not None:
            scores[iso3] = s + rng.gauss(0, 0.25)
    ranked = sorted(scores, key=lambda k: (-scores[k], k))
    out: dict[str, int] = {}
    for i, iso3 in enumerate(ranked):
        share = (i + 1) / len(ranked)
        out[iso3] = next(t for t, cut in TIER_SHARES if share <= cut)
    return out


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
    partners and :data:`YEARS`, drawn around each partner's latent condition."""
    catalog = catalog or get_catalog()
    facts = get_facts()
    rng = random.Random(seed * 7 + 4)  # noqa: S311 - reproducible demo data, not a secret
    framework = load_shipped()
    ranges = _ranges()
    latent = {
        iso3: latent_condition(iso3, facts) + rng.gauss(0, 0.3) for iso3 in _partners(catalog)
    }
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
        rights = row.construct == "human rights record"
        security = row.construct == "stability and security situation"
        for iso3, q in latent.items():
            f = facts.countries.get(iso3)
            income = f.income_group if f else None
            if row.measure.startswith("CPIA") and income not in ("L", "LM"):
                continue  # the CPIA covers IDA-eligible (lower-income) countries only
            if rng.random() > coverage:
                continue
            z = q
            if rights:
                z = 0.5 * q + FREEDOM_RIGHTS[f.freedom if f else None]
            if security and f is not None and f.fcs == "conflict":
                z -= 0.6
            z += 0.35 * rng.gauss(0, 1)
            trend = rng.gauss(0, 0.06)
            for t, year in enumerate(YEARS):
                level = math.tanh((z + trend * t + rng.gauss(0, 0.04)) / 1.4)
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
        facts = get_facts()
        tier_of = tiers(catalog, facts, rng)
        for iso3 in partners:
            tier = tier_of.get(iso3)
            if tier is not None:
                policy.set_tier(
                    iso3,
                    tier,
                    f"{LABEL} Tier from public facts (population, designations, fragility, "
                    "major commitments), ranked.",
                )
                # Higher tiers matter to more objectives, more strongly.
                chosen = rng.sample(objectives, rng.randint(8 - tier, 16 - 2 * tier))
                weights = {1: (1, 3, 6), 2: (2, 4, 4), 3: (3, 4, 2), 4: (5, 3, 1)}[tier]
                policy.set_relevance(iso3, {o: rng.choices((1, 2, 3), weights)[0] for o in chosen})
            base = 5.0 + 1.8 * latent_condition(iso3, facts) + rng.gauss(0, 0.6)
            for measure in judgment_measures:
                value = round(min(10.0, max(0.0, rng.gauss(base, 0.8))), 1)
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
