"""The demo world has restricted partners, each exception and waiver at work, and units in
every vetting state; both eligible and ineligible program-years, whatever the programs."""

from __future__ import annotations

from collections import Counter
from datetime import date

from ssaplan.compliance.inputs import fiscal_year_of
from ssaplan.compliance.service import ComplianceService
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store

VIEWER = Actor("viewer", "viewer")


def test_restricted_partners_with_exceptions_and_waivers(demo_store: Store) -> None:
    with demo_store.session() as session:
        svc = ComplianceService(session, VIEWER)
        restrictions = svc.restrictions.search()
        fy = fiscal_year_of(svc.today)
        verdicts = svc.eligibility(fiscal_year=fy)
    types = Counter(r.type for r in restrictions)
    assert types["state_sponsor_of_terrorism"] == 7  # the shipped, real designations
    assert {t for t in types if t != "state_sponsor_of_terrorism"} == {
        "coup",
        "child_soldiers",
        "trafficking_tier3",
    }
    for r in restrictions:
        if r.type != "state_sponsor_of_terrorism":
            assert r.citation.startswith("ILLUSTRATIVE DEMO DATA")
    assert any(r.waivers for r in restrictions if r.type == "coup")
    assert any(r.waivers for r in restrictions if r.type == "child_soldiers")
    effects = Counter(reason.effect for v in verdicts for reason in v.reasons)
    assert effects["blocks"] and effects["waived"] and effects["excepted"] and effects["vetted"]
    eligible = Counter(v.eligible for v in verdicts)
    assert eligible[True] > 100 and eligible[False] >= 5


def test_units_in_every_vetting_state(sqlite_demo: Store) -> None:
    with sqlite_demo.session() as session:
        svc = ComplianceService(session, VIEWER)
        assisted = svc.assisted_units()
        queue = svc.vetting_queue()
        credible = svc.vetting.credible()
        requests = svc.vetting.requests()
    states = {u.status for c in assisted for u in c.units}
    assert states >= {
        "approved",
        "pending",
        "expired",
        "suspended",
        "denied",
        "credible_information",
    }
    assert {v.status for v in requests} == {"pending", "approved", "suspended", "denied"}
    assert len(queue.pending) == 1 and len(queue.expiring) == 1
    assert {a.status for a in queue.attention} == {
        "expired",
        "suspended",
        "denied",
        "credible_information",
    }
    assert sorted(c.open for c in credible) == [False, True]  # one remediated, one open
    assert all("(illustrative)" in u.name for c in assisted for u in c.units)
    assert any(v.individual for v in requests)


def test_the_demo_vetting_is_dated_from_the_day_it_is_loaded(sqlite_demo: Store) -> None:
    with sqlite_demo.session() as session:
        (expiring, _, days_left) = ComplianceService(session, VIEWER).vetting.expiring()[0]
    assert expiring.decided is not None and expiring.decided < date.today()
    assert days_left <= 20
