"""The restrictions CSV out and back in with markings (issue 10, item 8): an export lists
only the restrictions the exporting reader (and the audience asked for) may read, with
their ``marking`` and ``releasable_to`` columns, and states what it withheld in a last
``# ...`` row the importer skips; an import checks each row's marking like a write does
(unknown, or above the importer's ceiling: refused naming the row and column, nothing
written), and an export imported into a fresh database reproduces the markings."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ssaplan.compliance.models import Restriction
from ssaplan.compliance.restrictions_csv import COLUMNS, EXPORT_COLUMNS
from ssaplan.compliance.schemas import RestrictionUpdate, WaiverIn
from ssaplan.compliance.service import ComplianceService
from ssaplan.core.errors import Invalid
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.core.users import get_user, update_user
from tests.apibase import Api
from tests.compliance.conftest import ADMIN, TODAY
from tests.compliance.test_markings import (
    READERS,
    RESTRICTIONS,
    SEEN,
    U_ADMIN,
    WITHHELD,
    coup,
)
from tests.conftest import OPERATOR, run_cli

HEADER = ",".join(EXPORT_COLUMNS) + "\n"


@pytest.fixture
def register(service: Any) -> dict[str, int]:
    """MLI (U), NER (CUI), BFA (CUI, REL TO NATO; with a cited waiver): ids by country."""
    ids = {}
    for country in RESTRICTIONS:
        extra: dict[str, Any] = {}
        if country == "BFA":
            extra["waivers"] = [
                WaiverIn(
                    accounts=["PKO"],
                    start=date(2025, 10, 1),
                    end=date(2026, 9, 30),
                    citation="PD 2025-11",
                )
            ]
        with service(write=True) as svc:
            change = svc.restrictions.create(coup(country, **extra))
        assert change.restriction is not None
        ids[country] = change.restriction.id
    return ids


def export(service: Any, actor: Actor = ADMIN, **kw: Any) -> tuple[str, dict[str, Any]]:
    out = io.StringIO(newline="")
    with service(actor=actor) as svc:
        summary = svc.restrictions.export_csv(out, **kw)
    return out.getvalue(), summary


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def data_rows(text: str) -> list[dict[str, str]]:
    return [r for r in rows(text) if not r["country"].startswith("# ")]


def note(text: str) -> str | None:
    """The export's last row when it is a statement (its first cell; the rest empty)."""
    last = list(csv.reader(io.StringIO(text)))[-1]
    return last[0] if last[0].startswith("# ") and not any(last[1:]) else None


@contextmanager
def fresh(templates: Any, tmp_path: Path) -> Iterator[Store]:
    """Another empty database (the import's target)."""
    path = tmp_path / "fresh.db"
    shutil.copy(templates.sqlite("empty"), path)
    store = Store(f"sqlite:///{path}")
    try:
        yield store
    finally:
        store.dispose()


def count(store: Store) -> int:
    with store.session() as session:
        return int(session.execute(select(func.count()).select_from(Restriction)).scalar_one())


def test_the_export_lists_what_each_reader_may_read_and_states_what_it_withheld(
    register: dict[str, int], service: Any
) -> None:
    for name, actor in READERS.items():
        text, summary = export(service, actor)
        assert text.splitlines()[0] == ",".join(EXPORT_COLUMNS)
        assert {r["country"] for r in data_rows(text)} == SEEN[name], name
        assert summary["withheld_by"] == WITHHELD[name], name
        assert summary["withheld"] == sum(WITHHELD[name].values())
        assert summary["restrictions"] == len(SEEN[name])
        withheld = summary["withheld"]
        if name == "usg":
            # Unrestricted and nothing withheld: no statement row.
            assert note(text) is None
        else:
            assert note(text) == (
                f"# {withheld} restriction(s) withheld for {summary['audience']}: "
                f"{WITHHELD[name]['above_ceiling']} marked above the reader's marking "
                f"ceiling, {WITHHELD[name]['not_releasable']} not releasable to "
                f"{summary['audience']}."
            ), name
    text, _ = export(service)
    by_country = {r["country"]: r for r in data_rows(text)}
    assert (by_country["BFA"]["marking"], by_country["BFA"]["releasable_to"]) == ("CUI", "NATO")
    assert (by_country["MLI"]["marking"], by_country["MLI"]["releasable_to"]) == ("U", "")
    assert by_country["BFA"]["waiver_citation"] == "PD 2025-11"


