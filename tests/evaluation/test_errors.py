"""Bad panels raise specific errors that say what the method needs and how to fix it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ssaplan.core.errors import Invalid
from ssaplan.evaluation.engine import Panel, estimate_did, synthetic_control
from tests.evaluation.simulate import staggered


def frame() -> pd.DataFrame:
    return staggered(np.random.default_rng(0), units=30, periods=5)[0]


def build(f: pd.DataFrame, **kw: object) -> Panel:
    args = {"unit": "unit", "time": "year", "outcome": "y", "treated": "d", **kw}
    return Panel.from_frame(f, **args)  # type: ignore[arg-type]


def error(f: pd.DataFrame, **kw: object) -> Invalid:
    with pytest.raises(Invalid) as info:
        build(f, **kw)
    return info.value


def test_unknown_columns_are_named_with_the_ones_that_exist() -> None:
    e = error(frame(), outcome="lemp", covariates=["pop"])
    assert e.message == "unknown columns"
    assert [d.loc for d in e.details] == [("columns", "lemp"), ("columns", "pop")]
    assert "the panel has: unit, year, y, d, x" in e.details[0].msg


def test_duplicate_unit_periods_name_the_first_ones() -> None:
    f = frame()
    f = pd.concat([f, f.iloc[[0, 7, 7]]], ignore_index=True)
    e = error(f)
    assert "2 unit-periods appear more than once" in e.message
    assert "one row per unit and period" in e.message
    assert "unit 'u000' in period 2000 has 2 rows (rows 0, 150)" in e.details[0].msg
    assert "has 3 rows" in e.details[1].msg


def test_non_absorbing_treatment_names_the_unit_and_periods() -> None:
    f = frame()
    treated = f.index[(f.unit == "u000") & (f.year == 2004)]
    f.loc[treated, "d"] = 0  # u000 is treated from 2002, untreated again in 2004
    e = error(f)
    assert "treatment must be absorbing" in e.message and "1 units leave it" in e.message
    assert e.details[0].loc == ("d", "u000")
    assert e.details[0].msg == "treated from 2002 but untreated again in 2004"


def test_non_numeric_values_name_row_column_and_value() -> None:
    f = frame().astype({"y": object, "year": object})
    f.loc[5, "y"] = "n/a?"
    f.loc[9, "year"] = "2001b"
    e = error(f)
    locs = [d.loc for d in e.details]
    assert ("row", 9, "year") in locs and ("row", 5, "y") in locs
    assert "'n/a?'" in str(e) and "plain numbers" in str(e)


def test_treated_indicator_must_be_0_or_1() -> None:
    f = frame()
    f.loc[3, "d"] = 2
    e = error(f)
    assert "must be 0 or 1" in e.message and "3: 2" in e.details[0].msg


def test_all_missing_outcome() -> None:
    f = frame()
    f["y"] = np.nan
    e = error(f)
    assert e.message == "the outcome is missing everywhere"
    assert "the methods need the outcome observed" in e.details[0].msg


def test_missing_unit_or_period_and_empty_panel() -> None:
    f = frame().astype({"unit": object})
    f.loc[2, "unit"] = None
    assert "rows have no unit" in str(error(f))
    assert "no rows" in error(frame().iloc[:0]).message


def test_no_never_treated_controls_say_what_to_use_instead() -> None:
    f, _ = staggered(np.random.default_rng(1), units=30, cohorts=(2, 4), shares=(0.5, 0.5))
    panel = build(f)
    with pytest.raises(Invalid, match="no never-treated controls") as e:
        estimate_did(panel, "cs")
    assert "use control notyet" in str(e.value)
    with pytest.raises(Invalid, match="no never-treated controls") as e:
        estimate_did(panel, "sa")
    assert "use control last" in str(e.value)
    assert estimate_did(panel, "cs", control="notyet").n_control > 0


def test_no_not_yet_treated_controls_either() -> None:
    # Everyone treated at the same time: nobody to compare with.
    f, _ = staggered(np.random.default_rng(2), units=20, cohorts=(2,), shares=(1.0,))
    panel = build(f)
    for method, control in [("cs", "notyet"), ("twfe", "never"), ("sa", "last")]:
        with pytest.raises(Invalid, match="controls") as e:
            estimate_did(panel, method, control=control)
        assert "not" in str(e.value), method


def test_too_few_pre_periods_say_how_many_are_needed() -> None:
    f, _ = staggered(np.random.default_rng(3), units=20, cohorts=(0, None), shares=(0.5, 0.5))
    panel = build(f)
    for method in ("cs", "sa", "twfe"):
        with pytest.raises(Invalid, match="too few pre-periods") as e:
            estimate_did(panel, method)
        assert "at least 1" in str(e.value), method
    synth_frame = f[f.unit.isin(["u000", "u010", "u011", "u012"])]
    synth = Panel.from_frame(synth_frame, unit="unit", time="year", outcome="y")
    with pytest.raises(Invalid, match="too few pre-periods") as e:
        synthetic_control(synth, "u000", 2001)
    assert "at least 2 periods before the start" in str(e.value)
    assert "1 before" in str(e.value)


def test_a_treated_unit_that_does_not_exist() -> None:
    panel = build(frame())
    with pytest.raises(Invalid, match="unit 'Atlantis' is not in the panel") as e:
        synthetic_control(panel, "Atlantis", 2003)
    assert "u000" in str(e.value) and "exactly as the file writes it" in str(e.value)


def test_synth_needs_complete_treated_unit_and_enough_donors() -> None:
    f = frame()
    f.loc[(f.unit == "u029") & (f.year == 2001), "y"] = np.nan
    panel = Panel.from_frame(f, unit="unit", time="year", outcome="y")
    with pytest.raises(Invalid, match="treated unit has missing outcomes"):
        synthetic_control(panel, "u029", 2003)
    with pytest.raises(Invalid, match="no never-treated controls") as e:
        synthetic_control(panel, "u000", 2003, donors=["u001"])
    assert "at least 2 untreated donor units" in str(e.value)
    with pytest.raises(Invalid, match="no post-periods"):
        synthetic_control(panel, "u000", 2010)
    # Donors marked treated by the indicator are kept out of the pool.
    r = synthetic_control(build(frame()), "u029", 2003, placebos=False)
    # (periods 2000-2004: the cohort "treated" from position 5 is never treated here)
    assert r.n_control == 17 and "12 donors marked as treated" in " ".join(r.notes)


def test_bad_options() -> None:
    panel = build(frame())
    with pytest.raises(Invalid, match="unknown method"):
        estimate_did(panel, "ols")
    with pytest.raises(Invalid, match="does not apply to twfe"):
        estimate_did(panel, "twfe", control="notyet")
    with pytest.raises(Invalid, match="does not apply to sa"):
        estimate_did(panel, "sa", control="notyet")
    with pytest.raises(Invalid, match="unknown control group"):
        estimate_did(panel, "cs", control="last")
    with pytest.raises(Invalid, match="unknown aggregation"):
        estimate_did(panel, "cs", aggregation="calendar")
    no_indicator = Panel.from_frame(frame(), unit="unit", time="year", outcome="y")
    with pytest.raises(Invalid, match="no treated indicator"):
        estimate_did(no_indicator, "cs")
    with pytest.raises(Invalid, match="V weights without predictors"):
        synthetic_control(no_indicator, "u000", 2003, v=[1.0])
    with pytest.raises(Invalid, match="bad V weights"):
        synthetic_control(no_indicator, "u000", 2003, lags=[2001], v=[1.0, 2.0])


def test_collinear_covariate_is_refused() -> None:
    f = frame()
    f["x2"] = 2 * f["x"]  # time-invariant: absorbed by the unit effects
    panel = build(f, covariates=["x2"])
    with pytest.raises(Invalid, match="collinear"):
        estimate_did(panel, "twfe", covariates=["x2"])
