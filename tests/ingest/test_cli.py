"""The import and export commands keep the CLI contract: --db and --json everywhere, one
JSON object on stdout, progress on stderr, exit 0 / 1 (user error) / 2 (bad usage)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from ssaplan.core.store import Store
from tests.conftest import run_cli as run
from tests.conftest import shared_data
from tests.ingest.conftest import activity, db_state, iati_file, xml_counts

IATI_SUMMARY_KEYS = {"files", "activities", "transactions", "budgets", "versions", "skipped"}


@pytest.fixture
def db(store: Store) -> str:
    return store.url


def test_import_iati_json_summary(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    paths = [
        shared_data("iati", "publishers", "gb-1_dfid_drc__CD.xml"),
        shared_data("iati", "more-publishers", "gb-gov-1_dfid_albania_v2.01__5e87f792.xml"),
    ]
    code, out, err = run(capsys, "import", "iati", *map(str, paths), "--db", db, "--json")
    assert code == 0, err
    summary = json.loads(out)  # exactly one JSON object on stdout
    assert set(summary) >= IATI_SUMMARY_KEYS
    counts = [xml_counts(p) for p in paths]
    assert summary["files"] == 2
    assert summary["activities"] == sum(a for a, _ in counts)
    assert summary["transactions"] == sum(t for _, t in counts)
    assert summary["versions"] == {"1.01": 1, "2.01": 1}
    assert summary["skipped"] == []
    assert "importing 2 IATI file(s)" in err  # progress goes to stderr


def test_import_iati_text_output(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_data("iati", "publishers", "ocha_haiti__ocha-test-data.xml")
    code, out, err = run(capsys, "--db", db, "import", "iati", str(path))
    assert code == 0, err
    assert out == ""
    assert "imported 287 activities as donor activities" in err
    assert "note: " in err and "UGX" in err


def test_errors_exit_1_with_one_line_and_the_envelope_with_json(
    db: str, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text(iati_file(activity("XM-1-1"))[:-25], encoding="utf-8")
    before = db_state(store)
    code, out, err = run(capsys, "--db", db, "import", "iati", str(bad))
    assert code == 1 and out == ""
    last = err.splitlines()[-1]  # after the progress line
    assert last.startswith("error: cannot import bad.xml: truncated file")
    code, out, err = run(capsys, "--db", db, "import", "iati", str(bad), "--json")
    assert code == 1
    envelope = json.loads(out)["error"]
    assert envelope["code"] == "invalid" and envelope["details"][0]["loc"][0] == "bad.xml"
    assert db_state(store) == before


def test_skip_invalid_lists_skipped_with_the_required_shape(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.xml"
    path.write_text(
        iati_file(activity("XM-1-a"), activity("XM-1-a"), activity("XM-1-b")), encoding="utf-8"
    )
    code, out, err = run(
        capsys, "--db", db, "import", "iati", str(path), "--skip-invalid", "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["activities"] == 2
    (skipped,) = summary["skipped"]
    assert set(skipped) == {"file", "line", "identifier", "reason"}
    assert (skipped["file"], skipped["line"], skipped["identifier"]) == ("mixed.xml", 14, "XM-1-a")


def test_bad_usage_exits_2(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--db", db, "import", "iati")[0] == 2  # no file
    assert run(capsys, "--db", db, "import", "iati", "x.xml", "--bogus")[0] == 2
    assert run(capsys, "--db", db, "export", "iati")[0] == 2  # --out is required


def test_exports_write_files_and_a_json_summary(
    sqlite_demo: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = sqlite_demo.url
    out_xml = tmp_path / "portfolio.xml"
    code, out, err = run(capsys, "--db", db, "export", "iati", "--out", str(out_xml), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["activities"] > 0 and summary["withheld"] > 0
    assert len(etree.parse(str(out_xml)).getroot()) == summary["activities"]
    for kind, name in (("excel", "p.xlsx"), ("csv", "p.csv")):
        target = tmp_path / name
        code, out, err = run(capsys, "--db", db, "export", kind, "--out", str(target), "--json")
        assert code == 0, err
        assert json.loads(out)["rows"] >= json.loads(out)["programs"] > 1500  # the demo: ~1,900
        assert target.stat().st_size > 0 and oct(target.stat().st_mode)[-3:] == "644"
    code, out, err = run(
        capsys, "--db", db, "import", "programs", str(tmp_path / "p.csv"), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["updated"] == 0 and json.loads(out)["created"] == 0


def test_a_failed_export_leaves_no_file(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "empty.xml"
    code, _out, err = run(capsys, "--db", db, "export", "iati", "--out", str(target))
    assert code == 1 and "nothing to export" in err
    assert list(folder.iterdir()) == []  # neither the file nor its temporary


def test_import_foreign_assistance_and_programs_commands(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_data("us-assistance", "state_budget_by_country_FY2010.csv")
    code, out, err = run(capsys, "--db", db, "import", "foreign-assistance", str(path), "--json")
    assert code == 0, err
    assert json.loads(out)["figures"]["inserted"] > 500
    code, _out, err = run(capsys, "--db", db, "import", "programs", str(tmp_path / "nope.csv"))
    assert code == 1 and "no such file" in err