def test_an_export_for_an_audience_is_never_wider_than_the_exporter(
    register: dict[str, int], service: Any
) -> None:
    text, summary = export(service, audience="public")
    assert {r["country"] for r in data_rows(text)} == {"MLI"}
    assert summary["audience"] == "public"
    assert summary["withheld_by"] == {"above_ceiling": 0, "not_releasable": 2}
    assert note(text) == (
        "# 2 restriction(s) withheld for public: 0 marked above the reader's marking "
        "ceiling, 2 not releasable to public."
    )
    text, summary = export(service, audience="GBR")
    assert {r["country"] for r in data_rows(text)} == {"MLI", "BFA"}
    # The exporter's own ceiling still applies to an export for a wider audience.
    text, summary = export(service, U_ADMIN, audience="GBR")
    assert {r["country"] for r in data_rows(text)} == {"MLI"}
    assert summary["withheld_by"]["above_ceiling"] == 2
    # A filter narrows what is counted as withheld too.
    text, summary = export(service, READERS["ceiling-u"], country="NER")
    assert data_rows(text) == [] and summary["withheld"] == 1


def test_an_export_imported_into_a_fresh_database_reproduces_the_markings(
    register: dict[str, int], service: Any, templates: Any, tmp_path: Path
) -> None:
    text, _ = export(service)
    with service() as svc:
        before = {
            r.country: (r.marking, r.releasable_to, r.start, r.end, r.citation, r.waivers)
            for r in svc.restrictions.search()
        }
    with fresh(templates, tmp_path) as target:
        with target.transaction() as session:
            report = ComplianceService(session, ADMIN, today=TODAY).restrictions.import_csv(
                text.encode("utf-8"), name="export.csv"
            )
        assert len(report.created) == 3
        with target.session() as session:
            after = {
                r.country: (r.marking, r.releasable_to, r.start, r.end, r.citation, r.waivers)
                for r in ComplianceService(session, ADMIN, today=TODAY).restrictions.search()
            }

    def comparable(v: tuple[Any, ...]) -> tuple[Any, ...]:
        return (*v[:5], [(w.accounts, w.start, w.end, w.citation) for w in v[5]])

    assert {c: comparable(v) for c, v in after.items()} == {
        c: comparable(v) for c, v in before.items()
    }
    assert after["BFA"][:2] == ("CUI", ["NATO"])
    # Back into the register it came from: nothing changes.
    with service(write=True) as svc:
        same = svc.restrictions.import_csv(text.encode("utf-8"), name="export.csv")
    assert same.created == [] and same.updated == [] and len(same.unchanged) == 3


def test_the_importer_skips_the_withheld_row(
    register: dict[str, int], service: Any, templates: Any, tmp_path: Path
) -> None:
    text, summary = export(service, U_ADMIN)
    assert summary["withheld"] == 2 and note(text) is not None
    with fresh(templates, tmp_path) as target:
        with target.transaction() as session:
            report = ComplianceService(session, U_ADMIN, today=TODAY).restrictions.import_csv(
                text.encode("utf-8"), name="mine.csv"
            )
        assert report.rows == 1 and len(report.created) == 1


def line(country: str, start: str, marking: str = "", rel: str = "", *, end: str = "") -> str:
    """A row of the export's eleven columns (no waiver)."""
    return f"{country},coup,{start},{end},det,,,,,{marking},{rel}\n"


@pytest.mark.parametrize(
    ("actor", "bad", "column", "needle"),
    [
        (ADMIN, line("GHA", "2021-01-01", "TOPSECRET"), "marking", "unknown marking"),
        (U_ADMIN, line("GHA", "2021-01-01", "CUI"), "marking", "above your marking ceiling"),
        (ADMIN, line("GHA", "2021-01-01", "U", "NOWHERE"), "releasable_to", "NOWHERE"),
        # Rows of one restriction (its waivers) must agree on its marking.
        (
            ADMIN,
            "TCD,coup,2020-01-01,,det,FMF,2021-02-01,,,SBU,\n",
            "marking",
            "contradicts line 2",
        ),
    ],
)
def test_an_import_refuses_a_bad_marking_naming_the_row_and_column(
    store: Store, service: Any, actor: Actor, bad: str, column: str, needle: str
) -> None:
    text = HEADER + line("TCD", "2020-01-01") + bad + line("SEN", "2020-01-01")
    with pytest.raises(Invalid) as caught, service(write=True, actor=actor) as svc:
        svc.restrictions.import_csv(text.encode("utf-8"), name="marks.csv")
    details = [(tuple(d.loc), d.msg) for d in caught.value.details]
    assert any(
        loc[:3] == ("marks.csv", "line 3", column) and needle in msg for loc, msg in details
    ), details
    assert "no restriction was imported" in caught.value.message
    assert count(store) == 0  # all or nothing: the good rows were not written either


