"""The donor, burden-sharing, gap and regional analyses over the small world, against
figures worked out by hand (see the world's description in ``conftest.py``).

Disbursed dollars by donor, partner and DAC category:

=====  =========================  =====================  ============
donor  Somalia                    Kenya                  Nigeria
=====  =========================  =====================  ============
US     152: 2 x 2.6M = 5.2M       151: 2 x 2.6M = 5.2M   151: 2.6M, 152: 2.6M
UK     151: 3.0M
DE     151: 1.0M                  152: 0.5M
=====  =========================  =====================  ============

Totals: US 15.6M, UK 3.0M, DE 1.5M, all 20.1M; sector 151 11.8M, 152 8.3M.
"""

from __future__ import annotations

from datetime import date

import pytest

from ssaplan.coordination.donor_analysis import DonorAnalysis
from ssaplan.coordination.gap_analysis import GapAnalysis
from ssaplan.coordination.partner import partner_picture
from ssaplan.coordination.regional import RegionalAnalysis
from ssaplan.core.errors import Invalid, NotFound
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from tests.coordination.conftest import World

VIEWER = Actor("viewer", "viewer")
M = 1_000_000


def m(millions: float) -> int:
    """Whole dollars from millions (no float residue in comparisons)."""
    return round(millions * M)


def test_donor_matrix_shares_concentration_advantage_and_leads(store: Store, world: World) -> None:
    with store.session() as session:
        o = DonorAnalysis(session, VIEWER).overview()
    assert [(d.donor, d.usd) for d in o.donors] == [
        ("US", m(15.6)),
        ("DEMO-GB", m(3)),
        ("DEMO-DE", m(1.5)),
    ]
    assert o.donors[0].name == "United States (shared portfolio)" and o.donors[0].us
    assert o.note.years == [2025, 2026, 2027, 2028] and o.note.left_out["no_date"] == 0
    cells = {(c.donor, c.partner, c.sector): (c.usd, c.share) for c in o.cells}
    assert cells[("US", "SOM", "152")] == (m(5.2), 1.0)
    assert cells[("DEMO-GB", "SOM", "151")] == (m(3), 0.75)
    assert cells[("DEMO-DE", "SOM", "151")] == (m(1), 0.25)
    assert cells[("DEMO-DE", "KEN", "152")] == (m(0.5), 1.0)
    somalia = {p.partner: p for p in o.partners}["SOM"]
    assert somalia.usd == m(9.2) and somalia.donors == 3
    assert somalia.hhi == pytest.approx((5.2**2 + 3**2 + 1**2) / 9.2**2, abs=1e-4)
    assert somalia.our_share == pytest.approx(5.2 / 9.2, abs=1e-4)
    rca = {(r.donor, r.sector): r.rca for r in o.comparative_advantage}
    assert rca[("DEMO-GB", "151")] == pytest.approx((3 / 11.8) / (3 / 20.1), abs=1e-3)
    assert rca[("DEMO-DE", "151")] == pytest.approx((1 / 11.8) / (1.5 / 20.1), abs=1e-3)
    assert rca[("US", "152")] == pytest.approx((7.8 / 8.3) / (15.6 / 20.1), abs=1e-3)
    leads = {(lead.partner, lead.sector): lead for lead in o.lead_donors}
    # Somalia 151: the UK and Germany both specialise (RCA > 1); the UK has more
    assert leads[("SOM", "151")].donor == "DEMO-GB" and leads[("SOM", "151")].has_advantage
    assert leads[("SOM", "152")].donor == "US"
    # Kenya 152: only Germany, without an advantage there (RCA 0.81)
    assert leads[("KEN", "152")].donor == "DEMO-DE" and not leads[("KEN", "152")].has_advantage
    assert leads[("SOM", "151")].sector_name == "Government and civil society, general"

    with store.session() as session:
        dac5 = DonorAnalysis(session, VIEWER).overview(vocabulary="dac5", first_fy=2026)
    assert {c.sector for c in dac5.cells} == {"15136", "15210", "15130", "15132"}
    assert {d.donor: d.usd for d in dac5.donors} == {"US": m(6 * 1.4), "DEMO-GB": m(1.5)}


def test_burden_sharing_by_partner_region_and_sector(store: Store, world: World) -> None:
    with store.session() as session:
        analysis = DonorAnalysis(session, VIEWER)
        by_partner = analysis.burden(by="partner")
        by_bureau = analysis.burden(by="region", kind="bureau")
        by_sector = analysis.burden(by="sector", first_fy=2025, last_fy=2025)
    som = {r.year: (r.ours_usd, r.others_usd) for r in by_partner.rows if r.group == "SOM"}
    assert som == {
        2025: (m(2.4), m(2.5)),
        2026: (m(2.4), m(1.5)),
        2027: (m(0.2), 0),
        2028: (m(0.2), 0),
    }
    africa = {r.year: r for r in by_bureau.rows if r.group == "AF"}
    assert africa[2025].group_name == "Bureau of African Affairs"
    assert africa[2025].ours_usd == m(6 * 1.2) and africa[2025].others_usd == m(3)
    assert [y.year for y in by_sector.by_year] == [2025]
    sector_2025 = {r.group: (r.ours_usd, r.others_usd) for r in by_sector.rows}
    assert sector_2025 == {"151": (m(3 * 1.2), m(2.5)), "152": (m(3 * 1.2), m(0.5))}
    with pytest.raises(Invalid, match="unknown grouping"), store.session() as session:
        DonorAnalysis(session, VIEWER).burden(by="agency")
    with pytest.raises(Invalid, match="bad fiscal years"), store.session() as session:
        DonorAnalysis(session, VIEWER).burden(first_fy=2027, last_fy=2026)
    with pytest.raises(Invalid, match="unknown money basis"), store.session() as session:
        DonorAnalysis(session, VIEWER).overview(basis="pledged")


