"""The fast read path of program lists shows exactly what the ORM path shows, and figures
kept between requests (list totals, roll-ups) follow every write at once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.portfolio.fields import to_public
from ssaplan.portfolio.filters import ProgramFilter
from ssaplan.portfolio.models import Program
from ssaplan.portfolio.reading import program_columns, public_dicts
from ssaplan.portfolio.schemas import BudgetLineIn, MilestoneIn, ProgramPublic, ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from tests.conftest import OPERATOR
from tests.factories import program


def _seed(store: Store) -> None:
    with store.transaction() as session:
        service = PortfolioService(session, OPERATOR)
        service.create(
            program(
                id="READ-1",
                countries=["KEN", "UGA"],
                regions=["AF"],
                account="FMF",
                objectives=["G1.1"],
                budget=[
                    BudgetLineIn(fiscal_year=2027, planned=300, obligated=20),
                    BudgetLineIn(fiscal_year=2026, account="IMET", planned=70, disbursed=5),
                ],
                milestones=[MilestoneIn(name="Boats", requested_on=date(2026, 1, 5))],
                marking="SBU",
                releasable_to=["GBR", "NATO"],
            )
        )
        service.create(program(id="READ-2", countries=["NGA"], budget=[]))


def test_a_listed_program_equals_the_program_shown_alone(store: Store) -> None:
    _seed(store)
    with store.session() as session:
        service = PortfolioService(session, OPERATOR)
        listed = service.list_programs(ProgramFilter(), limit=None, sort="-planned")
        loaded = {p.code: to_public(p) for p in session.execute(select(Program)).scalars()}
    assert [p.id for p in listed.items] == ["READ-1", "READ-2"]
    for p in listed.items:
        assert p.model_dump() == loaded[p.id].model_dump()
    assert listed.items[0].releasable_to == ["GBR", "NATO"]
    assert listed.total == 2
    assert listed.totals.planned == 370


def test_the_fast_path_fills_every_field_of_the_public_shape(store: Store) -> None:
    """A field added to ProgramPublic must be added to the fast path too: a default
    would otherwise hide it (releasable_to went missing from lists this way)."""
    _seed(store)
    with store.session() as session:
        rows = session.connection().execute(select(*program_columns())).all()
        dicts = public_dicts(session, rows)
    assert dicts and all(set(d) == set(ProgramPublic.model_fields) for d in dicts)


def test_list_totals_and_rollups_follow_each_write(store: Store) -> None:
    _seed(store)

    def figures() -> tuple[int, int, int, int]:
        with store.session() as session:
            service = PortfolioService(session, OPERATOR)
            page = service.list_programs(ProgramFilter(), limit=1)
            rollup = service.rollup(ProgramFilter())
            ken = next(c for c in service.countries() if c["iso3"] == "KEN")
            return page.total, page.totals.planned, rollup.total.planned, ken["planned"]

    before = figures()
    assert figures() == before  # kept: the same again
    with store.transaction() as session:
        service = PortfolioService(session, OPERATOR)
        current = service.get("READ-1")
        service.update(
            "READ-1",
            ProgramUpdate(
                version=current.version, budget=[BudgetLineIn(fiscal_year=2027, planned=1000)]
            ),
        )
    total, planned, rolled, ken = figures()
    assert (total, planned, rolled) == (2, 1000, 1000)
    assert ken != before[3]
    with store.transaction() as session:
        PortfolioService(session, OPERATOR).delete("READ-2")
    assert figures()[0] == 1


def test_a_write_in_the_same_transaction_is_counted(store: Store) -> None:
    _seed(store)
    with store.transaction() as session:
        service = PortfolioService(session, OPERATOR)
        assert service.list_programs(ProgramFilter(), limit=1).total == 2
        service.create(program(id="READ-3", countries=["GHA"], budget=[]))
        assert service.list_programs(ProgramFilter(), limit=1).total == 3


def test_the_kept_list_answer_follows_each_write_and_each_reader(store: Store) -> None:
    """The API's list JSON is kept between requests: an edit shows at once, and a reader
    with a lower ceiling never gets the answer kept for another reader."""
    import json

    from ssaplan.core.permissions import Actor

    _seed(store)
    cleared_to_u = Actor("u-reader", "viewer", "DOS", ceiling="U")

    def listed(actor: Actor) -> dict[str, object]:
        with store.session() as session:
            body = PortfolioService(session, actor).list_programs_json(
                ProgramFilter(), limit=10, sort="id"
            )
        return json.loads(body)

    first = listed(OPERATOR)
    assert [p["id"] for p in first["items"]] == ["READ-1", "READ-2"]
    assert listed(OPERATOR) == first  # kept
    limited = listed(cleared_to_u)
    assert [p["id"] for p in limited["items"]] == ["READ-2"]
    assert limited["withheld"] == {"above_ceiling": 1, "not_releasable": 0}
    with store.transaction() as session:
        service = PortfolioService(session, OPERATOR)
        current = service.get("READ-2")
        service.update("READ-2", ProgramUpdate(version=current.version, title="Renamed"))
    after = listed(OPERATOR)
    assert after["items"][1]["title"] == "Renamed"
    assert after["items"][1]["version"] == current.version + 1
    assert listed(cleared_to_u)["items"][0]["title"] == "Renamed"


def test_the_json_list_answer_is_byte_for_byte_the_validated_one(store: Store) -> None:
    """The API's list answer is written from the page's data without validating it again:
    it must equal ProgramList's own JSON of the same page, for every filter, sort and
    page, readers with limits included (dates, markings, shares, milestones, withheld)."""
    _seed(store)
    low = Actor("low", "viewer", "State", ceiling="U")
    cases = [
        (ProgramFilter(), None, 0, "id"),
        (ProgramFilter(), 1, 1, "-planned"),
        (ProgramFilter(country="KEN"), 50, 0, "title"),
        (ProgramFilter(fiscal_year=2027), 50, 0, "-obligated"),
        (ProgramFilter(), 50, 5, "id"),  # past the end: an empty page
    ]
    with store.session() as session:
        for actor in (OPERATOR, low):
            service = PortfolioService(session, actor)
            for flt, limit, offset, sort in cases:
                expected = service.list_programs(
                    flt, limit=limit, offset=offset, sort=sort
                ).model_dump_json()
                got = service.list_programs_json(flt, limit=limit, offset=offset, sort=sort)
                assert got == expected, (actor.username, flt, limit, offset, sort)
