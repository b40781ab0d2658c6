"""U.S. foreign-assistance CSV: ledgers become programs, country totals and CBJ tables
become published figures; names are mapped, and everything left out is listed."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ssaplan.coordination.models import USAssistanceFigure
from ssaplan.core.errors import Invalid
from ssaplan.core.store import Store
from ssaplan.ingest.foreign_assistance import detect, match_name
from ssaplan.ingest.service import IngestService
from ssaplan.portfolio.models import Program
from ssaplan.portfolio.service import PortfolioService
from ssaplan.reference.catalog import get_catalog
from tests.conftest import OPERATOR, shared_data
from tests.ingest.conftest import db_state


def import_fa(store: Store, paths: list[Path], **options: Any) -> dict[str, Any]:
    with store.transaction() as session:
        return IngestService(session, OPERATOR).import_foreign_assistance(paths, **options)


def test_the_activity_ledger_becomes_programs(store: Store) -> None:
    path = shared_data("us-assistance", "more", "usaid_noncrs_paf_data.csv")
    summary = import_fa(store, [path])
    assert summary["layouts"] == {path.name: "ledger"}
    # 7 rows: 2 "Peace and Security", 1 disaster preparedness (74020, in dac_mapping.csv)
    # are security sector; 4 humanitarian rows are counted, not imported.
    assert summary["programs"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert summary["out_of_scope"] == {"Humanitarian Assistance": 4}
    with store.session() as session:
        service = PortfolioService(session, OPERATOR)
        nigeria = service.get("FA-SLMAQM21CA3219")
        regional = service.get("FA-71586")  # no project number: the activity id
    assert nigeria.countries == ["NGA"] and nigeria.agency == "State"
    assert nigeria.account == "ESF" and nigeria.dac_code == "15220"
    assert nigeria.institution_type == "civil_society"
    assert [(b.fiscal_year, b.obligated) for b in nigeria.budget] == [(2021, 330_864)]
    assert regional.regions == ["AF"] and regional.countries == []  # Sub-Saharan Africa Region
    assert regional.source == "import:foreign-assistance"
    assert import_fa(store, [path])["programs"] == {"created": 0, "updated": 0, "unchanged": 3}


def test_all_sectors_and_rows_without_a_partner(store: Store) -> None:
    path = shared_data("us-assistance", "more", "usaid_noncrs_paf_data.csv")
    before = db_state(store)
    with pytest.raises(Invalid) as caught:
        import_fa(store, [path], all_sectors=True)
    assert "'WLD' is neither a country nor a regional row" in caught.value.one_line()
    assert db_state(store) == before
    summary = import_fa(store, [path], all_sectors=True, skip_invalid=True)
    # Two rows of award SAQMIP23GR0026 (an obligation and a disbursement) are one program.
    assert summary["programs"]["created"] == 4
    assert {s["identifier"] for s in summary["skipped"]} == {"SPRMCO20VC0112", "SPRMCO23VC0330"}


def test_country_totals_become_figures_and_nothing_is_silently_dropped(store: Store) -> None:
    path = shared_data("us-assistance", "us_foreign_aid_country.csv")
    summary = import_fa(store, [path])
    assert summary["layouts"] == {path.name: "totals"}
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    catalog = get_catalog()
    stored = [
        r
        for r in rows
        if catalog.is_known("country", r["Country Code"])
        or catalog.is_known("country", r["Country Name"])
    ]
    assert summary["figures"]["inserted"] == len(stored)
    assert sum(summary["not_countries"].values()) == len(rows) - len(stored)
    assert summary["not_countries"]["WLD World"] == 156
    with store.session() as session:
        count = session.execute(select(func.count()).select_from(USAssistanceFigure)).scalar_one()
        measures = Counter(session.execute(select(USAssistanceFigure.measure)).scalars())
        tq = session.execute(
            select(func.count()).where(USAssistanceFigure.period == "TQ")
        ).scalar_one()
        afg = session.execute(
            select(USAssistanceFigure.amount).where(
                USAssistanceFigure.iso3 == "AFG",
                USAssistanceFigure.fiscal_year == 2010,
                USAssistanceFigure.measure == "obligated",
            )
        ).scalar_one()
    assert count == len(stored)
    assert set(measures) == {"obligated", "disbursed", "planned", "requested", "allocated"}
    assert tq > 0  # the 1976 transition quarter is kept apart from FY1976
    expected = next(
        int(r["current_amount"])
        for r in rows
        if r["Country Code"] == "AFG"
        and r["Fiscal Year"] == "2010"
        and r["Transaction Type Name"] == "Obligations"
    )
    assert afg == expected
    # Re-importing updates in place.
    again = import_fa(store, [path])
    assert again["figures"] == {"inserted": 0, "updated": 0}


def test_cbj_tables_become_planned_amounts_by_country_and_account(store: Store) -> None:
    paths = [
        shared_data("us-assistance", f"state_budget_by_country_FY{y}.csv")
        for y in range(2008, 2014)
    ]
    summary = import_fa(store, paths)
    assert set(summary["layouts"].values()) == {"cbj"}
    assert "TOTAL" in summary["not_countries"] and "Africa" in summary["not_countries"]
    assert "GHCS- USAID" in summary["unmapped_accounts"]  # kept, with its own label
    assert any("read as windows-1252" in w for w in summary["warnings"])
    with store.session() as session:
        angola = {
            f.account: (f.account_id, f.amount)
            for f in session.execute(
                select(USAssistanceFigure).where(
                    USAssistanceFigure.iso3 == "AGO", USAssistanceFigure.fiscal_year == 2008
                )
            ).scalars()
        }
    # Angola FY2008: "42,203" (thousands) in all, of which NADR 7,483 and IMET 222.
    assert angola["NADR"] == ("NADR", 7_483_000)
    assert angola["IMET"] == ("IMET", 222_000)
    assert sum(amount for _, amount in angola.values()) == 42_203_000


def test_bad_rows_are_named_and_nothing_is_written(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "totals.csv"
    path.write_text(
        "Country Code,Country Name,Fiscal Year,Transaction Type Name,current_amount\n"
        "NGA,Nigeria,2020,Obligations,1000\n"
        "GHA,Ghana,20x0,Obligations,1000\n"
        "KEN,Kenya,2020,Obligations,lots\n"
        "SEN,Senegal,2020,Promises,5\n",
        encoding="utf-8",
    )
    before = db_state(store)
    with pytest.raises(Invalid) as caught:
        import_fa(store, [path])
    locs = {d.loc: d.msg for d in caught.value.details}
    assert "'20x0' is not a fiscal year" in locs[("totals.csv", "line 3", "Fiscal Year")]
    assert "'lots' is not an amount" in locs[("totals.csv", "line 4", "amount")]
    assert "'Promises' is not a measure" in locs[("totals.csv", "line 5", "Transaction Type Name")]
    assert db_state(store) == before


def test_unknown_layouts_and_agencies_are_refused(store: Store, tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(Invalid, match="not a foreign-assistance layout"):
        import_fa(store, [odd])
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "Activity ID,Activity Name,Country Code,Fiscal Year,Managing Agency Name,"
        "US Category Name,Transaction Type Name,Current Dollar Amount\n"
        "9,Border posts,GHA,2022,Department of Magic,Peace and Security,Obligations,100\n",
        encoding="utf-8",
    )
    with pytest.raises(Invalid, match="agency 'Department of Magic' matches no agency"):
        import_fa(store, [ledger])
    with store.session() as session:
        assert session.execute(select(func.count()).select_from(Program)).scalar_one() == 0


def test_layout_detection_and_name_matching() -> None:
    assert detect(["Country", "Total", "FMF", "IMET", "Fiscal Year"])[0] == "cbj"
    assert detect(["Country Code", "Year", "Assistance Name", "Amount"])[0] == "totals"
    assert detect(["activity name", "COUNTRY NAME", "fiscal year"])[0] == "ledger"
    catalog = get_catalog()
    assert match_name(catalog, "account", "Foreign Military Financing Program") == "FMF"
    assert (
        match_name(
            catalog,
            "account",
            "Department of State, International Narcotics Control and Law Enforcement",
        )
        == "INCLE"
    )
    assert match_name(catalog, "agency", "U.S. Agency for International Development") == "USAID"
    assert match_name(catalog, "region", "Sub-Saharan Africa") == "AF"
    assert match_name(catalog, "account", "Migration and Refugee Assistance") is None