def test_partner_picture_division_of_labour_and_its_gaps(store: Store, world: World) -> None:
    with store.session() as session:
        p = partner_picture(session, VIEWER, "so", as_of=date(2026, 1, 1))  # alpha-2 works
    assert (p.partner.code, p.partner.name, p.partner.kind) == ("SOM", "Somalia", "country")
    assert p.usd == m(9.2) and [d.donor for d in p.donors] == ["US", "DEMO-GB", "DEMO-DE"]
    assert p.our_share.ours_usd == m(5.2) and p.our_share.others_usd == m(4)
    assert p.division_of_labour is not None
    assert p.division_of_labour.leads == {"151": "DEMO-GB", "152": "US"}
    roles = {r.donor: r for r in p.division_of_labour.roles}
    assert roles["DEMO-GB"].leads == ["151"] and roles["US"].leads == ["152"]
    kinds = {g.kind for g in p.gaps}
    assert "uncovered_cell" in kinds
    cells = [g for g in p.gaps if g.kind == "uncovered_cell"]
    # our border-management programs and the UK's (inferred from DAC 15136) cover it
    assert not any(g.figures["institution_type"] == "border_management" for g in cells)
    assert any(g.figures["institution_type"] == "police" for g in cells)
    assert all(g.partner == "SOM" and "Somalia" in g.reason for g in cells)
    with pytest.raises(NotFound, match="unknown partner"), store.session() as session:
        partner_picture(session, VIEWER, "ZZZ")


def test_gaps_unfunded_and_expiring_objectives(store: Store, world: World) -> None:
    with store.session() as session:
        now = GapAnalysis(session, VIEWER).report(as_of=date(2026, 1, 1), months=12)
        late = GapAnalysis(session, VIEWER).report(as_of=date(2027, 6, 1), months=12)
        after = GapAnalysis(session, VIEWER).report(as_of=date(2029, 1, 1), months=12)
    unfunded = {g.subject for g in now.unfunded_objectives if g.partner is None}
    # the small world's programs serve G1.2 (justice, police) and G1.5 (the others)
    assert "G1.2" not in unfunded and "G1.5" not in unfunded and len(unfunded) >= 3
    assert now.expiring_coverage == [] and now.assessment is None
    assert now.neglected_partners == []  # no saved assessment: no standings to compare
    # by mid-2027 every program serving them ends within the year
    expiring = {g.subject: g for g in late.expiring_coverage if g.partner is None}
    assert set(expiring) == {"G1.2", "G1.5"}
    assert expiring["G1.5"].figures["last_end"] == "2028-04-29"
    # after they end, nothing serves them
    assert {"G1.2", "G1.5"} <= {g.subject for g in after.unfunded_objectives}
    with pytest.raises(Invalid, match="bad window"), store.session() as session:
        GapAnalysis(session, VIEWER).report(months=0)
    with pytest.raises(Invalid, match="unknown"), store.session() as session:
        GapAnalysis(session, VIEWER).report(partners=["Atlantis"])


def test_regional_rollups_cross_border_programs_and_links(store: Store, world: World) -> None:
    with store.session() as session:
        analysis = RegionalAnalysis(session, VIEWER)
        bureaus = analysis.view(kind="bureau")
        africa = analysis.view(kind="organization", region="AU")
        commands = analysis.view(kind="combatant_command")
    planned = m(6 * 8 + 4 + 3)
    assert bureaus.rollup.total_planned == planned and bureaus.rollup.sums_to_total
    rows = {r.code: r for r in bureaus.rollup.rows}
    assert rows["AF"].planned == planned - m(3) and rows["AF"].programs == 7
    assert rows["WHA"].planned == m(3) and rows["AF"].name
    assert commands.rollup.sums_to_total
    assert {r.code for r in commands.rollup.rows} >= {"AFRICOM", "SOUTHCOM"}
    [cross] = bureaus.cross_border
    assert cross.id == world.regional and cross.partner_names == ["Kenya", "Somalia"]
    assert cross.planned == m(4) and cross.bureaus == ["AF"]
    [link] = bureaus.links
    assert (link.a, link.b, link.programs, link.program_ids) == ("KEN", "SOM", 1, [world.regional])
    # organizations overlap: a country counts in each; the reconciliation adds up
    rc = africa.rollup.reconciliation
    assert rc is not None and not africa.rollup.sums_to_total
    assert rc.rows_planned - rc.counted_again_planned + rc.outside_planned == rc.total_planned
    assert africa.region == "AU" and set(africa.countries) == {"KEN", "SOM", "NGA"}
    with pytest.raises(Invalid), store.session() as session:
        RegionalAnalysis(session, VIEWER).view(kind="continent")
    with pytest.raises(NotFound), store.session() as session:
        RegionalAnalysis(session, VIEWER).view(region="NOWHERE")
