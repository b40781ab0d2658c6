"""Exports by audience: CSV, Excel, IATI and the country brief carry only what their
audience may see, say what they withheld (counts by reason, never titles or ids) in the
file and in the summary, and never exceed what the requesting user may read."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from ssaplan.core.store import Store
from tests.apibase import Api
from tests.conftest import run_cli
from tests.portfolio.test_visibility import ALL, SEEN, WITHHELD, WORLD, build_world, readers

# The public sees U programs without a releasable-to list only.
PUBLIC = {"P-U"}


def _csv_ids(text: str) -> tuple[set[str], list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    ids = {r[0] for r in rows[1:] if not r[0].startswith("# ")}
    notes = [r[0] for r in rows[1:] if r[0].startswith("# ")]
    return ids, notes


def _no_hidden_names(text: str, shown: set[str]) -> None:
    for pid in ALL - shown:
        assert f"Program [{pid}]" not in text
        assert f"{pid}," not in text and f">{pid}<" not in text and f"| {pid} |" not in text


@pytest.fixture
def world(api: Api) -> tuple[Api, dict[str, dict[str, str]]]:
    build_world(api.store)
    return api, readers(api)


def test_every_export_follows_the_requesting_readers_view(world: Any) -> None:
    api, heads = world
    for name in ("sbu", "gbr-sbu", "ken"):
        headers = heads[name]
        shown, withheld = SEEN[name], WITHHELD[name]
        total = sum(withheld.values())
        r = api.client.get("/api/export/csv", headers=headers)
        assert r.status_code == 200, r.text
        ids, notes = _csv_ids(r.text)
        assert ids == shown, name
        assert notes and f"{total} program(s) withheld" in notes[0]
        assert r.headers["X-Withheld"] == str(total)
        _no_hidden_names(r.text, shown)

        x = api.client.get("/api/export/excel", headers=headers)
        wb = load_workbook(io.BytesIO(x.content))
        sheet_ids = {row[0] for row in wb["Programs"].iter_rows(min_row=2, values_only=True)}
        assert sheet_ids == shown
        note = {row[0]: row[1] for row in wb["Withheld"].iter_rows(values_only=True)}
        assert note["withheld: marked above the reader's ceiling"] == withheld["above_ceiling"]
        assert note["withheld: not releasable to the audience"] == withheld["not_releasable"]

        b = api.client.get("/api/export/brief?country=GHA", headers=headers)
        assert b.status_code == 200, b.text
        assert f"{total} program(s) withheld" in b.text
        for pid in shown:
            assert f"| {pid} |" in b.text
        _no_hidden_names(b.text, shown)


def test_an_audience_narrows_and_never_widens(world: Any) -> None:
    api, heads = world
    # The public from a reader cleared to SBU: U without a list only.
    r = api.client.get("/api/export/csv?audience=public", headers=heads["sbu"])
    assert _csv_ids(r.text)[0] == PUBLIC
    # A GBR reader asking for us-government still gets their own view, not more.
    r = api.client.get("/api/export/csv?audience=us-government", headers=heads["gbr"])
    assert _csv_ids(r.text)[0] == SEEN["gbr"]
    # An SBU reader exporting for GBR: both limits apply.
    r = api.client.get("/api/export/csv?audience=GBR", headers=heads["sbu"])
    assert _csv_ids(r.text)[0] == SEEN["gbr-sbu"]
    assert r.headers["X-Withheld-By"] == "above_ceiling=2, not_releasable=1"
    bad = api.client.get("/api/export/csv?audience=Atlantis", headers=heads["usg"])
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["loc"][-1] == "audience"


def test_iati_defaults_to_the_public_and_says_what_it_withheld(world: Any) -> None:
    api, heads = world
    r = api.client.get("/api/export/iati", headers=heads["usg"])
    assert r.status_code == 200, r.text
    assert r.headers["X-Activities"] == "1" and r.headers["X-Withheld"] == "5"
    assert "5 program(s) withheld for public" in r.text  # the XML comment
    _no_hidden_names(r.text, PUBLIC)
    # For a named donor, what is releasable to it (SBU REL GBR included).
    gbr = api.client.get("/api/export/iati?audience=GBR", headers=heads["usg"])
    assert gbr.headers["X-Activities"] == str(len(SEEN["gbr"]))
    assert gbr.headers["X-Withheld-By"] == "above_ceiling=0, not_releasable=2"


def test_cli_exports_take_an_audience_and_report_what_was_withheld(
    store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    build_world(store)
    db = str(store.engine.url.render_as_string(hide_password=False))
    out = tmp_path / "p.csv"
    code, stdout, err = run_cli(
        capsys, "export", "csv", "--out", str(out), "--audience", "GBR", "--db", db, "--json"
    )
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["audience"] == "GBR" and summary["programs"] == len(SEEN["gbr"])
    assert summary["withheld_by"] == WITHHELD["gbr"]
    assert _csv_ids(out.read_text())[0] == SEEN["gbr"]
    # Without --audience the operator (U.S. Government, every marking) exports everything
    # and the file carries no note.
    code, stdout, _ = run_cli(capsys, "export", "csv", "--out", str(out), "--db", db, "--json")
    assert json.loads(stdout)["withheld"] == 0
    assert _csv_ids(out.read_text()) == (ALL, [])
    # IATI: public by default.
    x = tmp_path / "p.xml"
    code, stdout, _ = run_cli(capsys, "export", "iati", "--out", str(x), "--db", db, "--json")
    assert json.loads(stdout)["withheld_by"] == {"above_ceiling": 0, "not_releasable": 5}
    # The brief, Markdown to a file and HTML for a partner.
    md = tmp_path / "gha.md"
    code, stdout, err = run_cli(
        capsys, "export", "brief", "--country", "GHA", "--audience", "public", "--out", str(md),
        "--db", db, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(stdout)["planned"] == WORLD["P-U"][2]
    assert "5 program(s) withheld for public" in md.read_text()
    _no_hidden_names(md.read_text(), PUBLIC)
    code, stdout, err = run_cli(
        capsys, "export", "brief", "--country", "Ghana", "--audience", "KEN", "--html", "--db", db
    )
    assert code == 0, err
    assert stdout.startswith("<!doctype html>") and "<td>P-U</td>" in stdout


def test_an_exported_csv_with_its_note_imports_back(world: Any, tmp_path: Path) -> None:
    """The withheld row is a note, not a program: re-importing the file changes nothing."""
    api, heads = world
    admin = api.login("imp-admin", "admin")
    text = api.client.get("/api/export/csv?audience=GBR", headers=admin).text
    assert "# " in text
    r = api.client.post(
        "/api/import/programs",
        files={"files": ("p.csv", text.encode(), "text/csv")},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["unchanged"] == len(SEEN["gbr"])


def test_import_validates_releasable_to_by_row_and_column(world: Any) -> None:
    api, _heads = world
    admin = api.login("imp-admin2", "admin")
    text = api.client.get("/api/export/csv", headers=admin).text
    rows = list(csv.reader(io.StringIO(text)))
    col = rows[0].index("releasable_to")
    rows[1][col] = "GBR;Atlantis"
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    r = api.client.post(
        "/api/import/programs",
        files={"files": ("p.csv", buf.getvalue().encode(), "text/csv")},
        headers=admin,
    )
    assert r.status_code == 422, r.text
    detail = r.json()["error"]["details"][0]
    assert detail["loc"][-2:] == ["line 2", "releasable_to"]
    assert "Atlantis" in detail["msg"]
