"""Other donors' money from a real IATI file, through import and the donor analyses:
every stored dollar of the counted transactions reaches the matrix, to the dollar."""

from __future__ import annotations

from sqlalchemy import select

from ssaplan.coordination.donor_analysis import DonorAnalysis
from ssaplan.coordination.models import DonorTransaction
from ssaplan.coordination.partner import partner_picture
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from tests.conftest import shared_data
from tests.ingest.conftest import import_iati

VIEWER = Actor("viewer", "viewer")


def test_dfid_drc_disbursements_reach_the_matrix_to_the_dollar(store: Store) -> None:
    import_iati(store, [shared_data("iati", "publishers", "gb-1_dfid_drc__CD.xml")])
    with store.session() as session:
        rows = session.execute(
            select(
                DonorTransaction.usd,
                DonorTransaction.transaction_date,
                DonorTransaction.value_date,
            ).where(DonorTransaction.type.in_(("3", "4")))
        ).all()
        analysis = DonorAnalysis(session, VIEWER)
        flows = analysis.flows()
        overview = analysis.overview(vocabulary="dac5")
        congo = partner_picture(session, VIEWER, "COD", vocabulary="dac5")
    counted = [usd for usd, day, value_day in rows if usd is not None and (day or value_day)]
    assert len(counted) > 100
    assert flows.theirs.transactions == len(rows)
    assert flows.theirs.no_usd == sum(1 for usd, _, _ in rows if usd is None)
    assert flows.ours == []  # no programs in this database
    total = sum(counted)
    assert sum(f.usd for f in flows.theirs.flows) == total
    [dfid] = overview.donors
    assert (dfid.donor, dfid.name, dfid.usd) == (
        "GB-1",
        "Department for International Development",
        total,
    )
    assert sum(c.usd for c in overview.cells if c.partner == "COD") == congo.usd
    assert congo.donors[0].donor == "GB-1" and congo.our_share.ours_usd == 0
    assert congo.fragmentation is not None and congo.fragmentation.hhi == 1.0
    # every sector of Congo has one donor, so it leads each, with whatever advantage
    assert {lead.donor for lead in congo.lead_donors} == {"GB-1"}
