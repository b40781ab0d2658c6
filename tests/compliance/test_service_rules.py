"""The rules as data in the database: shipped defaults until the first write, admins' edits
checked against the whole set, versioned, audited; export and import as a rules file."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ssaplan.compliance.rules import DEFAULT_RULES_PATH
from ssaplan.compliance.schemas import (
    RestrictionCreate,
    RestrictionTypeCreate,
    RestrictionTypeUpdate,
    RuleCreate,
    RuleExceptionIn,
    RuleUpdate,
)
from ssaplan.core import audit
from ssaplan.core.errors import Conflict, Forbidden, Invalid, NotFound, StaleVersion
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from tests.compliance.conftest import add_program, effects, verdicts


def test_the_shipped_defaults_are_in_force_until_the_first_write(service: Any) -> None:
    with service() as svc:
        listed = svc.rules.list_rules()
        assert not svc.rules.loaded()
    assert [r.id for r in listed] == [
        "coup_government",
        "child_soldiers_security_assistance",
        "tier3_nonhumanitarian",
        "sst_all_assistance",
    ]
    assert all(r.version == 1 and r.updated_at is None and r.citation for r in listed)
    with service(write=True) as svc:
        svc.rules.ensure_loaded()
    with service() as svc:
        stored = svc.rules.list_rules()
        assert svc.rules.loaded()
    assert [(r.id, r.summary, r.blocks_accounts) for r in stored] == [
        (r.id, r.summary, r.blocks_accounts) for r in listed
    ]
    assert all(r.updated_at is not None for r in stored)


def test_an_edit_is_versioned_audited_and_changes_eligibility(store: Store, service: Any) -> None:
    add_program(store, "MLI-CTPF", account="CTPF", agency="DoD")
    with service(write=True) as svc:
        svc.restrictions.create(
            RestrictionCreate(country="MLI", type="coup", start=date(2021, 5, 24), citation="det")
        )
    with service() as svc:
        assert verdicts(svc)[("MLI-CTPF", 2026)].eligible
        current = svc.rules.get_rule("coup_government")
    with service(write=True) as svc:
        changed = svc.rules.update_rule(
            "coup_government",
            RuleUpdate(
                blocks_accounts=[*current.blocks_accounts, "CTPF"],
                note="counsel: CTPF is reached too",
                version=current.version,
            ),
        )
    assert changed.version == 2 and "CTPF" in changed.blocks_accounts
    with service() as svc:
        assert not verdicts(svc)[("MLI-CTPF", 2026)].eligible
    with store.session() as session:
        (record,) = audit.search(session, entity_type="compliance_rule")
    assert record.action == "update" and record.before and record.after
    assert "CTPF" not in record.before["blocks_accounts"] and record.after["version"] == 2


def test_a_stale_edit_is_refused_and_changes_nothing(service: Any) -> None:
    with service(write=True) as svc:
        svc.rules.update_rule("coup_government", RuleUpdate(note="first", version=1))
    with pytest.raises(StaleVersion), service(write=True) as svc:
        svc.rules.update_rule("coup_government", RuleUpdate(note="second", version=1))
    with service() as svc:
        rule = svc.rules.get_rule("coup_government")
    assert rule.note == "first" and rule.version == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"blocks_accounts": ["FMFP"]}, "unknown account id 'FMFP'"),
        ({"blocks_accounts": ["*", "FMF"]}, '"*" means every account'),
        ({"restriction_type": "embargo"}, "'embargo' is not declared"),
        ({"waiver": ""}, "a waivable rule must say who waives it"),
        (
            {
                "exceptions": [
                    RuleExceptionIn(id="x", summary="s", citation="c", dac_codes=["99999"])
                ]
            },
            "unknown DAC purpose code '99999'",
        ),
        (
            {"exceptions": [RuleExceptionIn(id="x", summary="s", citation="c")]},
            "give dac_codes or flags",
        ),
        (
            {
                "exceptions": [
                    RuleExceptionIn(
                        id="x", summary="s", citation="c", flags=["f"], accounts=["CTPF"]
                    )
                ]
            },
            "'CTPF' is not among the rule's blocks_accounts",
        ),
    ],
)
def test_an_edit_that_breaks_the_rule_set_is_refused(
    service: Any, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(Invalid) as caught, service(write=True) as svc:
        svc.rules.update_rule("coup_government", RuleUpdate(**change, version=1))
    assert any(message in d.msg for d in caught.value.details), caught.value.details
    with service() as svc:
        assert svc.rules.get_rule("coup_government").version == 1


def test_an_exception_can_be_added_and_recognized(store: Store, service: Any) -> None:
    add_program(store, "MLI-PKO", account="PKO")
    with service(write=True) as svc:
        svc.restrictions.create(
            RestrictionCreate(country="MLI", type="coup", start=date(2021, 5, 24), citation="det")
        )
        current = svc.rules.get_rule("coup_government")
        svc.rules.update_rule(
            "coup_government",
            RuleUpdate(
                exceptions=[
                    *[RuleExceptionIn(**e.model_dump()) for e in current.exceptions],
                    RuleExceptionIn(
                        id="peacekeeping_notwithstanding",
                        summary="PKO made available notwithstanding Sec. 7008",
                        citation="illustrative act, sec. 7xxx",
                        flags=["peacekeeping_notwithstanding"],
                        accounts=["PKO"],
                    ),
                ],
                version=current.version,
            ),
        )
    from ssaplan.compliance.schemas import ProgramFactsUpdate

    with service(write=True) as svc:
        assert "peacekeeping_notwithstanding" in svc.vetting.known_flags()
        svc.vetting.set_facts(
            "MLI-PKO", ProgramFactsUpdate(flags=["peacekeeping_notwithstanding"], version=0)
        )
    with service() as svc:
        assert effects(verdicts(svc)[("MLI-PKO", 2026)]) == [("coup_government", "excepted")]


def test_rules_and_types_are_created_and_deleted(store: Store, service: Any) -> None:
    add_program(store, "MLI-FMF")
    with service(write=True) as svc:
        svc.rules.create_type(
            RestrictionTypeCreate(id="arms_embargo", name="Arms embargo", description="UN embargo")
        )
        rule = svc.rules.create_rule(
            RuleCreate(
                id="embargo_defense",
                restriction_type="arms_embargo",
                summary="No defense articles to an embargoed country.",
                citation="22 U.S.C. 2778 (illustrative)",
                blocks_accounts=["FMF"],
                recipients="any",
                waivable=False,
            )
        )
        svc.restrictions.create(
            RestrictionCreate(
                country="MLI", type="arms_embargo", start=date(2024, 1, 1), citation="UNSCR"
            )
        )
    assert rule.position == 4 and rule.restriction_type_name == "Arms embargo"
    with service() as svc:
        assert effects(verdicts(svc)[("MLI-FMF", 2026)]) == [("embargo_defense", "blocks")]
    with pytest.raises(Conflict, match="already exists"), service(write=True) as svc:
        svc.rules.create_type(RestrictionTypeCreate(id="arms_embargo", name="Again"))
    with pytest.raises(Conflict, match="in use"), service(write=True) as svc:
        svc.rules.delete_type("arms_embargo")
    with service(write=True) as svc:
        svc.rules.update_type(
            "arms_embargo", RestrictionTypeUpdate(name="UN arms embargo", version=1)
        )
        svc.rules.delete_rule("embargo_defense", version=1)
    with service() as svc:
        assert svc.rules.get_type("arms_embargo").name == "UN arms embargo"
        assert svc.rules.get_type("arms_embargo").rules == []
        with pytest.raises(NotFound):
            svc.rules.get_rule("embargo_defense")
        assert effects(verdicts(svc)[("MLI-FMF", 2026)]) == [("arms_embargo", "no_rule")]


def test_only_admins_edit_rules(service: Any) -> None:
    planner = Actor("pat", "planner", "State")
    with pytest.raises(Forbidden), service(write=True, actor=planner) as svc:
        svc.rules.update_rule("coup_government", RuleUpdate(note="x", version=1))


def test_export_then_import_round_trips_and_an_edited_file_replaces_the_rules(
    store: Store, service: Any
) -> None:
    with service() as svc:
        text = svc.rules.export_toml()
    assert "A STARTING POINT TO BE REVIEWED BY COUNSEL" in text
    with service(write=True) as svc:
        report = svc.rules.import_toml(text, name="rules.toml")
    assert report.created == [] and report.updated == [] and report.deleted == []
    assert len(report.unchanged) == 4
    edited = text.replace(
        'blocks_accounts = ["10USC333", "DA", "ESF", "FMF", "GPOI", "IMET", "INCLE", "NADR", '
        '"PKO", "TREAS-OTA"]',
        'blocks_accounts = ["FMF"]',
    )
    assert edited != text
    start = edited.index('[[rule]]\nid = "sst_all_assistance"')
    edited = edited[:start]
    with service(write=True) as svc:
        report = svc.rules.import_toml(edited, name="edited.toml")
    assert report.updated == ["coup_government"] and report.deleted == ["sst_all_assistance"]
    with service() as svc:
        assert svc.rules.get_rule("coup_government").blocks_accounts == ["FMF"]
        assert svc.rules.get_rule("coup_government").version == 2


def test_a_bad_rules_file_changes_nothing(service: Any) -> None:
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8").replace('"DA", ', '"DAX", ', 1)
    with pytest.raises(Invalid) as caught, service(write=True) as svc:
        svc.rules.import_toml(text, name="bad.toml")
    (detail,) = caught.value.details
    assert detail.loc[0] == "bad.toml" and str(detail.loc[1]).startswith("line ")
    assert "unknown account id 'DAX'" in detail.msg
    with service() as svc:
        assert not svc.rules.loaded()
