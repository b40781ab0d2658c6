"""The restrictions register: writes audited with the programs they affect, bad input
refused with specific errors and nothing written, CSV imports all or nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ssaplan.compliance.models import Restriction, Waiver
from ssaplan.compliance.schemas import RestrictionCreate, RestrictionUpdate, WaiverIn
from ssaplan.core import audit
from ssaplan.core.errors import Conflict, Forbidden, Invalid, StaleVersion
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from tests.compliance.conftest import add_program

HEADER = "country,type,start,end,citation,waiver_accounts,waiver_start,waiver_end\n"
SST = (
    Path(__file__).resolve().parents[2]
    / "src/ssaplan/compliance/data/state_sponsors_of_terrorism.csv"
)


def coup(**overrides: Any) -> RestrictionCreate:
    fields: dict[str, Any] = {
        "country": "MLI",
        "type": "coup",
        "start": date(2020, 8, 18),
        "citation": "Sec. 7008 determination",
    }
    fields.update(overrides)
    return RestrictionCreate(**fields)


def count(store: Store, model: Any) -> int:
    with store.session() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_create_resolves_names_audits_and_names_the_affected_programs(
    store: Store, service: Any
) -> None:
    add_program(store, "MLI-FMF")
    add_program(store, "MLI-CTPF", account="CTPF", agency="DoD")
    add_program(store, "GHA-FMF", countries=["GHA"])
    with service(write=True) as svc:
        change = svc.restrictions.create(
            coup(country="Mali", waivers=[WaiverIn(accounts=["fmf"], start=date(2026, 10, 1))])
        )
    r = change.restriction
    assert r is not None and r.country == "MLI" and r.country_name == "Mali"
    assert r.waivers[0].accounts == ["FMF"] and r.in_force and r.version == 1
    # CTPF is not reached by the coup rule; Ghana has no restriction.
    assert change.affected_programs == ("MLI-FMF",)
    with store.session() as session:
        records = audit.search(session, entity_type="restriction")
    assert records[0].action == "create" and records[0].entity_ref == f"restriction:{r.id}"
    assert records[0].summary == "affects 1 program(s) from FY2026: MLI-FMF"
    assert records[0].after and records[0].after["waivers"][0]["accounts"] == ["FMF"]


def test_the_first_write_stores_the_shipped_rules_once(store: Store, service: Any) -> None:
    with service() as svc:
        assert not svc.rules.loaded()
    with service(write=True) as svc:
        svc.restrictions.create(coup())
        svc.restrictions.create(coup(country="NER", start=date(2023, 7, 26)))
    with store.session() as session:
        loads = audit.search(session, entity_type="compliance_rules")
    assert [r.action for r in loads] == ["load"]


@pytest.mark.parametrize(
    ("overrides", "loc", "message"),
    [
        ({"country": "Narnia"}, ["body", "country"], "Narnia"),
        ({"type": "leahy"}, ["body", "type"], "Leahy vetting is per unit"),
        ({"type": "embargo"}, ["body", "type"], "unknown restriction type 'embargo'"),
        ({"end": date(2019, 1, 1)}, ["body", "end"], "ends (2019-01-01) before it starts"),
        (
            {"waivers": [WaiverIn(accounts=["NOPE"], start=date(2021, 1, 1))]},
            ["body", "waivers", 0, "accounts", 0],
            "waiver for unknown account 'NOPE'",
        ),
        (
            {
                "end": date(2021, 12, 31),
                "waivers": [WaiverIn(accounts=["FMF"], start=date(2022, 1, 1))],
            },
            ["body", "waivers", 0, "start"],
            "lies entirely outside the restriction",
        ),
        (
            {"waivers": [WaiverIn(accounts=["FMF"], start=date(2022, 1, 1), end=date(2021, 1, 1))]},
            ["body", "waivers", 0, "end"],
            "the waiver ends (2021-01-01) before it starts",
        ),
        (
            {"waivers": [WaiverIn(accounts=["FMF", "FMF"], start=date(2022, 1, 1))]},
            ["body", "waivers", 0, "accounts", 1],
            "FMF is listed twice",
        ),
    ],
)
def test_bad_restrictions_are_refused_with_specific_errors_and_nothing_written(
    store: Store, service: Any, overrides: dict[str, Any], loc: list[Any], message: str
) -> None:
    records = count(store, AuditRecord)
    with pytest.raises(Invalid) as caught, service(write=True) as svc:
        svc.restrictions.create(coup(**overrides))
    details = [(list(d.loc), d.msg) for d in caught.value.details]
    assert any(d_loc == loc and message in msg for d_loc, msg in details), details
    assert count(store, Restriction) == 0 and count(store, Waiver) == 0
    assert count(store, AuditRecord) == records  # not even the rules were stored


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2024, 1, 1), None),  # open-ended inside an open-ended period
        (date(2019, 1, 1), date(2020, 8, 18)),  # ends on the first day of the stored one
        (date(2020, 8, 18), date(2021, 1, 1)),  # same start: the same restriction
    ],
)
def test_overlapping_periods_of_one_country_and_type_are_refused(
    store: Store, service: Any, start: date, end: date | None
) -> None:
    with service(write=True) as svc:
        svc.restrictions.create(coup())
    with (
        pytest.raises(Conflict, match="overlaps the stored coup restriction on MLI"),
        service(write=True) as svc,
    ):
        svc.restrictions.create(coup(start=start, end=end))
    assert count(store, Restriction) == 1


def test_adjacent_periods_and_other_types_do_not_overlap(store: Store, service: Any) -> None:
    with service(write=True) as svc:
        svc.restrictions.create(coup(end=date(2025, 9, 30)))
        svc.restrictions.create(coup(start=date(2025, 10, 1), citation="a second coup"))
        svc.restrictions.create(coup(type="child_soldiers", citation="CSPA list"))
    assert count(store, Restriction) == 3


def test_update_replaces_waivers_refuses_stale_versions_and_ends_a_restriction(
    store: Store, service: Any
) -> None:
    add_program(store, "MLI-FMF")
    with service(write=True) as svc:
        created = svc.restrictions.create(coup()).restriction
    assert created is not None
    with service(write=True) as svc:
        change = svc.restrictions.update(
            created.id,
            RestrictionUpdate(
                waivers=[WaiverIn(accounts=["FMF"], start=date(2025, 10, 1))], version=1
            ),
        )
    assert change.restriction and change.restriction.version == 2
    assert change.affected_programs == ("MLI-FMF",)  # blocked before, waived now
    with pytest.raises(StaleVersion), service(write=True) as svc:
        svc.restrictions.update(created.id, RestrictionUpdate(citation="x", version=1))
    with service(write=True) as svc:
        ended = svc.restrictions.update(
            created.id, RestrictionUpdate(end=date(2026, 1, 31), version=2)
        )
    assert ended.restriction and ended.restriction.end == date(2026, 1, 31)
    assert not ended.restriction.in_force  # the service's day is 2026-03-01
    with pytest.raises(Invalid, match="lies entirely outside"), service(write=True) as svc:
        svc.restrictions.update(created.id, RestrictionUpdate(end=date(2024, 12, 31), version=3))
    with service(write=True) as svc:
        reopened = svc.restrictions.update(created.id, RestrictionUpdate(end=None, version=3))
    assert reopened.restriction and reopened.restriction.end is None
    with service(write=True) as svc:
        same = svc.restrictions.update(created.id, RestrictionUpdate(version=4))
    assert same.restriction and same.restriction.version == 4 and same.affected_programs == ()


def test_delete_names_the_programs_it_frees(store: Store, service: Any) -> None:
    add_program(store, "MLI-FMF")
    with service(write=True) as svc:
        created = svc.restrictions.create(coup()).restriction
    assert created is not None
    with service(write=True) as svc:
        change = svc.restrictions.delete(created.id, version=1)
    assert change.restriction is None and change.affected_programs == ("MLI-FMF",)
    assert count(store, Restriction) == 0


def test_only_compliance_managers_record_restrictions(store: Store, service: Any) -> None:
    planner = Actor("pat", "planner", "State")
    with pytest.raises(Forbidden), service(write=True, actor=planner) as svc:
        svc.restrictions.create(coup())
    with service(actor=planner) as svc:
        assert svc.restrictions.search() == []


# -- CSV import ----------------------------------------------------------------------------
def test_the_shipped_sst_list_imports_and_reimports_unchanged(store: Store, service: Any) -> None:
    add_program(store, "IRN-1", countries=["IRN"], account="INCLE", agency="State/INL")
    with service(write=True) as svc:
        report = svc.restrictions.import_csv(SST, name=SST.name)
    assert len(report.created) == 7 and report.updated == [] and report.warnings == []
    with service() as svc:
        (iran,) = svc.restrictions.search(country="IRN")
        assert report.affected_programs[str(iran.id)] == ["IRN-1"]
        listed = svc.restrictions.search(
            type="state_sponsor_of_terrorism", in_force_on=date.today()
        )
        assert {r.country for r in listed} == {"CUB", "IRN", "PRK", "SYR"}
        assert svc.restrictions.search(country="Iran")[0].source_document == f"{SST.name}, line 4"
    with service(write=True) as svc:
        again = svc.restrictions.import_csv(SST.read_bytes(), name=SST.name)
    assert again.created == [] and again.updated == [] and len(again.unchanged) == 7


def test_an_import_updates_a_stored_restriction_by_its_start(store: Store, service: Any) -> None:
    with service(write=True) as svc:
        svc.restrictions.create(coup())
        report = svc.restrictions.import_csv(
            (
                HEADER
                + "MLI,coup,2020-08-18,2024-12-31,Sec. 7008 determination,,,\n"
                + "MLI,coup,2025-06-01,,Sec. 7008 second determination,FMF|IMET,2025-10-01,\n"
            ).encode(),
            name="mali.csv",
        )
    assert len(report.updated) == 1 and len(report.created) == 1
    with service() as svc:
        periods = [(r.start, r.end, len(r.waivers)) for r in svc.restrictions.search(country="MLI")]
    assert periods == [
        (date(2020, 8, 18), date(2024, 12, 31), 0),
        (date(2025, 6, 1), None, 1),
    ]


@pytest.mark.parametrize(
    ("rows", "where", "message"),
    [
        (
            "MLI,coup,2020-01-01,,det,FMFP,2021-01-01,\n",
            ("bad.csv", "line 2", "waiver_accounts"),
            "waiver for unknown account 'FMFP'",
        ),
        (
            "MLI,coup,2020-01-01,,det,,,\nMLI,coup,2021-01-01,,det,,,\n",
            ("bad.csv", "line 3", "start"),
            "overlaps the coup restriction on MLI of line 2",
        ),
        (
            "MLI,coup,2020-01-01,,det A,,,\nMLI,coup,2020-01-01,,det B,FMF,2021-01-01,\n",
            ("bad.csv", "line 3", "citation"),
            "contradicts line 2",
        ),
        (
            "NER,coup,2024-01-01,,det,,,\n",
            ("bad.csv", "line 2", "start"),
            "overlaps the stored coup restriction on NER from 2023-07-26",
        ),
        (
            "Narnia,coup,2020-01-01,,det,,,\n",
            ("bad.csv", "line 2", "country"),
            "Narnia",
        ),
    ],
)
def test_a_bad_import_names_file_line_and_column_and_writes_nothing(
    store: Store, service: Any, rows: str, where: tuple[str, ...], message: str
) -> None:
    with service(write=True) as svc:
        svc.restrictions.create(coup(country="NER", start=date(2023, 7, 26)))
    before = count(store, Restriction)
    with pytest.raises(Invalid) as caught, service(write=True) as svc:
        svc.restrictions.import_csv(
            (HEADER + rows + "GHA,coup,2020-01-01,,a valid row,,,\n").encode(), name="bad.csv"
        )
    details = [(d.loc, d.msg) for d in caught.value.details]
    assert any(loc[:3] == where and message in msg for loc, msg in details), details
    assert count(store, Restriction) == before  # the valid Ghana row was not written either
