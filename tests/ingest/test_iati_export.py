"""IATI export: the demo portfolio validates against the 2.03 schema, withholds what may
not be released, and carries DAC sectors, budgets and transactions per fiscal year."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from ssaplan.core.errors import BadRequest
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.ingest.exports import ExportService
from ssaplan.ingest.iati_export import fy_bounds, xml_text
from ssaplan.portfolio.models import BudgetLine, Program
from ssaplan.reference.catalog import get_catalog
from tests.conftest import OPERATOR, shared_data
from tests.ingest.conftest import import_iati


def export(store: Store, **options: object) -> tuple[bytes, dict[str, object]]:
    out = io.BytesIO()
    with store.session() as session:
        summary = ExportService(session, OPERATOR).iati(out, **options)  # type: ignore[arg-type]
    return out.getvalue(), summary


def _by_year(lines: list[BudgetLine], field: str) -> Counter[tuple[int, int]]:
    """A program's money of one kind per fiscal year, over all its accounts."""
    out: Counter[tuple[int, int]] = Counter()
    for b in lines:
        out[(b.program_id, b.fiscal_year)] += getattr(b, field)
    return out


def test_the_demo_portfolio_validates_against_the_203_schema(demo_store: Store) -> None:
    schema = etree.XMLSchema(
        etree.parse(str(shared_data("iati", "schema", "iati-activities-schema.xsd")))
    )
    data, summary = export(demo_store)
    doc = etree.parse(io.BytesIO(data))
    assert schema.validate(doc), schema.error_log.filter_from_errors()[:5]
    root = doc.getroot()
    assert root.get("version") == "2.03"

    markings = {m.id: m.releasable for m in get_catalog().markings.values()}
    with demo_store.session() as session:
        by_marking = Counter(session.execute(select(Program.marking)).scalars())
        lines = session.execute(select(BudgetLine)).scalars().all()
        releasable = dict(
            session.execute(
                select(Program.id, Program.code).where(
                    Program.marking.in_([m for m, r in markings.items() if r])
                )
            ).all()
        )
    withheld = sum(n for m, n in by_marking.items() if not markings[m])
    assert withheld > 0
    assert summary["withheld"] == withheld
    assert summary["activities"] == len(root) == sum(by_marking.values()) - withheld
    identifiers = {a.findtext("iati-identifier") for a in root}
    assert identifiers == {f"US-USAGOV-{code}" for code in releasable.values()}

    releasable_lines = [b for b in lines if b.program_id in releasable]
    assert (
        summary["budgets"]
        == len(root.findall("iati-activity/budget"))
        # one budget per fiscal year: lines of several accounts in a year are summed
        == sum(1 for v in _by_year(releasable_lines, "planned").values() if v > 0)
    )
    commitments = root.findall("iati-activity/transaction/transaction-type[@code='2']")
    disbursements = root.findall("iati-activity/transaction/transaction-type[@code='3']")
    obligated = _by_year(releasable_lines, "obligated").values()
    disbursed = _by_year(releasable_lines, "disbursed").values()
    assert len(commitments) == sum(1 for v in obligated if v > 0)
    assert len(disbursements) == sum(1 for v in disbursed if v > 0)
    assert sum(int(v.text or 0) for v in root.iterfind("iati-activity/budget/value")) == sum(
        b.planned for b in releasable_lines
    )
    for budget in root.iterfind("iati-activity/budget"):
        start = date.fromisoformat(budget.find("period-start").get("iso-date"))  # type: ignore[union-attr, arg-type]
        end = date.fromisoformat(budget.find("period-end").get("iso-date"))  # type: ignore[union-attr, arg-type]
        assert (start.month, start.day, end.month, end.day) == (10, 1, 9, 30)
        assert end.year == start.year + 1
    # A transaction is never dated in the future.
    today = date.today().isoformat()
    assert all(d <= today for d in root.xpath("//transaction-date/@iso-date"))
    # Every program with a DAC code has it as a vocabulary-1 sector.
    assert root.findall("iati-activity/sector[@vocabulary='1']")


