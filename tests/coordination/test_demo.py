"""Coordination's step of the illustrative demo world: planted near-duplicates, donor
activities with the bad input the engine handles, one stored run and two reviews."""

from __future__ import annotations

from datetime import date

from ssaplan.coordination.donor_analysis import DonorAnalysis
from ssaplan.coordination.gap_analysis import GapAnalysis
from ssaplan.coordination.overlaps import OverlapService
from ssaplan.coordination.service import CoordinationService
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store

VIEWER = Actor("viewer", "viewer")


def test_the_demo_has_a_reviewed_run_and_donors_to_compare(sqlite_demo: Store) -> None:
    with sqlite_demo.session() as session:
        overlaps = OverlapService(session, VIEWER)
        run = overlaps.latest_run()
        assert run is not None and run.activities > 1500 and run.likely >= 4
        marks = {m.mark: m for m in overlaps.marks().items}
        assert set(marks) == {"confirmed", "dismissed"}
        assert "Illustrative review" in marks["confirmed"].note
        pairs = overlaps.pairs(mark="confirmed").items
        assert [p.likely for p in pairs] == [True] and "Somalia" in pairs[0].a_title
        # the hard negative (the same words for police and judges) was dismissed
        [dismissed] = overlaps.pairs(mark="dismissed").items
        assert not dismissed.likely and dismissed.reasons[-1].startswith("reviewer marked")
        # another donor's write-up of a planted program is found
        somalia = overlaps.pairs(partner="SOM", kind="program-donor", likely=True).items
        assert any(p.b == "DEMO-GB-DUP-0001" for p in somalia)
        assert CoordinationService(session, VIEWER).counts()["activities"] == 55
        overview = DonorAnalysis(session, VIEWER).overview()
        gaps = GapAnalysis(session, VIEWER).report(as_of=date(2026, 1, 1))
    assert len(overview.donors) == 11 and overview.donors[0].donor == "US"
    assert all(d.name.endswith("(illustrative)") for d in overview.donors[1:])
    # neglected partners: top third of priority and propensity, bottom third of money
    assert gaps.assessment is not None and gaps.neglected_partners
    for g in gaps.neglected_partners:
        ranks = {k: float(str(g.figures[k])) for k in ("priority_rank", "propensity_rank")}
        assert min(ranks.values()) >= 2 / 3 and g.subject_name in g.reason
        assert float(str(g.figures["funding_rank"])) <= 1 / 3