def test_empty_marking_cells_follow_the_programs_csv(store: Store, service: Any) -> None:
    """An empty ``marking`` is U for a new restriction and keeps a stored one's; an empty
    ``releasable_to`` is no list; a file without the columns keeps what is stored."""
    with service(write=True) as svc:
        report = svc.restrictions.import_csv(
            (
                HEADER + line("MLI", "2020-08-18") + line("NER", "2023-07-26", "sbu", "GBR;nato")
            ).encode(),
            name="a.csv",
        )
    with service() as svc:
        got = {r.country: (r.marking, r.releasable_to) for r in svc.restrictions.search()}
    assert got == {"MLI": ("U", []), "NER": ("SBU", ["GBR", "NATO"])}
    assert len(report.created) == 2
    # The eight columns of old: markings kept.
    old = ",".join(COLUMNS) + "\nNER,coup,2023-07-26,2026-01-31,det,,,\n"
    with service(write=True) as svc:
        svc.restrictions.import_csv(old.encode(), name="b.csv")
    with service() as svc:
        (ner,) = svc.restrictions.search(country="NER")
    assert (ner.end, ner.marking, ner.releasable_to) == (date(2026, 1, 31), "SBU", ["GBR", "NATO"])
    # Empty marking keeps it; an empty releasable_to clears the list (as for programs).
    with service(write=True) as svc:
        svc.restrictions.import_csv(
            (HEADER + line("NER", "2023-07-26", end="2026-01-31")).encode(), name="c.csv"
        )
    with service() as svc:
        (ner,) = svc.restrictions.search(country="NER")
    assert (ner.marking, ner.releasable_to) == ("SBU", [])
    with service(write=True) as svc:
        svc.restrictions.update(ner.id, RestrictionUpdate(marking="CUI", version=ner.version))
    # A changed marking is a change (audited, new version) like any other cell.
    with service(write=True) as svc:
        changed = svc.restrictions.import_csv(
            (HEADER + line("NER", "2023-07-26", "U", end="2026-01-31")).encode(), name="d.csv"
        )
    assert len(changed.updated) == 1
    with service() as svc:
        (ner,) = svc.restrictions.search(country="NER")
    assert ner.marking == "U"


def test_the_api_and_the_cli_export(
    api: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    admin = api.login("boss", "admin")
    for country in RESTRICTIONS:
        r = api.client.post(
            "/api/compliance/restrictions",
            json=coup(country).model_dump(mode="json"),
            headers=admin,
        )
        assert r.status_code == 201, r.text
    r = api.client.get("/api/compliance/restrictions.csv?audience=public", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["X-Audience"] == "public" and r.headers["X-Withheld"] == "2"
    assert r.headers["X-Withheld-By"] == "above_ceiling=0, not_releasable=2"
    assert {row["country"] for row in data_rows(r.text)} == {"MLI"}
    assert note(r.text) is not None
    headers = api.login("liaison", "viewer")
    with api.store.transaction() as session:
        user = get_user(session, "liaison")
        update_user(session, OPERATOR, "liaison", version=user.version, audience="GBR")
    r = api.client.get("/api/compliance/restrictions.csv", headers=headers)
    assert {row["country"] for row in data_rows(r.text)} == SEEN["gbr"]
    assert r.headers["X-Withheld"] == "1"
    bad = api.client.get("/api/compliance/restrictions.csv?audience=Narnia", headers=admin)
    assert bad.status_code == 422
    # The CLI (the local operator): to a file, with the summary as JSON.
    out = tmp_path / "r.csv"
    code, stdout, err = run_cli(
        capsys,
        "--db",
        api.store.url,
        "comply",
        "restrictions",
        "export",
        "--audience",
        "GBR",
        "--output",
        str(out),
        "--json",
    )
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["restrictions"] == 2 and summary["withheld_by"]["not_releasable"] == 1
    assert {row["country"] for row in data_rows(out.read_text(encoding="utf-8"))} == SEEN["gbr"]
    code, stdout, err = run_cli(capsys, "--db", api.store.url, "comply", "restrictions", "export")
    assert code == 0 and {row["country"] for row in data_rows(stdout)} == SEEN["usg"]
    assert "3 restriction(s)" in err
