"""Reading and writing donor activities and published figures through the service."""

from __future__ import annotations

import pytest
from lxml import etree

from ssaplan.coordination.service import CoordinationService
from ssaplan.core.errors import Forbidden, NotFound
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from tests.conftest import shared_data
from tests.ingest.conftest import import_iati

VIEWER = Actor("viewer", "viewer")


def test_lists_and_details_of_imported_activities(store: Store) -> None:
    path = shared_data("iati", "publishers", "gb-1_dfid_drc__CD.xml")
    import_iati(store, [path])
    in_drc = len(etree.parse(str(path)).xpath("//iati-activity[recipient-country/@code='CD']"))
    with store.session() as session:
        service = CoordinationService(session, VIEWER)
        page = service.list_activities(country="COD", limit=10)
        assert page.total == in_drc > 100 and len(page.items) == 10
        assert [a.identifier for a in page.items] == sorted(a.identifier for a in page.items)
        assert service.list_activities(reporting_org="GB-1").total == 205
        assert service.list_activities(reporting_org="XM-DAC-7").total == 0
        assert service.list_activities(sector="15220").total >= 12
        assert service.list_activities(sector="15130").total == 0
        detail = service.get_activity("GB-1-105838")
        assert detail.reporting_org_name == "Department for International Development"
        assert detail.default_currency == "GBP" and detail.iati_version == "1.01"
        assert {o["role"] for o in detail.orgs} == {"1", "3"}
        assert service.counts()["activities"] == 205
        with pytest.raises(NotFound):
            service.get_activity("nope")


def test_figures_are_upserted_by_their_key(store: Store) -> None:
    row = {
        "source": "cbj",
        "measure": "planned",
        "fiscal_year": 2020,
        "period": "",
        "area": "Ghana",
        "iso3": "GHA",
        "account": "FMF",
        "account_id": "FMF",
        "amount": 1000,
        "source_file": "x.csv",
        "note": "",
    }
    with store.transaction() as session:
        service = CoordinationService(session, Actor("op", "admin"))
        assert service.upsert_figures([row]).inserted == 1
        counts = service.upsert_figures([{**row, "amount": 2000}, {**row, "account": "IMET"}])
        assert (counts.inserted, counts.updated) == (1, 1)
    with store.session() as session:
        figures = CoordinationService(session, VIEWER).list_figures(country="gha")
    assert figures.total == 2
    assert {f.account: f.amount for f in figures.items} == {"FMF": 2000, "IMET": 1000}


def test_a_figure_twice_in_one_file_is_stored_once_with_the_later_amount(store: Store) -> None:
    rows = [
        {
            "source": "totals",
            "measure": "obligated",
            "fiscal_year": 2000 + i % 30,
            "period": "",
            "area": f"Area {i % 400}",
            "iso3": None,
            "account": "",
            "account_id": None,
            "amount": i,
            "source_file": "x.csv",
            "note": "",
        }
        for i in range(2500)  # three batches; every key comes back once in a later batch
    ]
    twice = [*rows, {**rows[0], "amount": 99}]
    with store.transaction() as session:
        counts = CoordinationService(session, Actor("op", "admin")).upsert_figures(twice)
    keys = {(r["fiscal_year"], r["area"]) for r in rows}
    assert counts.inserted == len(keys)
    with store.transaction() as session:  # the same file again: nothing new, nothing lost
        again = CoordinationService(session, Actor("op", "admin")).upsert_figures(twice)
    assert again.inserted == 0
    with store.session() as session:
        page = CoordinationService(session, VIEWER).list_figures(limit=5000)
    stored = {(f.fiscal_year, f.area): f.amount for f in page.items}
    assert len(stored) == len(keys)
    last: dict[tuple[int, str], int] = {}
    for r in twice:
        last[(r["fiscal_year"], r["area"])] = r["amount"]
    assert stored == last


def test_viewers_cannot_write(store: Store) -> None:
    with store.transaction() as session, pytest.raises(Forbidden):
        CoordinationService(session, VIEWER).begin_write()
