"""docs/compliance.md stays true: its CSV example imports, every shipped rule is in it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ssaplan.compliance.restrictions_csv import COLUMNS, read_restrictions
from ssaplan.compliance.rules import RuleSet

DOC = Path(__file__).resolve().parents[2] / "docs" / "compliance.md"


def test_the_csv_example_imports(rules: RuleSet, accounts: frozenset[str]) -> None:
    text = DOC.read_text(encoding="utf-8")
    example = re.search(r"```csv\n(.*?)```", text, re.S)
    assert example, "docs/compliance.md has no ```csv example"
    assert example.group(1).splitlines()[0] == ",".join(COLUMNS)
    result = read_restrictions(
        example.group(1), known_accounts=accounts, known_types=rules.restriction_types
    )
    assert len(result.restrictions) == 4 and result.warnings == ()


def test_every_shipped_rule_exception_and_type_is_documented(rules: RuleSet) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "starting point, to be reviewed by counsel" in text
    for rule in rules.rules:
        assert f"`{rule.id}`" in text
        for exception in rule.exceptions:
            assert f"`{exception.id}`" in text
            for flag in exception.flags:
                assert f"`{flag}`" in text
    for type_id in rules.restriction_types:
        assert f"`{type_id}`" in text


def test_every_comply_command_is_in_the_table() -> None:
    import typer

    from ssaplan.compliance.cli import app

    text = DOC.read_text(encoding="utf-8")
    group: Any = typer.main.get_command(app)
    assert len(group.commands) >= 8
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer's own click classes)
            for sub in command.commands:
                assert re.search(rf"`ssaplan comply {name} [^`]*\b{sub}\b", text), (name, sub)
        else:
            assert f"`ssaplan comply {name}" in text, name


def test_the_hooks_other_domains_call_exist() -> None:
    from ssaplan.compliance.service import ComplianceService

    text = DOC.read_text(encoding="utf-8")
    for hook in ("eligible_lookup", "blocked_cells", "judge", "restriction_changes"):
        assert f"{hook}(" in text and callable(getattr(ComplianceService, hook))
