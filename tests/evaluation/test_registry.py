"""The evaluation registry's service: create, read, change, delete, audit, scope, refusals
(each refusal names the field and writes nothing), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from sqlalchemy import func, select

from ssaplan.core.errors import Forbidden, Invalid, NotFound, StaleVersion
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor, Grant
from ssaplan.core.store import Store
from ssaplan.evaluation import models, schemas
from ssaplan.evaluation.models import Evaluation
from ssaplan.evaluation.schemas import EstimateIn, EvaluationCreate, EvaluationUpdate
from ssaplan.evaluation.service import EvaluationService
from ssaplan.portfolio.schemas import ProgramCreate
from ssaplan.portfolio.service import PortfolioService
from tests.conftest import OPERATOR


def completed(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Impact of police investigations training",
        "evaluation_type": "impact",
        "status": "completed",
        "objective": "G1.2",
        "agency": "State/INL",
        "institution_type": "police",
        "purpose": "build_capacity",
        "questions": ["Did clearance rates rise?"],
        "evaluator": "An external firm",
        "independence": "external",
        "start_date": "2024-01-10",
        "end_date": "2025-06-30",
        "report_date": "2025-08-01",
        "findings": "Clearance rates rose by about two cases per hundred.",
        "estimates": [
            {
                "outcome": "Cases cleared per 100 crimes",
                "unit": "cases per 100",
                "method": "cs",
                "estimate": 2.0,
                "std_error": 0.5,
                "outcome_sd": 8.0,
                "primary": True,
            }
        ],
        "recommendations": [{"text": "Add mentoring.", "response": "accepted"}],
        "documents": [{"title": "Final report", "url": "https://example.org/report.pdf"}],
    }
    data.update(over)
    return data


def count(store: Store) -> tuple[int, int]:
    with store.session() as s:
        return (
            s.execute(select(func.count()).select_from(Evaluation)).scalar_one(),
            s.execute(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.entity_type == "evaluation")
            ).scalar_one(),
        )


def test_the_api_choices_are_the_tables_choices() -> None:
    assert get_args(schemas.EvaluationType) == models.EVALUATION_TYPES
    assert get_args(schemas.EvaluationStatus) == models.EVALUATION_STATUSES
    assert get_args(schemas.Independence) == models.INDEPENDENCE
    assert get_args(schemas.Response) == models.RESPONSES
    assert get_args(schemas.EstimateMethod) == models.ESTIMATE_METHODS


def test_create_read_update_delete_with_audit(store: Store) -> None:
    with store.transaction() as s:
        created = EvaluationService(s, OPERATOR).create(EvaluationCreate(**completed()))
    assert created.id == "EV-00001" and created.version == 1
    assert created.agency_name == "Bureau of International Narcotics and Law Enforcement Affairs"
    assert created.institution_type_name == "Police and law enforcement"
    est = created.estimates[0]
    assert est.standardized == pytest.approx(0.25) and est.standardized_se == pytest.approx(0.0625)
    with store.transaction() as s:
        updated = EvaluationService(s, OPERATOR).update(
            "EV-00001",
            EvaluationUpdate(version=1, management_response="Accepted; mentoring from FY2027."),
        )
    assert updated.version == 2 and updated.estimates == created.estimates
    with store.transaction() as s, pytest.raises(StaleVersion, match="version 1"):
        EvaluationService(s, OPERATOR).update(
            "EV-00001", EvaluationUpdate(version=1, title="Other")
        )
    with store.transaction() as s:  # the same values again: no new version, no record
        same = EvaluationService(s, OPERATOR).update(
            "EV-00001",
            EvaluationUpdate(version=2, management_response="Accepted; mentoring from FY2027."),
        )
    assert same.version == 2
    with store.transaction() as s:
        listing = EvaluationService(s, OPERATOR).list_evaluations(q="police")
        assert listing.total == 1 and listing.items[0].recommendations_open == 0
        assert listing.items[0].primary_estimate is not None
        EvaluationService(s, OPERATOR).delete("EV-00001", version=2)
    with store.session() as s:
        history = EvaluationService(s, OPERATOR).history("EV-00001")
        assert [r.action for r in history] == ["delete", "update", "create"]
        assert history[1].before["management_response"] == ""
        with pytest.raises(NotFound):
            EvaluationService(s, OPERATOR).get("EV-00001")
        with pytest.raises(NotFound, match="ids look like EV-00042"):
            EvaluationService(s, OPERATOR).get("42")
    assert count(store) == (0, 3)


def test_the_program_gives_its_agency_and_kind(store: Store) -> None:
    with store.transaction() as s:
        PortfolioService(s, OPERATOR).create(
            ProgramCreate(
                id="P-1",
                title="Coast guard boats",
                agency="DoD",
                countries=["KEN"],
                institution_type="armed_forces",
                purpose="enable",
                start="2025-01-01",
                end="2027-12-31",
                status="implementing",
            )
        )
        e = EvaluationService(s, OPERATOR).create(
            EvaluationCreate(title="Boats in use?", evaluation_type="performance", program="P-1")
        )
    assert (e.program, e.program_title, e.agency) == ("P-1", "Coast guard boats", "DoD")
    assert (e.institution_type, e.purpose) == ("armed_forces", "enable")
    # A planner of another agency may read it but not change it.
    planner = Actor("p", "planner", "State", assignments=(Grant("planner", "agency", "State"),))
    with store.transaction() as s:
        assert EvaluationService(s, planner).get(e.id).title == "Boats in use?"
        with pytest.raises(Forbidden, match="evaluation:write"):
            EvaluationService(s, planner).update(e.id, EvaluationUpdate(version=1, title="x"))
    viewer = Actor("v", "viewer")
    with store.transaction() as s, pytest.raises(Forbidden):
        EvaluationService(s, viewer).create(EvaluationCreate(**completed()))


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"program": "NOPE-1", "objective": None}, "program", "no program with id 'NOPE-1'"),
        ({"agency": "Atlantis"}, "agency", "unknown agency 'Atlantis'"),
        ({"institution_type": "wizards"}, "institution_type", "unknown institution type"),
        ({"objective": "G9.9"}, "objective", "unknown objective"),
        ({"objective": None}, "program", "give program or objective"),
        ({"end_date": "2023-01-01"}, "end_date", "is before start_date"),
        ({"findings": ""}, "findings", "records its findings"),
        ({"report_date": None}, "report_date", "has a report date"),
        ({"status": "planned"}, "status", "planned evaluation has no findings"),
    ],
)
def test_refusals_name_the_field_and_write_nothing(
    store: Store, change: dict[str, Any], field: str, message: str
) -> None:
    before = count(store)
    with store.transaction() as s, pytest.raises(Invalid) as caught:
        EvaluationService(s, OPERATOR).create(EvaluationCreate(**completed(**change)))
    assert any(d.loc[-1] == field and message in d.msg for d in caught.value.details), (
        caught.value.one_line()
    )
    assert count(store) == before


def test_two_primary_estimates_are_refused(store: Store) -> None:
    estimate = completed()["estimates"][0]
    with store.transaction() as s, pytest.raises(Invalid, match="all marked primary"):
        EvaluationService(s, OPERATOR).create(
            EvaluationCreate(**completed(estimates=[estimate, estimate]))
        )
    assert count(store) == (0, 0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"std_error": None}, "needs its uncertainty"),
        ({"std_error": None, "ci_low": 1.0}, "give both ci_low and ci_high"),
        ({"ci_low": 2.5, "ci_high": 3.0}, "must contain the estimate"),
        ({"estimate": float("nan")}, "finite"),
        ({"std_error": -1}, "greater than 0"),
        ({"method": "astrology"}, "Input should be"),
    ],
)
def test_an_estimate_needs_a_finite_value_and_its_uncertainty(
    change: dict[str, Any], message: str
) -> None:
    base = completed()["estimates"][0]
    with pytest.raises(ValueError, match=message):
        EstimateIn(**{**base, **change})


def test_documents_and_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="https://"):
        EvaluationCreate(**completed(documents=[{"title": "x", "url": "javascript:alert(1)"}]))
    with pytest.raises(ValueError, match="url or a filename"):
        EvaluationCreate(**completed(documents=[{"title": "x"}]))
    with pytest.raises(ValueError, match="64 lower-case"):
        EvaluationCreate(
            **completed(documents=[{"title": "x", "filename": "a.pdf", "sha256": "abc"}])
        )
    with pytest.raises(ValueError, match="at most 50"):
        EvaluationCreate(**completed(questions=[f"q{i}" for i in range(51)]))
    with pytest.raises(ValueError, match="appears twice"):
        EvaluationCreate(**completed(questions=["Same?", "Same?"]))
    with pytest.raises(ValueError, match="Extra inputs"):
        EvaluationCreate(**completed(colour="blue"))


def test_an_interval_alone_gives_the_standard_error(store: Store) -> None:
    estimate = {**completed()["estimates"][0], "std_error": None, "ci_low": 1.02, "ci_high": 2.98}
    with store.transaction() as s:
        e = EvaluationService(s, OPERATOR).create(
            EvaluationCreate(**completed(estimates=[estimate]))
        )
    assert e.estimates[0].standardized_se == pytest.approx(0.5 / 8, rel=1e-3)


def test_add_estimate_appends_and_versions(store: Store) -> None:
    with store.transaction() as s:
        EvaluationService(s, OPERATOR).create(EvaluationCreate(**completed()))
        extra = EstimateIn(
            outcome="Trust in police",
            unit="pp",
            method="synth",
            estimate=3.0,
            std_error=1.0,
            analysis={"method": "synth", "gaps": []},
        )
        e = EvaluationService(s, OPERATOR).add_estimate("EV-00001", extra)
    assert e.version == 2 and [x.outcome for x in e.estimates][-1] == "Trust in police"
    assert e.estimates[-1].analysis == {"method": "synth", "gaps": []}


def test_deleting_a_program_keeps_its_evaluations_and_their_evidence(store: Store) -> None:
    from ssaplan.evaluation.evidence import evidence_table

    with store.transaction() as s:
        PortfolioService(s, OPERATOR).create(
            ProgramCreate(
                id="P-2",
                title="Police training",
                agency="State/INL",
                countries=["KEN"],
                institution_type="police",
                purpose="build_capacity",
                start="2024-01-01",
                end="2025-12-31",
                status="completed",
            )
        )
        data = completed(program="P-2", objective=None, agency=None)
        data.pop("institution_type")
        data.pop("purpose")
        EvaluationService(s, OPERATOR).create(EvaluationCreate(**data))
    with store.transaction() as s:
        PortfolioService(s, OPERATOR).delete("P-2")
    with store.session() as s:
        e = EvaluationService(s, OPERATOR).get("EV-00001")
        assert e.program is None and e.institution_type == "police"
        assert [k.pooled.k for k in evidence_table(s).kinds] == [1]
