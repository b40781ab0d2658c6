"""Measurements: one by one, in batches and from CSV, all or nothing, on both back ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ssaplan.core.errors import Conflict, Forbidden, Invalid
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.strategy.measurements import MeasurementService
from ssaplan.strategy.measurements_csv import read_measurements
from ssaplan.strategy.models import Measurement
from ssaplan.strategy.schemas import MeasurementIn, MeasurementUpdate
from tests.conftest import run_cli
from tests.strategy.world import ADMIN, add_strategy, indicator_id


def _item(indicator: int, period: str, value: float, **kw: Any) -> MeasurementIn:
    return MeasurementIn.model_validate(
        {
            "indicator": indicator,
            "period": period,
            "value": value,
            "quality": "B",
            "confidence": "high",
            **kw,
        }
    )


def _count(store: Store) -> int:
    with store.session() as session:
        return int(session.execute(select(func.count()).select_from(Measurement)).scalar_one())


def test_measurements_for_unknown_periods_and_breakdowns_are_refused(store: Store) -> None:
    with store.transaction() as session:
        s = add_strategy(session, [])
    annual, quarterly = indicator_id(s, "1.a"), indicator_id(s, "1.b")
    bad = [
        _item(annual, "FY2026-Q1", 1.0),  # annual indicator: quarters are unknown periods
        _item(quarterly, "FY2031-Q1", 1.0),  # after the strategy
        _item(quarterly, "FY2026-Q1", 1.0, disaggregation={"age": "18-25"}),
        _item(999_999, "FY2026", 1.0),
        _item(annual, "FY2026", 55.0),  # fine on its own
    ]
    with store.transaction() as session, pytest.raises(Invalid) as err:
        MeasurementService(session, ADMIN).save_many(bad)
    found = {tuple(d.loc): d.msg for d in err.value.details}
    assert (
        "unknown period FY2026-Q1: the indicator is collected annual"
        in found[("items", 0, "period")]
    )
    assert "the strategy runs FY2025-FY2029" in found[("items", 1, "period")]
    assert "not broken down by 'age' (it is by: sex)" in found[("items", 2, "disaggregation")]
    assert "no indicator 999999" in found[("items", 3, "indicator")]
    assert ("items", 4, "period") not in found
    assert _count(store) == 0  # all or nothing


def test_create_refuses_a_second_value_and_batches_replace_it(store: Store) -> None:
    with store.transaction() as session:
        s = add_strategy(session, [])
    quarterly = indicator_id(s, "1.b")
    with store.transaction() as session:
        service = MeasurementService(session, ADMIN)
        first = service.create(_item(quarterly, "fy2026-q1", 150.0))
        female = service.create(
            _item(quarterly, "FY2026-Q1", 40.0, disaggregation={"sex": "female"})
        )
        assert first.period == "FY2026-Q1" and female.disaggregation == {"sex": "female"}
        with pytest.raises(Conflict, match="update measurement"):
            service.create(_item(quarterly, "FY2026-Q1", 160.0))
    with store.transaction() as session:
        report = MeasurementService(session, ADMIN).save_many(
            [_item(quarterly, "FY2026-Q1", 160.0), _item(quarterly, "FY2026-Q2", 170.0)]
        )
    assert (len(report.created), len(report.updated), len(report.unchanged)) == (1, 1, 0)
    with store.transaction() as session:
        service = MeasurementService(session, ADMIN)
        changed = service.update(first.id, MeasurementUpdate(quality="A", version=2))
        assert changed.quality == "A" and changed.value == 160.0 and changed.version == 3
        listed = service.list_measurements(indicator=quarterly)
        assert listed.total == 3
        service.delete(female.id, version=1)
    assert _count(store) == 2


def test_measurements_are_written_within_the_strategys_scope(store: Store) -> None:
    with store.transaction() as session:
        s = add_strategy(session, [])
    annual = indicator_id(s, "1.a")
    dod = Actor("dod", "planner", "DoD")
    with store.transaction() as session, pytest.raises(Invalid) as err:
        MeasurementService(session, dod).save_many([_item(annual, "FY2026", 60.0)])
    assert "may not enter measurements" in err.value.details[0].msg
    analyst = Actor("analyst", "analyst")
    with store.transaction() as session:
        MeasurementService(session, analyst).save_many([_item(annual, "FY2026", 60.0)])
    with store.transaction() as session, pytest.raises(Forbidden):
        MeasurementService(session, Actor("v", "viewer")).save_many([])


CSV_OK = """strategy,indicator,period,value,quality,confidence,disaggregation,source
GHA-2025-2029,1.a,FY2025,51,B,high,,ministry
GHA-2025-2029,1.b,FY2025-Q4,205,A,medium,,implementer
GHA-2025-2029,1.b,FY2025-Q4,60,A,medium,sex=female,implementer
"""


def test_a_csv_import_is_all_or_nothing_and_names_file_line_and_column(store: Store) -> None:
    with store.transaction() as session:
        add_strategy(session, [])
    with store.transaction() as session:
        report = MeasurementService(session, ADMIN).import_csv(CSV_OK.encode(), "values.csv")
    assert (report.rows, report.created, report.updated) == (3, 3, 0)
    with store.transaction() as session:
        again = MeasurementService(session, ADMIN).import_csv(CSV_OK, "values.csv")
    assert (again.created, again.unchanged) == (0, 3)
    bad = CSV_OK + (
        "GHA-2025-2029,1.a,FY2031,1,B,high,,\n"
        "GHA-2025-2029,9.z,FY2026,1,B,high,,\n"
        "NOPE,1.a,FY2026,1,B,high,,\n"
    )
    with store.transaction() as session, pytest.raises(Invalid) as err:
        MeasurementService(session, ADMIN).import_csv(bad, "values.csv")
    locs = {tuple(d.loc): d.msg for d in err.value.details}
    assert ("values.csv", "line 6", "indicator") in locs
    assert ("values.csv", "line 7", "strategy") in locs
    with store.transaction() as session, pytest.raises(Invalid) as err:
        MeasurementService(session, ADMIN).import_csv(
            CSV_OK + "GHA-2025-2029,1.a,FY2031,1,B,high,,\n", "values.csv"
        )
    assert err.value.details[0].loc == ("values.csv", "line 5", "period")
    assert _count(store) == 3


def test_the_csv_reader_checks_every_cell() -> None:
    text = (
        "strategy,indicator,period,value,quality,confidence,colour\nS,1.a,FY2026,abc,E,sure,blue\n"
    )
    with pytest.raises(Invalid) as err:
        read_measurements(text, "f.csv")
    assert err.value.details[0].loc == ("f.csv", "line 1", "colour")
    text = "strategy,indicator,period,value,quality,confidence,disaggregation\n"
    text += "S,1.a,FY2026,abc,E,sure,sex\n,,,1,A,high,\n"
    with pytest.raises(Invalid) as err:
        read_measurements(text, "f.csv")
    locs = [d.loc for d in err.value.details]
    assert ("f.csv", "line 2", "value") in locs and ("f.csv", "line 2", "quality") in locs
    assert ("f.csv", "line 2", "confidence") in locs
    assert ("f.csv", "line 2", "disaggregation") in locs and ("f.csv", "line 3", "strategy") in locs
    with pytest.raises(Invalid, match="empty"):
        read_measurements(b"", "f.csv")
    with pytest.raises(Invalid, match="UTF-8"):
        read_measurements(b"\xff\xfe\x00", "f.csv")


def test_the_import_command(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with store.transaction() as session:
        add_strategy(session, [])
    good = tmp_path / "values.csv"
    good.write_text(CSV_OK, encoding="utf-8")
    code, out, err = run_cli(
        capsys, "--db", store.url, "--json", "import", "measurements", str(good)
    )
    assert code == 0, err
    assert '"created": 3' in out
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_OK.replace("FY2025-Q4,205", "FY2025-Q9,205"), encoding="utf-8")
    code, out, err = run_cli(capsys, "--db", store.url, "import", "measurements", str(bad))
    assert code == 1 and "bad.csv.line 3.period" in err
