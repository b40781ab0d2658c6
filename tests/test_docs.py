"""Docs are tested against the code: the generated references match, the README is true."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import gen_docs  # noqa: E402  (a script, not a package)


def test_cli_reference_is_current() -> None:
    assert (ROOT / "docs" / "cli.md").read_text(
        encoding="utf-8"
    ) == gen_docs.cli_markdown() + "\n", (
        "docs/cli.md is stale: run .venv/bin/python scripts/gen_docs.py"
    )


def test_route_reference_is_current() -> None:
    assert (ROOT / "docs" / "api.md").read_text(encoding="utf-8") == gen_docs.api_markdown(), (
        "docs/api.md is stale: run .venv/bin/python scripts/gen_docs.py"
    )


def test_the_packaged_formats_doc_is_current() -> None:
    assert gen_docs.FORMATS_COPY.read_text(encoding="utf-8") == gen_docs.formats_markdown(), (
        "src/ssaplan/ingest/formats.md is stale: run .venv/bin/python scripts/gen_docs.py"
    )


def test_readme_names_the_two_commands_and_every_top_level_command() -> None:
    import typer.main

    from ssaplan.cli import app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    for name in typer.main.get_command(app).commands:  # type: ignore[attr-defined]
        assert name in readme, f"README does not mention `ssaplan {name}`"


def test_readme_demo_credentials_are_the_real_ones() -> None:
    from ssaplan.demo import DEMO_USERS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for username, password, role, agency, _ in DEMO_USERS:
        assert f"| `{username}` | `{password}` | {role} | {agency} |" in readme
