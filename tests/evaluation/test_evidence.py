"""The evidence base: pooling checked against metafor on the BCG vaccine trials, the
allocation multiplier's behaviour, and the evidence table and effectiveness built from
the registry (with the switch that turns the evidence off)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from statsmodels.stats.meta_analysis import combine_effects

from ssaplan.core.errors import Invalid
from ssaplan.core.store import Store
from ssaplan.evaluation.engine.evidence import (
    MAX_MULTIPLIER,
    effectiveness_multiplier,
    pool_effects,
)
from ssaplan.evaluation.evidence import EvidenceService, effectiveness, evidence_table
from ssaplan.evaluation.schemas import EvaluationCreate
from ssaplan.evaluation.service import EvaluationService
from tests.conftest import OPERATOR
from tests.evaluation.test_registry import completed

# Colditz et al. (1994), the BCG vaccine trials (metafor's dat.bcg): tpos, tneg, cpos, cneg.
BCG = [
    (4, 119, 11, 128),
    (6, 300, 29, 274),
    (3, 228, 11, 209),
    (62, 13536, 248, 12619),
    (33, 5036, 47, 5761),
    (180, 1361, 372, 1079),
    (8, 2537, 10, 619),
    (505, 87886, 499, 87892),
    (29, 7470, 45, 7232),
    (17, 1699, 65, 1600),
    (186, 50448, 141, 27197),
    (5, 2493, 3, 2338),
    (27, 16886, 29, 17825),
]


def bcg() -> tuple[list[float], list[float]]:
    y = [math.log((a / (a + b)) / (c / (c + d))) for a, b, c, d in BCG]
    v = [1 / a - 1 / (a + b) + 1 / c - 1 / (c + d) for a, b, c, d in BCG]
    return y, v


def test_pooling_reproduces_metafor_dersimonian_laird_on_bcg() -> None:
    y, v = bcg()
    p = pool_effects(y, np.sqrt(v))
    # metafor: rma(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg, method="DL")
    # estimate -0.7141, se 0.1787, CI [-1.0644, -0.3638], tau^2 0.3088, I^2 92.12%,
    # Q(df = 12) = 152.2330.
    assert p.k == 13
    assert p.estimate == pytest.approx(-0.7141, abs=5e-5)
    assert p.std_error == pytest.approx(0.1787, abs=5e-5)
    assert (p.ci_low, p.ci_high) == (
        pytest.approx(-1.0644, abs=5e-5),
        pytest.approx(-0.3638, abs=5e-5),
    )
    assert p.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert p.i2 == pytest.approx(0.9212, abs=5e-5)
    assert p.q == pytest.approx(152.2330, abs=5e-4)
    # statsmodels' independent implementation agrees.
    sm = combine_effects(np.array(y), np.array(v), method_re="dl")
    assert p.estimate == pytest.approx(float(sm.mean_effect_re), rel=1e-9)
    assert p.tau2 == pytest.approx(float(sm.tau2), rel=1e-9)
    assert p.fixed == pytest.approx(float(sm.mean_effect_fe), rel=1e-9)
    assert p.prediction_low is not None and p.prediction_low < p.ci_low


def test_pooling_one_estimate_and_bad_input() -> None:
    p = pool_effects([0.2], [0.05])
    assert (p.estimate, p.std_error) == (pytest.approx(0.2), pytest.approx(0.05))
    assert (p.tau2, p.q, p.prediction_low) == (0.0, None, None)
    with pytest.raises(Invalid, match="no estimates to pool"):
        pool_effects([], [])
    with pytest.raises(Invalid, match="differ in number"):
        pool_effects([0.1, 0.2], [0.1])
    with pytest.raises(Invalid, match="cannot be pooled") as caught:
        pool_effects([0.1, float("nan")], [0.1, 0.1])
    assert caught.value.details[0].loc == ("estimates", 1)
    with pytest.raises(Invalid, match="cannot be pooled"):
        pool_effects([0.1], [0.0])


def test_the_multiplier_follows_the_evidence_and_its_precision() -> None:
    assert effectiveness_multiplier(None, None) == 1.0
    assert effectiveness_multiplier(0.1, 0.01) == pytest.approx(1.0)
    precise_good = effectiveness_multiplier(0.3, 0.02)
    vague_good = effectiveness_multiplier(0.3, 0.3)
    assert precise_good > vague_good > 1.0  # imprecise evidence moves the belief less
    assert effectiveness_multiplier(0.0, 0.02) < 0.2
    assert effectiveness_multiplier(-0.5, 0.01) == 0.0  # harm: no value
    assert effectiveness_multiplier(5.0, 0.001) == MAX_MULTIPLIER
    # Heterogeneous evidence (large tau^2) moves it less than homogeneous evidence.
    assert effectiveness_multiplier(0.3, 0.02, tau2=0.09) < precise_good


def _impact(effect_sd: float, se_sd: float, **over: Any) -> EvaluationCreate:
    estimate = {
        **completed()["estimates"][0],
        "estimate": effect_sd * 8.0,
        "std_error": se_sd * 8.0,
        "outcome_sd": 8.0,
    }
    return EvaluationCreate(**completed(estimates=[estimate], **over))


def test_evidence_table_and_effectiveness_from_the_registry(store: Store) -> None:
    with store.transaction() as s:
        service = EvaluationService(s, OPERATOR)
        for effect, se in ((0.30, 0.05), (0.25, 0.06), (0.35, 0.08)):
            service.create(_impact(effect, se))
        # A kind whose evaluations found nothing.
        for effect in (0.0, -0.02):
            service.create(_impact(effect, 0.04, institution_type="justice"))
        # Left out, each with its reason:
        no_sd = {**completed()["estimates"][0], "outcome_sd": None}
        service.create(EvaluationCreate(**completed(estimates=[no_sd], title="No SD")))
        service.create(EvaluationCreate(**completed(estimates=[], title="No estimate")))
        # Not impact, not completed: not evidence at all.
        service.create(EvaluationCreate(**completed(evaluation_type="process")))
        service.create(
            EvaluationCreate(
                **completed(status="ongoing", estimates=[], findings="", report_date=None)
            )
        )
        # Less is better: a fall in the outcome is an improvement.
        fall = {**completed()["estimates"][0], "estimate": -2.4, "direction": -1}
        service.create(EvaluationCreate(**completed(estimates=[fall], institution_type="customs")))
    with store.session() as s:
        table = evidence_table(s)
        kinds = {(k.institution_type, k.purpose): k for k in table.kinds}
        police = kinds[("police", "build_capacity")]
        expected = pool_effects([0.30, 0.25, 0.35], [0.05, 0.06, 0.08])
        assert police.pooled.k == 3
        assert police.pooled.estimate == pytest.approx(expected.estimate, abs=1e-5)  # 6 digits
        assert police.institution_type_name == "Police and law enforcement"
        assert police.multiplier > 1.5
        justice = kinds[("justice", "build_capacity")]
        assert justice.multiplier < 0.5
        assert kinds[("customs", "build_capacity")].pooled.estimate == pytest.approx(0.3, abs=1e-5)
        reasons = {x.title: x.reason for x in table.excluded}
        assert "no outcome SD" in (reasons["No SD"] or "")
        assert reasons["No estimate"] == "no estimate"
        assert len(table.excluded) == 2

        with_evidence = effectiveness(s)
        without = effectiveness(s, use_evidence=False)
        assert with_evidence.of("police", "build_capacity") == pytest.approx(police.multiplier)
        assert with_evidence.of("armed_forces", "engage") == 1.0  # no evidence: the default
        assert without.of("police", "build_capacity") == 1.0
        public = EvidenceService(s, OPERATOR).effectiveness(use_evidence=False)
        assert public.kinds == [] and public.default == 1.0
        rows = EvidenceService(s, OPERATOR).effectiveness().kinds
        assert {(r.institution_type, r.k) for r in rows} >= {("police", 3), ("justice", 2)}
