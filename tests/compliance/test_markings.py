"""Markings on compliance records (issue 10, item 8): each reader's lists of restrictions
and vetting records, withheld counts, 404 for a hidden record, eligibility still judged
on a restriction the reader may not read (its text redacted), and writes refusing a
marking above the writer's ceiling or an unknown one."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ssaplan.compliance.schemas import (
    RestrictionCreate,
    RestrictionUpdate,
    UnitCreate,
    VettingCreate,
    VettingUpdate,
)
from ssaplan.core.errors import Conflict, Invalid, NotFound
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.core.users import get_user, update_user
from tests.apibase import Api
from tests.compliance.conftest import ADMIN, add_program, verdicts
from tests.conftest import OPERATOR

# Restrictions by country: (marking, releasable_to, citation).
RESTRICTIONS: dict[str, tuple[str, list[str], str]] = {
    "MLI": ("U", [], "Sec. 7008 determination on Mali"),
    "NER": ("CUI", [], "Cable 26 NIAMEY 17 (controlled)"),
    "BFA": ("CUI", ["NATO"], "Cable 26 OUAGADOUGOU 4 (REL TO NATO)"),
}
READERS = {
    "usg": Actor("usg-reader", "viewer"),
    "ceiling-u": Actor("u-reader", "viewer", ceiling="U"),
    "gbr": Actor("gbr-liaison", "viewer", audience="GBR"),
}
SEEN = {"usg": {"MLI", "NER", "BFA"}, "ceiling-u": {"MLI"}, "gbr": {"MLI", "BFA"}}
WITHHELD = {
    "usg": {"above_ceiling": 0, "not_releasable": 0},
    "ceiling-u": {"above_ceiling": 2, "not_releasable": 0},
    "gbr": {"above_ceiling": 0, "not_releasable": 1},  # REL TO NATO reaches the UK
}
U_ADMIN = Actor("u-admin", "admin", ceiling="U")


def coup(country: str, **overrides: Any) -> RestrictionCreate:
    marking, rel, citation = RESTRICTIONS.get(country, ("U", [], "Sec. 7008"))
    fields: dict[str, Any] = {
        "country": country,
        "type": "coup",
        "start": date(2020, 8, 18),
        "citation": citation,
        "marking": marking,
        "releasable_to": rel,
    }
    fields.update(overrides)
    return RestrictionCreate(**fields)


@pytest.fixture
def restricted(store: Store, service: Any) -> dict[str, int]:
    """The three restrictions, and a program in each country; their ids by country."""
    ids = {}
    for country in RESTRICTIONS:
        add_program(store, f"{country}-FMF", countries=[country])
        with service(write=True) as svc:
            change = svc.restrictions.create(coup(country))
        assert change.restriction is not None
        ids[country] = change.restriction.id
    return ids


def test_each_reader_lists_exactly_the_restrictions_they_may_read(
    restricted: dict[str, int], service: Any
) -> None:
    for name, actor in READERS.items():
        with service(actor=actor) as svc:
            listing = svc.restrictions.listing()
        assert {r.country for r in listing.items} == SEEN[name], name
        assert listing.withheld.model_dump() == WITHHELD[name], name
        assert listing.total == len(SEEN[name])
    with service(actor=READERS["usg"]) as svc:
        bfa = svc.restrictions.get(restricted["BFA"])
    assert (bfa.marking, bfa.releasable_to) == ("CUI", ["NATO"])


def test_a_hidden_restriction_is_404_like_a_missing_one(
    restricted: dict[str, int], service: Any
) -> None:
    for name, actor in READERS.items():
        for country, rid in restricted.items():
            with service(actor=actor) as svc:
                if country in SEEN[name]:
                    assert svc.restrictions.get(rid).country == country
                else:
                    with pytest.raises(NotFound, match=f"no restriction {rid}$"):
                        svc.restrictions.get(rid)
    with service(write=True, actor=U_ADMIN) as svc, pytest.raises(NotFound):
        svc.restrictions.update(restricted["NER"], RestrictionUpdate(end=None, version=1))
    with service(write=True, actor=U_ADMIN) as svc, pytest.raises(NotFound):
        svc.restrictions.delete(restricted["NER"])


def test_eligibility_is_judged_on_a_restriction_the_reader_may_not_read(
    restricted: dict[str, int], service: Any
) -> None:
    for name, actor in READERS.items():
        with service(actor=actor) as svc:
            found = verdicts(svc)
            lookup = svc.eligible_lookup()
        for country in RESTRICTIONS:
            v = found[(f"{country}-FMF", 2026)]
            assert not v.eligible, (name, country)  # the coup rule blocks FMF everywhere
            assert not lookup(country, "FMF", 2026), (name, country)
            text = " ".join(r.text for r in v.reasons)
            secret = RESTRICTIONS[country][2]
            if country in SEEN[name]:
                assert secret in text, (name, country)
            else:
                # The finding stands; the record's own text is not shown.
                assert secret not in text and "may not read" not in text
                assert "above your marking or not releasable to you" in text, (name, country)


def test_a_writer_below_the_marking_is_still_refused_an_overlapping_period(
    restricted: dict[str, int], service: Any
) -> None:
    with service(write=True, actor=U_ADMIN) as svc, pytest.raises(Conflict) as exc:
        svc.restrictions.create(coup("NER", marking="U", citation="my own", start=date(2024, 1, 1)))
    assert "you may not read" in str(exc.value) and "NIAMEY" not in str(exc.value)


def test_writes_refuse_a_marking_above_the_ceiling_or_unknown(store: Store, service: Any) -> None:
    for actor, marking, message in (
        (U_ADMIN, "CUI", "above your marking ceiling"),
        (ADMIN, "TOPSECRET", "unknown marking"),
    ):
        with service(write=True, actor=actor) as svc, pytest.raises(Invalid) as exc:
            svc.restrictions.create(coup("MLI", marking=marking))
        assert [list(d.loc) for d in exc.value.details] == [["body", "marking"]]
        assert message in exc.value.details[0].msg
    with service(write=True) as svc, pytest.raises(Invalid) as exc:
        svc.restrictions.create(coup("MLI", releasable_to=["NOWHERE"]))
    assert [list(d.loc) for d in exc.value.details] == [["body", "releasable_to", 0]]
    with service() as svc:
        assert svc.restrictions.listing().items == []  # nothing was saved
    # A marking change is audited like any field.
    with service(write=True) as svc:
        created = svc.restrictions.create(coup("MLI", marking="U")).restriction
    assert created is not None
    with service(write=True) as svc:
        changed = svc.restrictions.update(
            created.id, RestrictionUpdate(marking="SBU", releasable_to=["GBR"], version=1)
        ).restriction
    assert changed is not None and (changed.marking, changed.releasable_to) == ("SBU", ["GBR"])
    assert changed.version == 2


def _vetting_world(store: Store, service: Any) -> dict[str, int]:
    add_program(store, "MLI-FMF")
    with service(write=True) as svc:
        uid = svc.vetting.create_unit(
            UnitCreate(name="33rd Parachute Regiment", country="MLI", type="armed_forces")
        ).id
    ids = {}
    for key, (marking, rel) in {
        "U": ("U", []),
        "CUI": ("CUI", []),
        "NATO": ("CUI", ["NATO"]),
    }.items():
        with service(write=True) as svc:
            ids[key] = svc.vetting.create_request(
                VettingCreate(
                    individual=f"Officer {key}",
                    program="MLI-FMF",
                    marking=marking,
                    releasable_to=rel,
                )
            ).id
    assert uid
    return ids


def test_each_reader_lists_the_vetting_records_they_may_read_and_404_for_others(
    store: Store, service: Any
) -> None:
    ids = _vetting_world(store, service)
    seen = {"usg": {"U", "CUI", "NATO"}, "ceiling-u": {"U"}, "gbr": {"U", "NATO"}}
    for name, actor in READERS.items():
        with service(actor=actor) as svc:
            listing = svc.vetting.listing()
            queue = svc.vetting_queue()
        assert {v.individual for v in listing.items} == {f"Officer {k}" for k in seen[name]}
        assert listing.withheld.model_dump() == WITHHELD[name], name
        assert {v.id for v in queue.pending} == {ids[k] for k in seen[name]}, name
        for key, rid in ids.items():
            with service(actor=actor) as svc:
                if key in seen[name]:
                    assert svc.vetting.request(rid).individual == f"Officer {key}"
                else:
                    with pytest.raises(NotFound, match=f"no vetting request {rid}$"):
                        svc.vetting.request(rid)
    # A writer below the marking cannot decide it either: missing to them.
    u_admin = Actor("u-admin", "admin", ceiling="U")
    with service(write=True, actor=u_admin) as svc, pytest.raises(NotFound):
        svc.vetting.update_request(ids["CUI"], VettingUpdate(status="approved", version=1))
    with service(write=True, actor=u_admin) as svc, pytest.raises(Invalid) as exc:
        svc.vetting.create_request(
            VettingCreate(individual="Officer X", program="MLI-FMF", marking="SBU")
        )
    assert [list(d.loc) for d in exc.value.details] == [["body", "marking"]]


def test_api_lists_count_withheld_and_hide_records_as_404(api: Api) -> None:
    admin = api.login("boss", "admin")
    for country in RESTRICTIONS:
        r = api.client.post(
            "/api/compliance/restrictions",
            json=coup(country).model_dump(mode="json"),
            headers=admin,
        )
        assert r.status_code == 201, r.text
    bad = api.client.post(
        "/api/compliance/restrictions",
        json={**coup("TCD").model_dump(mode="json"), "marking": "TOPSECRET"},
        headers=admin,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["loc"] == ["body", "marking"]
    headers = api.login("liaison", "viewer")
    with api.store.transaction() as session:
        user = get_user(session, "liaison")
        update_user(session, OPERATOR, "liaison", version=user.version, audience="GBR")
    body = api.client.get("/api/compliance/restrictions", headers=headers).json()
    assert {r["country"] for r in body["items"]} == SEEN["gbr"]
    assert body["withheld"] == WITHHELD["gbr"]
    every = api.client.get("/api/compliance/restrictions", headers=admin).json()
    ner = next(r for r in every["items"] if r["country"] == "NER")
    hidden = api.client.get(f"/api/compliance/restrictions/{ner['id']}", headers=headers)
    missing = api.client.get("/api/compliance/restrictions/999999", headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"]
    programs = api.client.get(f"/api/compliance/restrictions/{ner['id']}/programs", headers=headers)
    assert programs.status_code == 404
    vetting = api.client.get("/api/compliance/vetting", headers=headers).json()
    assert vetting["withheld"] == {"above_ceiling": 0, "not_releasable": 0}


def test_eligibility_lists_and_panels_leave_out_programs_the_reader_may_not_see(
    store: Store, service: Any
) -> None:
    """The eligibility lists name programs with their titles and planned money: a program
    above the reader's ceiling, or not releasable to their audience, is in none of them,
    and its panel is 404 like a program that does not exist."""
    add_program(store, "MLI-OPEN", countries=["MLI"])
    add_program(store, "MLI-CUI", countries=["MLI"], marking="CUI")
    add_program(store, "MLI-NATO", countries=["MLI"], marking="U", releasable_to=["NATO"])
    shown = {
        "usg": {"MLI-OPEN", "MLI-CUI", "MLI-NATO"},
        "ceiling-u": {"MLI-OPEN", "MLI-NATO"},
        "gbr": {"MLI-OPEN", "MLI-NATO"},
    }
    for name, actor in READERS.items():
        with service(actor=actor) as svc:
            listed = {code for code, _fy in verdicts(svc)}
            assert listed == shown[name], name
            by_country = {v.id for v in svc.eligibility_public(countries=["MLI"])}
            assert by_country == shown[name], name
            planned = sum(v.planned for v in svc.eligibility_public(fiscal_year=2026))
            assert planned == 1_000_000 * len(shown[name]), name
            if "MLI-CUI" in shown[name]:
                assert svc.program_panel("MLI-CUI").id == "MLI-CUI"
            else:
                with pytest.raises(NotFound, match="no program with id 'MLI-CUI'"):
                    svc.program_panel("MLI-CUI")
