"""Evaluation's step of the ILLUSTRATIVE demo world: generated evaluations of demo
programs (planned, ongoing and completed; process, performance and impact), with effect
estimates, recommendations and management responses, so the registry, the evidence
base and its allocation multipliers have something to show.

Two completed impact evaluations carry analyses the engine really ran, on generated
panels: a Callaway-Sant'Anna event study of a staggered roll-out and a synthetic
control of one partner. Everything comes from one seeded generator; every generated
evaluation says it is illustrative.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from ssaplan.core.permissions import Actor
from ssaplan.core.spec import DemoContext
from ssaplan.core.store import Store
from ssaplan.evaluation.evidence import evidence_table
from ssaplan.evaluation.models import Evaluation
from ssaplan.evaluation.schemas import (
    DocumentIn,
    EstimateIn,
    EvaluationCreate,
    RecommendationIn,
)
from ssaplan.evaluation.service import EvaluationService
from ssaplan.portfolio.models import Program

ACTOR = Actor("demo-loader", "admin")
LABEL = "ILLUSTRATIVE DEMO DATA — generated, not a real evaluation."
EVALUATIONS = 80
EVALUATORS = (
    ("Agency M&E unit", "internal"),
    ("Office of the Inspector General", "independent_office"),
    ("Bureau evaluation office", "independent_office"),
    ("Contracted evaluation firm (illustrative)", "external"),
    ("University research partner (illustrative)", "external"),
)
OUTCOMES = (
    # outcome, unit, direction, typical SD
    ("Cases cleared per 100 reported crimes", "cases per 100", 1, 8.0),
    ("Maritime interdictions per quarter", "interdictions", 1, 3.0),
    ("Reported abuses by security forces per 100,000", "reports per 100k", -1, 4.0),
    ("Share of units passing readiness inspection", "percentage points", 1, 12.0),
    ("Days from arrest to first hearing", "days", -1, 20.0),
    ("Public trust in police (survey)", "percentage points", 1, 9.0),
)
QUESTIONS = (
    "Did the program change the outcome it was designed to change, and by how much?",
    "Was the assistance delivered as planned and on time?",
    "Is the partner sustaining the capability after the program ends?",
    "Which components contributed most to results?",
    "Were human-rights safeguards applied as required?",
)
RECOMMENDATIONS = (
    "Tie the next tranche to the partner's sustainment budget line.",
    "Add a mentoring phase after initial training.",
    "Collect baseline data before activities start in new districts.",
    "Coordinate delivery schedules with the other donors in the sector.",
    "Scale down components that showed no measurable effect.",
)
RESPONSES = ("accepted", "accepted", "partially_accepted", "rejected", "pending")


def _staggered_panel(rng: np.random.Generator) -> pd.DataFrame:
    """Districts adopting a program in waves; the effect grows with exposure."""
    rows = []
    cohorts = [2019] * 8 + [2021] * 8 + [2023] * 8 + [0] * 16
    for unit, g in enumerate(cohorts):
        level = rng.normal(40, 6)
        for year in range(2016, 2026):
            treated = int(g > 0 and year >= g)
            effect = 1.5 * (year - g + 1) if treated else 0.0
            y = level + 0.8 * (year - 2016) + effect + rng.normal(0, 1.5)
            rows.append((f"district-{unit:02d}", year, y, treated))
    return pd.DataFrame(rows, columns=["unit", "year", "y", "treated"])


def _synth_panel(rng: np.random.Generator) -> pd.DataFrame:
    """One partner treated from 2020 among comparison countries with common factors."""
    factors = rng.normal(0, 1, (2, 20)).cumsum(axis=1)
    rows = []
    for unit in range(16):
        load = rng.uniform(0.5, 1.5, 2)
        base = rng.normal(50, 5)
        for t, year in enumerate(range(2006, 2026)):
            y = base + load @ factors[:, t] + rng.normal(0, 0.6)
            if unit == 0 and year >= 2020:
                y += 4.0
            rows.append(("Partner A" if unit == 0 else f"Comparison {unit:02d}", year, y))
    return pd.DataFrame(rows, columns=["unit", "year", "y"])


def _computed_estimates(seed: int) -> tuple[EstimateIn, EstimateIn]:
    """Two estimates the engine really computes, with their analyses for the charts."""
    from ssaplan.evaluation.engine import Panel, estimate_did, synthetic_control

    rng = np.random.default_rng(seed)
    frame = _staggered_panel(rng)
    panel = Panel.from_frame(frame, unit="unit", time="year", outcome="y", treated="treated")
    did = estimate_did(panel, "cs").as_dict()
    sd = float(frame.loc[frame.treated == 0, "y"].std())
    cs = EstimateIn(
        outcome="Cases cleared per 100 reported crimes (district panel)",
        unit="cases per 100",
        method="cs",
        estimate=did["estimate"],
        std_error=did["std_error"],
        outcome_sd=sd,
        primary=True,
        n_treated=did["n_treated"],
        n_control=did["n_control"],
        note="Callaway-Sant'Anna, never-treated districts as controls (generated panel).",
        analysis={k: v for k, v in did.items() if k != "group_time"},
    )
    frame = _synth_panel(rng)
    panel = Panel.from_frame(frame, unit="unit", time="year", outcome="y")
    result = synthetic_control(panel, "Partner A", 2020)
    synth = result.as_dict()
    synth["placebos"] = [
        {k: v for k, v in p.items() if k != "gaps"} for p in synth.get("placebos", [])
    ]
    sd_synth = float(frame.loc[frame.year < 2020, "y"].std())
    sc = EstimateIn(
        outcome="Maritime interdictions per quarter (country panel)",
        unit="interdictions",
        method="synth",
        estimate=synth["estimate"],
        std_error=synth["std_error"],
        outcome_sd=sd_synth,
        primary=True,
        n_treated=1,
        n_control=synth["n_control"],
        note="Synthetic control with placebo-in-space inference (generated panel).",
        analysis=synth,
    )
    return cs, sc


def generate(seed: int, programs: list[Program], as_of: date) -> list[EvaluationCreate]:
    """The demo evaluations of ``programs`` (a seeded sample of them)."""
    rng = random.Random(seed * 31 + 14)  # noqa: S311 - reproducible demo data, not a secret
    eligible = [p for p in programs if p.institution_type_id and p.purpose_id]
    chosen = rng.sample(eligible, min(EVALUATIONS, len(eligible)))
    kinds = sorted({(p.institution_type_id, p.purpose_id) for p in chosen})
    # The illustrative "truth" per kind, in SDs of the outcome: most help a little, some
    # do nothing, one kind is counterproductive.
    truth = {k: rng.gauss(0.12, 0.1) for k in kinds}
    computed = list(_computed_estimates(seed))
    items: list[EvaluationCreate] = []
    for i, p in enumerate(chosen):
        kind = (p.institution_type_id, p.purpose_id)
        evaluation_type = rng.choices(("impact", "performance", "process"), (5, 3, 2))[0]
        status = rng.choices(("completed", "ongoing", "planned"), (6, 2, 2))[0]
        evaluator, independence = rng.choice(EVALUATORS)
        start = min(as_of - timedelta(days=rng.randint(60, 1400)), as_of)
        end = start + timedelta(days=rng.randint(90, 540))
        outcome, unit, direction, sd = rng.choice(OUTCOMES)
        estimates: list[EstimateIn] = []
        findings = ""
        recommendations: list[RecommendationIn] = []
        documents = [
            DocumentIn(
                title="Terms of reference",
                filename=f"tor-{i:03d}.pdf",
                media_type="application/pdf",
                size_bytes=rng.randint(80_000, 400_000),
                sha256=hashlib.sha256(f"tor {seed} {i}".encode()).hexdigest(),
            )
        ]
        if status == "completed":
            end = min(end, as_of - timedelta(days=30))
            start = min(start, end - timedelta(days=90))
            findings = (
                f"{LABEL} The evaluation found results on {outcome.lower()} "
                "in line with the estimate below."
            )
            documents.append(
                DocumentIn(
                    title="Final report",
                    filename=f"final-report-{i:03d}.pdf",
                    media_type="application/pdf",
                    size_bytes=rng.randint(400_000, 4_000_000),
                    sha256=hashlib.sha256(f"final {seed} {i}".encode()).hexdigest(),
                )
            )
            for text in rng.sample(RECOMMENDATIONS, rng.randint(1, 3)):
                response = rng.choice(RESPONSES)
                recommendations.append(
                    RecommendationIn(
                        text=text,
                        response=response,
                        response_text=""
                        if response == "pending"
                        else "Management response (illustrative).",
                        action=""
                        if response in ("pending", "rejected")
                        else "Included in the next annual plan.",
                        due_date=end + timedelta(days=rng.randint(90, 365))
                        if response in ("accepted", "partially_accepted")
                        else None,
                    )
                )
            if evaluation_type == "impact":
                if computed:  # the first two carry analyses the engine ran
                    estimates.append(computed.pop(0))
                else:
                    se_std = rng.uniform(0.03, 0.12)
                    effect_std = truth[kind] + rng.gauss(0, 0.04) + rng.gauss(0, se_std)
                    outcome_sd = sd * rng.uniform(0.7, 1.3)
                    estimates.append(
                        EstimateIn(
                            outcome=outcome,
                            unit=unit,
                            method=rng.choice(("cs", "sa", "synth", "randomized", "matching")),
                            estimate=round(direction * effect_std * outcome_sd, 4),
                            std_error=round(se_std * outcome_sd, 4),
                            # One in ten reports no SD: the evidence page lists it as
                            # not pooled, as real reports that omit it would be.
                            outcome_sd=round(outcome_sd, 4) if rng.random() > 0.1 else None,
                            direction=direction,
                            primary=True,
                            n_treated=rng.randint(5, 60),
                            n_control=rng.randint(10, 120),
                        )
                    )
        elif status == "ongoing":
            end = max(end, as_of + timedelta(days=30))
        items.append(
            EvaluationCreate(
                title=f"{evaluation_type.capitalize()} evaluation: {p.title}"[:300],
                evaluation_type=evaluation_type,
                status=status,
                program=p.code,
                questions=rng.sample(QUESTIONS, rng.randint(1, 3)),
                design=f"{LABEL} "
                + (
                    "Comparison of treated and untreated units before and after."
                    if evaluation_type == "impact"
                    else "Document review, site visits and interviews."
                ),
                evaluator=evaluator,
                independence=independence,
                start_date=start,
                end_date=end,
                report_date=end if status == "completed" else None,
                findings=findings,
                management_response="Management has reviewed the findings (illustrative)."
                if status == "completed"
                else "",
                estimates=estimates,
                recommendations=recommendations,
                documents=documents,
            )
        )
    return items


def load_demo_evaluations(store: Store, *, seed: int, as_of: date) -> dict[str, Any]:
    """Add the demo evaluations (nothing if the registry already has some)."""
    with store.transaction() as session:
        existing = session.execute(select(func.count()).select_from(Evaluation)).scalar_one()
        if existing:
            return {"skipped": True, "evaluations": existing}
        programs = list(
            session.execute(
                select(Program)
                .where(Program.status.in_(("implementing", "completed", "obligated")))
                .order_by(Program.id)
            ).scalars()
        )
        service = EvaluationService(session, ACTOR)
        created = [service.create(item) for item in generate(seed, programs, as_of)]
        table = evidence_table(session)
    return {
        "evaluations": len(created),
        "completed_impact": sum(
            e.status == "completed" and e.evaluation_type == "impact" for e in created
        ),
        "evidence_kinds": len(table.kinds),
    }


def load(ctx: DemoContext) -> dict[str, Any]:
    """Evaluation's demo step (after the portfolio: it evaluates the demo programs)."""
    ctx.log("adding illustrative evaluations and the evidence base...")
    return {"evaluation": load_demo_evaluations(ctx.store, seed=ctx.seed, as_of=ctx.as_of)}