def test_the_reporting_org_can_be_set(demo_store: Store) -> None:
    data, summary = export(demo_store, reporting_org="US-GOV-11", reporting_org_name="State")
    root = etree.fromstring(data)
    first = root[0]
    assert first.find("reporting-org").get("ref") == "US-GOV-11"  # type: ignore[union-attr]
    assert first.findtext("iati-identifier", "").startswith("US-GOV-11-")
    assert summary["reporting_org"] == "US-GOV-11"
    with pytest.raises(BadRequest, match="not valid"):
        export(demo_store, reporting_org="not an id")


def test_nothing_to_export_is_an_error(store: Store) -> None:
    with pytest.raises(BadRequest, match="nothing to export"):
        export(store)


def test_exports_need_a_reader_and_hold_only_what_they_may_read(store: Store) -> None:
    from ssaplan.core.errors import BadRequest, Forbidden

    with store.session() as session, pytest.raises(Forbidden):
        ExportService(session, Actor("v", "")).iati(io.BytesIO())  # no role: no export
    # A viewer may export what they may read; here that is nothing, and they are told so.
    with store.session() as session, pytest.raises(BadRequest, match="nothing to export"):
        ExportService(session, Actor("v", "viewer")).iati(io.BytesIO())


def test_export_then_import_as_portfolio_round_trips_the_money(
    demo_store: Store, tmp_path: Path
) -> None:
    data, summary = export(demo_store)
    path = tmp_path / "portfolio.xml"
    path.write_bytes(data)
    imported = import_iati(demo_store, [path], as_portfolio=True)
    assert imported["activities"] == summary["activities"]
    assert imported["portfolio"]["created"] == summary["activities"]  # new ids (prefixed)
    assert imported["budgets"] == summary["budgets"]
    assert imported["transactions"] == summary["transactions"]


def test_fiscal_years() -> None:
    assert fy_bounds(2026) == (date(2025, 10, 1), date(2026, 9, 30))


def test_recipient_percentages_are_the_partner_shares_and_years_sum_accounts(
    store: Store,
) -> None:
    from ssaplan.portfolio.schemas import BudgetLineIn
    from ssaplan.portfolio.service import PortfolioService
    from tests.factories import program

    with store.transaction() as session:
        service = PortfolioService(session, OPERATOR)
        service.create(
            program(
                id="SHARE-1",
                countries=["KEN", "UGA", "TZA"],
                account="FMF",
                budget=[
                    BudgetLineIn(fiscal_year=2026, planned=1_000_000),
                    BudgetLineIn(fiscal_year=2026, account="IMET", planned=250_000),
                ],
            )
        )
        service.create(
            program(
                id="SHARE-2",
                countries=["KEN", "UGA"],
                shares={"KEN": 7500, "UGA": 2500},
            )
        )
    data, _summary = export(store)
    root = etree.fromstring(data)
    pct = {
        a.findtext("iati-identifier"): [
            (c.get("code"), c.get("percentage")) for c in a.findall("recipient-country")
        ]
        for a in root
    }
    equal = next(v for k, v in pct.items() if k.endswith("SHARE-1"))
    assert sorted(p for _c, p in equal) == ["33.33", "33.33", "33.34"]
    assert sum(float(p) for _c, p in equal) == 100.0
    set_shares = next(v for k, v in pct.items() if k.endswith("SHARE-2"))
    assert sorted(set_shares) == [("KE", "75"), ("UG", "25")]
    one = next(a for a in root if a.findtext("iati-identifier").endswith("SHARE-1"))
    budgets = one.findall("budget")
    assert len(budgets) == 1  # FY2026's two accounts, reported as one year
    assert budgets[0].findtext("value") == "1250000"


def test_control_characters_never_break_the_file(store: Store) -> None:
    from ssaplan.portfolio.service import PortfolioService
    from tests.factories import program

    with store.transaction() as session:
        PortfolioService(session, OPERATOR).create(
            program(id="CTRL-1", title="Radios\x0c and boats", description="a\x01b")
        )
    data, summary = export(store)
    root = etree.fromstring(data)
    assert summary["activities"] == 1
    assert root.findtext("iati-activity/title/narrative") == "Radios and boats"
    assert xml_text("ok\tnew\nline") == "ok\tnew\nline"
    with store.session() as session:
        ExportService(session, OPERATOR).excel(io.BytesIO())  # the workbook copes too
