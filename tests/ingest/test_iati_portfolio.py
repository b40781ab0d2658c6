"""``import iati --as-portfolio``: activities become programs of the shared portfolio,
mapped by DAC code, U.S. organisation identifier and fiscal year."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ssaplan.core.errors import Invalid
from ssaplan.core.store import Store
from ssaplan.ingest.mapping import get_mappings, load_mappings
from ssaplan.portfolio.service import PortfolioService
from ssaplan.reference.catalog import get_catalog
from tests.conftest import OPERATOR
from tests.ingest.conftest import IATI, db_state, iati_file, import_iati, transaction

Write = Callable[[str, str | bytes], Path]

USAID_ACTIVITY = """
  <iati-activity default-currency="USD" xml:lang="en">
    <iati-identifier>US-GOV-1-72062021CA00001</iati-identifier>
    <reporting-org ref="US-GOV-1" type="10"><narrative>USAID</narrative></reporting-org>
    <title><narrative>Strengthening Nigeria's courts</narrative></title>
    <description><narrative>Case management for the federal high courts.</narrative></description>
    <participating-org role="1" ref="US-GOV-1"><narrative>USAID</narrative></participating-org>
    <activity-status code="2"/>
    <activity-date type="1" iso-date="2024-03-01"/>
    <activity-date type="2" iso-date="2024-04-15"/>
    <activity-date type="3" iso-date="2027-03-31"/>
    <recipient-country code="NG" percentage="80"/>
    <recipient-region code="289" vocabulary="1" percentage="20"/>
    <sector vocabulary="1" code="15130" percentage="70"/>
    <sector vocabulary="1" code="15160" percentage="30"/>
    <budget type="1"><period-start iso-date="2024-10-01"/><period-end iso-date="2025-09-30"/>
      <value value-date="2024-10-01">1000000</value></budget>
    <budget type="2"><period-start iso-date="2024-10-01"/><period-end iso-date="2025-09-30"/>
      <value value-date="2024-10-01">1200000</value></budget>
    <budget type="1"><period-start iso-date="2025-10-01"/><period-end iso-date="2026-09-30"/>
      <value value-date="2025-10-01">900000</value></budget>
    {transactions}
  </iati-activity>"""
TRANSACTIONS = (
    transaction("2", "2024-09-30", "500000")  # FY2024 (30 September is its last day)
    + transaction("2", "2024-10-01", "700000")  # FY2025
    + transaction("3", "2025-02-01", "250000")
    + transaction("4", "2025-03-01", "50000")
    + transaction("3", "2025-11-15", "300000")  # FY2026
)


def test_an_activity_becomes_a_program(store: Store, write: Write) -> None:
    path = write("usaid.xml", iati_file(USAID_ACTIVITY.format(transactions=TRANSACTIONS)))
    summary = import_iati(store, [path], as_portfolio=True)
    assert summary["mode"] == "portfolio"
    assert summary["portfolio"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert summary["agency_fallbacks"] == {"agency": "State", "activities": 0}
    with store.session() as session:
        p = PortfolioService(session, OPERATOR).get("US-GOV-1-72062021CA00001")
    assert (p.agency, p.source, p.status, p.marking) == (
        "USAID",
        "import:iati",
        "implementing",
        "U",
    )
    assert p.countries == ["NGA"] and p.regions == ["AF"]
    assert p.dac_code == "15130"  # the larger of the two DAC sectors
    assert (p.institution_type, p.level, p.purpose) == ("justice", "national", "build_capacity")
    assert p.objectives == ["G3.3", "G3.5", "G3.6"]  # 15130's, then 15160's
    assert (str(p.start), str(p.end)) == ("2024-04-15", "2027-03-31")  # actual over planned
    money = {b.fiscal_year: (b.planned, b.obligated, b.disbursed) for b in p.budget}
    assert money == {
        2024: (0, 500_000, 0),
        2025: (1_200_000, 700_000, 300_000),  # the revised budget replaces the original
        2026: (900_000, 0, 300_000),
    }


def test_reimporting_as_portfolio_changes_nothing(store: Store, write: Write) -> None:
    path = write("usaid.xml", iati_file(USAID_ACTIVITY.format(transactions=TRANSACTIONS)))
    import_iati(store, [path], as_portfolio=True)
    before = db_state(store)
    summary = import_iati(store, [path], as_portfolio=True)
    assert summary["portfolio"] == {"created": 0, "updated": 0, "unchanged": 1}
    after = db_state(store)
    assert after["programs"] == before["programs"]
    assert after["audit_records"] == before["audit_records"] + 1  # the file summary only


def test_other_publishers_get_the_fallback_agency_and_it_is_reported(store: Store) -> None:
    path = IATI / "publishers" / "es-maec_indonesia__MAEC_IATI_INDONESIA.xml"
    if not path.exists():
        pytest.skip("shared data absent")
    summary = import_iati(store, [path], as_portfolio=True, fallback_agency="DoD")
    assert summary["portfolio"]["created"] == summary["activities"] == 83
    assert summary["agency_fallbacks"] == {"agency": "DoD", "activities": 83}


def test_an_unknown_recipient_country_is_an_error_for_the_portfolio(
    store: Store, write: Write
) -> None:
    text = iati_file(USAID_ACTIVITY.format(transactions="").replace('code="NG"', 'code="XX"'))
    before = db_state(store)
    with pytest.raises(Invalid) as caught:
        import_iati(store, [write("xx.xml", text)], as_portfolio=True)
    assert "'XX' is not an ISO 3166 country code" in caught.value.one_line()
    assert db_state(store) == before
    # ... while as another donor's activity it is kept as published, with a note.
    summary = import_iati(store, [write("xx.xml", text)])
    assert any("'XX' is not an ISO 3166 country" in w for w in summary["warnings"])


def test_the_mapping_files_are_checked_against_the_catalog(tmp_path: Path) -> None:
    mappings = get_mappings()
    assert mappings.dac["15230"].objectives == ("G4.1", "G2.9")
    assert mappings.agencies["US-GOV-1"] == "USAID"
    for name in ("dac_mapping.csv", "iati_agencies.csv", "iati_regions.csv"):
        source = Path(__file__).resolve().parents[2] / "src" / "ssaplan" / "ingest" / name
        (tmp_path / name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    bad = (tmp_path / "dac_mapping.csv").read_text(encoding="utf-8").replace("G2.5", "G9.9")
    (tmp_path / "dac_mapping.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(Exception, match=r"dac_mapping.csv line \d+: unknown objective 'G9.9'"):
        load_mappings(get_catalog(), tmp_path)
