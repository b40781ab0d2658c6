"""Donor analytics against hand-computed figures, on a small example and on real IATI
files (expected values computed here from the XML with lxml and plain Python)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from lxml import etree

from ssaplan.coordination.engine.donors import (
    DonorFlow,
    burden_sharing,
    comparative_advantage,
    division_of_labour,
    donor_matrix,
    fragmentation,
    hhi,
    lead_donors,
    significant_relationships,
)
from ssaplan.core.errors import Invalid
from tests.conftest import shared_data

F = DonorFlow

# Two partners, two sectors, three donors; amounts in $M.
#            KEN police  KEN justice  SOM justice  SOM police
#   A            60          10            0           30
#   B            40           0           90            0
#   C             0          30            0            0
EXAMPLE = [
    F("A", "KEN", "police", 2024, 60),
    F("B", "KEN", "police", 2024, 40),
    F("A", "KEN", "justice", 2024, 10),
    F("C", "KEN", "justice", 2025, 30),
    F("B", "SOM", "justice", 2025, 100),
    F("B", "SOM", "justice", 2025, -10),
    F("A", "SOM", "police", 2025, 30),
]


def by_key(rows: tuple, *fields: str) -> dict:  # type: ignore[type-arg]
    return {tuple(getattr(r, f) for f in fields): r for r in rows}


def test_matrix_amounts_and_shares() -> None:
    m = donor_matrix(EXAMPLE)
    assert m.donors == ("A", "B", "C") and m.partners == ("KEN", "SOM")
    assert m.usd("A", "KEN", "police") == 60
    assert m.usd("B", "SOM", "justice") == 90  # the correction is netted
    shares = m.cell_shares
    assert shares[m.index("A", "KEN", "police")] == pytest.approx(0.6)
    assert shares[m.index("C", "KEN", "justice")] == pytest.approx(0.75)
    cells = m.as_dict()["cells"]
    assert {"donor": "A", "partner": "KEN", "sector": "police", "usd": 60, "share": 0.6} in cells
    assert donor_matrix(EXAMPLE, years={2024}).usd("A", "KEN", "justice") == 10
    assert donor_matrix(EXAMPLE, years={2024}).partners == ("KEN",)


def test_hhi_and_fragmentation() -> None:
    frag = by_key(fragmentation(donor_matrix(EXAMPLE)), "partner", "sector")
    # KEN total 140: A 70, B 40, C 30 -> HHI = (70² + 40² + 30²) / 140²
    assert frag[("KEN", None)].hhi == pytest.approx((70**2 + 40**2 + 30**2) / 140**2)
    assert frag[("KEN", None)].donors == 3
    assert frag[("KEN", "police")].hhi == pytest.approx(0.6**2 + 0.4**2)
    assert frag[("KEN", "police")].effective_donors == pytest.approx(1 / 0.52)
    assert frag[("SOM", "justice")].hhi == 1.0 and frag[("SOM", "justice")].largest_donor == "B"
    assert hhi([0, 0]) == 0.0


def test_oecd_significance() -> None:
    m = donor_matrix(EXAMPLE)
    sig = significant_relationships(m)
    # overall 260: A 100 (0.385), B 130 (0.5), C 30 (0.115).
    # KEN 140: A 0.5 >= 0.385 yes; B 0.286 < 0.5 but the donors before it give 0.5 < 0.9
    #          -> yes; C 0.214 >= 0.115 yes.
    # SOM 120: B 0.75 yes; A 0.25 < 0.385, donors before it give 0.75 < 0.9 -> yes; C idle.
    assert sig[:, 0].tolist() == [True, True, True]
    assert sig[:, 1].tolist() == [True, True, False]
    assert by_key(fragmentation(m), "partner", "sector")[("KEN", None)].non_significant == 0


def test_revealed_comparative_advantage() -> None:
    rca = by_key(comparative_advantage(donor_matrix(EXAMPLE)), "donor", "sector")
    # police 130 (A 90, B 40), justice 130 (A 10, B 90, C 30); total 260... minus nothing
    total = 90 + 40 + 10 + 90 + 30
    assert rca[("A", "police")].rca == pytest.approx((90 / 130) / (100 / total))
    assert rca[("B", "justice")].rca == pytest.approx((90 / 130) / (130 / total))
    assert rca[("C", "justice")].rca == pytest.approx((30 / 130) / (30 / total))
    local = by_key(comparative_advantage(donor_matrix(EXAMPLE), partner="KEN"), "donor", "sector")
    assert local[("A", "police")].rca == pytest.approx((60 / 100) / (70 / 140))


def test_lead_donor_rule() -> None:
    leads = by_key(lead_donors(donor_matrix(EXAMPLE)), "partner", "sector")
    assert leads[("KEN", "police")].donor == "A" and leads[("KEN", "police")].has_advantage
    # KEN justice: C has 75% and RCA 2 > 1; A has RCA < 1
    assert leads[("KEN", "justice")].donor == "C"
    assert leads[("SOM", "police")].donor == "A"


def test_division_of_labour() -> None:
    plan = {d.partner: d for d in division_of_labour(donor_matrix(EXAMPLE), max_focus_sectors=1)}
    roles = {r.donor: r for r in plan["KEN"].roles}
    assert plan["KEN"].leads == {"justice": "C", "police": "A"}
    assert roles["A"].focus == ("police",) and roles["A"].hand_over == ("justice",)
    assert roles["C"].leads == ("justice",)
    assert plan["KEN"].crowded_sectors == ()


def test_burden_sharing_by_partner_sector_region() -> None:
    rows = by_key(burden_sharing(EXAMPLE, ours="A"), "group", "year")
    assert rows[("KEN", 2024)].our_share == pytest.approx(70 / 110)
    assert rows[("KEN", 2025)].our_share == 0.0
    sector = by_key(burden_sharing(EXAMPLE, ours={"A"}, by="sector"), "group", "year")
    assert sector[("justice", 2025)].others == 120
    region = by_key(
        burden_sharing(EXAMPLE, ours="A", by="region", regions_of={"KEN": ("AF",)}), "group", "year"
    )
    assert region[("AF", 2024)].ours == 70 and ("(none)", 2025) in region
    with pytest.raises(Invalid):
        burden_sharing(EXAMPLE, ours="A", by="planet")
    with pytest.raises(Invalid):
        donor_matrix([F("", "KEN", "x", 2024, 1)])


# --- a small real IATI set -----------------------------------------------------------

IATI_FILES = [
    ("publishers", "gb-chc-265464_tearfund_drc__tearfund-cd.xml"),
    ("more-publishers", "gb-chc-285908_wvuk_drc__wvuk-cd.xml"),
    ("publishers", "gb-chc-285776_drc__complex_example_dfid.xml"),
    ("more-publishers", "gb-chc-272465__missing_dates.xml"),
]


def iati_flows() -> list[DonorFlow]:
    """Disbursements (1.x ``D``, 2.x ``3``) split by recipient-country and DAC-sector
    percentages (equal shares where none are published), sector = DAC 3-digit category,
    year of the transaction date. All four files are in GBP: amounts stay in GBP."""
    flows = []
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    for folder, name in IATI_FILES:
        tree = etree.parse(str(shared_data("iati", folder, name)), parser)
        for activity in tree.iter("iati-activity"):
            donor = activity.find("reporting-org").get("ref")
            countries = [
                (c.get("code"), c.get("percentage")) for c in activity.findall("recipient-country")
            ]
            sectors = [
                (s.get("code"), s.get("percentage"))
                for s in activity.findall("sector")
                if s.get("vocabulary") in (None, "DAC", "1") and s.get("code")
            ]
            if not countries or not sectors:
                continue
            for tx in activity.findall("transaction"):
                if tx.find("transaction-type").get("code") not in ("D", "3"):
                    continue
                value = tx.find("value")
                assert (value.get("currency") or activity.get("default-currency")) == "GBP"
                when = tx.find("transaction-date").get("iso-date") or value.get("value-date")
                amount = float(value.text)
                for code, cpct in countries:
                    cshare = float(cpct) / 100 if cpct else 1 / len(countries)
                    for sector, spct in sectors:
                        sshare = float(spct) / 100 if spct else 1 / len(sectors)
                        flows.append(
                            F(donor, code, sector[:3], int(when[:4]), amount * cshare * sshare)
                        )
    return flows


def test_real_iati_matrix_hhi_rca_lead() -> None:
    flows = iati_flows()
    assert len({f.donor for f in flows}) == 4 and len({f.partner for f in flows}) > 5
    # expected figures, by hand
    cell: dict[tuple[str, str, str], float] = defaultdict(float)
    for f in flows:
        cell[(f.donor, f.partner, f.sector)] += f.usd
    cell = {k: v for k, v in cell.items() if v > 0}
    m = donor_matrix(flows)
    for (d, p, s), amount in cell.items():
        assert m.usd(d, p, s) == pytest.approx(amount)
    partner_total: dict[str, float] = defaultdict(float)
    partner_donor: dict[tuple[str, str], float] = defaultdict(float)
    for (d, p, _), v in cell.items():
        partner_total[p] += v
        partner_donor[(p, d)] += v
    expected_hhi = {
        p: sum((v / partner_total[p]) ** 2 for (q, _), v in partner_donor.items() if q == p)
        for p in partner_total
    }
    frag = by_key(fragmentation(m), "partner", "sector")
    for p, value in expected_hhi.items():
        assert frag[(p, None)].hhi == pytest.approx(value)
    # DRC ("CD") has three donors in these files
    assert frag[("CD", None)].donors == 3 and frag[("CD", None)].hhi < 1

    total = sum(cell.values())
    donor_total: dict[str, float] = defaultdict(float)
    sector_total: dict[str, float] = defaultdict(float)
    donor_sector: dict[tuple[str, str], float] = defaultdict(float)
    for (d, _, s), v in cell.items():
        donor_total[d] += v
        sector_total[s] += v
        donor_sector[(d, s)] += v
    rca = by_key(comparative_advantage(m), "donor", "sector")
    for (d, s), v in donor_sector.items():
        assert rca[(d, s)].rca == pytest.approx((v / sector_total[s]) / (donor_total[d] / total))

    leads = by_key(lead_donors(m), "partner", "sector")
    for p, s in {(p, s) for (_, p, s) in cell}:
        active = {d: v for (d, q, t), v in cell.items() if q == p and t == s}
        ok = [
            d
            for d in active
            if (donor_sector[(d, s)] / sector_total[s]) / (donor_total[d] / total) > 1
        ]
        pool = ok or list(active)
        best = max(pool, key=lambda d: active[d])
        if sum(1 for d in pool if active[d] == active[best]) == 1:  # no tie
            assert leads[(p, s)].donor == best, (p, s)
