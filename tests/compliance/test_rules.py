"""The rules file: the shipped defaults load, and every kind of mistake is named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ssaplan.compliance.rules import DEFAULT_RULES_PATH, RuleSet, load_rules, parse_rules
from ssaplan.core.errors import Detail, Invalid

ACCOUNTS = {"FMF", "IMET", "PKO", "ESF"}

HEAD = """schema_version = 1
as_of = 2026-12-01

[[restriction_type]]
id = "coup"
name = "Coup"
"""

GOOD_RULE = """
[[rule]]
id = "coup_government"
restriction_type = "coup"
summary = "Blocks assistance to the government."
citation = "Sec. 7008"
blocks_accounts = ["FMF", "ESF"]
recipients = "government"
waivable = true
waiver = "Secretary of State (Sec. 7008(b))"

[[rule.exceptions]]
id = "democracy_assistance"
summary = "Democracy assistance."
citation = "Sec. 7008(a)"
dac_codes = ["15151"]
flags = ["democracy_assistance"]
"""


def parse(
    text: str,
    known_purposes: set[str] | None = None,
    known_dac_codes: set[str] | None = None,
) -> RuleSet:
    return parse_rules(
        text,
        name="rules.toml",
        known_accounts=ACCOUNTS,
        known_purposes=known_purposes,
        known_dac_codes=known_dac_codes,
    )


def problems(text: str, **kw: set[str]) -> list[Detail]:
    with pytest.raises(Invalid) as caught:
        parse(text, **kw)
    return list(caught.value.details)


def one(text: str, **kw: set[str]) -> Detail:
    found = problems(text, **kw)
    assert len(found) == 1, found
    return found[0]


def test_the_shipped_defaults_load_against_the_real_catalog(rules: RuleSet) -> None:
    assert set(rules.restriction_types) >= {
        "coup",
        "child_soldiers",
        "trafficking_tier3",
        "state_sponsor_of_terrorism",
    }
    assert "leahy" not in rules.restriction_types  # unit vetting, not a country restriction
    assert [r.id for r in rules.rules] == [
        "coup_government",
        "child_soldiers_security_assistance",
        "tier3_nonhumanitarian",
        "sst_all_assistance",
    ]
    for rule in rules.rules:
        assert rule.citation and rule.summary
        assert rule.waivable == bool(rule.waiver)
    assert rules.as_of == date(2026, 12, 1)
    assert rules.source == DEFAULT_RULES_PATH.name


def test_a_good_file_parses_into_rules_and_exceptions() -> None:
    rs = parse(HEAD + GOOD_RULE)
    rule = rs.rule("coup_government")
    assert rule.blocks_accounts == {"FMF", "ESF"}
    assert rule.exceptions[0].dac_codes == {"15151"}
    assert rs.for_type("coup") == (rule,)
    assert rs.for_type("child_soldiers") == ()
    with pytest.raises(KeyError):
        rs.rule("nope")


def test_toml_syntax_error_names_the_line() -> None:
    d = one(HEAD + "\n[[rule]]\nid = \n")
    assert d.loc[0] == "rules.toml" and d.loc[1] == "line 9"


def test_unknown_top_level_key() -> None:
    d = one("colour = 1\n" + HEAD + GOOD_RULE)
    assert d.loc == ("rules.toml", "line 1", "colour") and "unknown key" in d.msg


def test_unknown_key_in_a_rule_names_the_rule_and_line() -> None:
    text = HEAD + GOOD_RULE.replace(
        'recipients = "government"', 'recipients = "government"\nblocks = ["FMF"]'
    )
    d = one(text)
    assert d.loc == ("rules.toml", "line 15", "rule coup_government", "blocks")
    assert "allowed keys" in d.msg


def test_unknown_key_in_an_exception() -> None:
    d = one(HEAD + GOOD_RULE.replace('dac_codes = ["15151"]', 'dac_codes = ["15151"]\ncodes = []'))
    assert d.loc[2:] == ("rule coup_government exception democracy_assistance", "codes")


def test_unknown_account_id() -> None:
    d = one(HEAD + GOOD_RULE.replace('["FMF", "ESF"]', '["FMF", "FMFP"]'))
    assert d.loc == ("rules.toml", "line 13", "rule coup_government", "blocks_accounts")
    assert "'FMFP'" in d.msg


def test_star_must_stand_alone_and_empty_lists_are_refused() -> None:
    assert "alone" in one(HEAD + GOOD_RULE.replace('["FMF", "ESF"]', '["*", "FMF"]')).msg
    assert "is empty" in one(HEAD + GOOD_RULE.replace('["FMF", "ESF"]', "[]")).msg


def test_duplicate_rule_ids() -> None:
    d = one(HEAD + GOOD_RULE + GOOD_RULE)
    assert d.loc == ("rules.toml", "line 26", "rule coup_government", "id")
    assert "duplicate rule id (first at line 9)" in d.msg


def test_duplicate_exception_and_type_ids_and_listed_twice() -> None:
    exc = GOOD_RULE[GOOD_RULE.index("[[rule.exceptions]]") :]
    assert "duplicate exception id" in one(HEAD + GOOD_RULE + exc).msg
    assert "duplicate restriction type" in one(HEAD + HEAD.split("\n", 2)[2] + GOOD_RULE).msg
    assert "listed twice" in one(HEAD + GOOD_RULE.replace('["FMF", "ESF"]', '["FMF", "FMF"]')).msg


def test_missing_required_keys_are_each_named() -> None:
    found = problems(HEAD + '\n[[rule]]\nid = "x"\nrestriction_type = "coup"\n')
    missing = sorted(d.msg for d in found)
    assert missing == [
        "blocks_accounts is missing",
        "citation is missing",
        "recipients is missing",
        "summary is missing",
        "waivable is missing",
    ]


def test_restriction_type_must_be_declared_and_leahy_is_not_one() -> None:
    d = one(HEAD + GOOD_RULE.replace('restriction_type = "coup"', 'restriction_type = "embargo"'))
    assert d.loc[-1] == "restriction_type" and "not declared" in d.msg
    d = one(HEAD.replace('id = "coup"', 'id = "leahy"') + GOOD_RULE.replace('"coup"', '"leahy"'))
    assert "units, not countries" in d.msg


def test_bad_values() -> None:
    assert "must be one of" in one(HEAD + GOOD_RULE.replace('"government"', '"govt"')).msg
    assert (
        "true or false" in one(HEAD + GOOD_RULE.replace("waivable = true", 'waivable = "yes"')).msg
    )
    assert (
        "lower-case" in one(HEAD + GOOD_RULE.replace('id = "coup_government"', 'id = "Coup"')).msg
    )
    assert "5-digit" in one(HEAD + GOOD_RULE.replace('["15151"]', '["1515"]')).msg
    assert (
        "non-empty text"
        in one(HEAD + GOOD_RULE.replace('citation = "Sec. 7008"', 'citation = ""')).msg
    )
    assert "list of texts" in one(HEAD + GOOD_RULE.replace('["FMF", "ESF"]', '"FMF"')).msg
    assert (
        "schema_version"
        in one(HEAD.replace("schema_version = 1", "schema_version = 2") + GOOD_RULE).loc
    )
    assert "YYYY-MM-DD" in one(HEAD.replace("2026-12-01", '"soon"') + GOOD_RULE).msg


def test_waiver_text_must_match_waivable() -> None:
    no_text = GOOD_RULE.replace('waiver = "Secretary of State (Sec. 7008(b))"\n', "")
    assert "who waives it" in one(HEAD + no_text).msg
    not_waivable = GOOD_RULE.replace("waivable = true", "waivable = false")
    assert "not waivable" in one(HEAD + not_waivable).msg


def test_exceptions_need_a_recognizer_and_the_rules_accounts() -> None:
    no_way = GOOD_RULE.replace('dac_codes = ["15151"]\nflags = ["democracy_assistance"]\n', "")
    assert "how is the exception recognized" in one(HEAD + no_way).msg
    outside = GOOD_RULE.replace(
        'flags = ["democracy_assistance"]', 'flags = ["x"]\naccounts = ["IMET"]'
    )
    assert "not among the rule's blocks_accounts" in one(HEAD + outside).msg
    unknown = GOOD_RULE.replace(
        'flags = ["democracy_assistance"]', 'flags = ["x"]\naccounts = ["ZZZ"]'
    )
    assert "unknown account id 'ZZZ'" in one(HEAD + unknown).msg


def test_purposes_and_dac_codes_are_checked_when_known() -> None:
    text = HEAD + GOOD_RULE.replace(
        'recipients = "government"', 'recipients = "government"\nblocks_purposes = ["enable"]'
    )
    assert parse(text, known_purposes={"enable"}).rule("coup_government").blocks_purposes == {
        "enable"
    }
    assert "unknown purpose id" in one(text, known_purposes={"engage"}).msg
    assert "unknown DAC purpose code" in one(HEAD + GOOD_RULE, known_dac_codes={"15150"}).msg


def test_no_rules_and_no_types() -> None:
    assert "no [[rule]] tables" in one(HEAD).msg
    found = problems("schema_version = 1\n" + GOOD_RULE)
    assert any("no [[restriction_type]]" in d.msg for d in found)


def test_every_problem_is_reported_at_once() -> None:
    text = HEAD + GOOD_RULE.replace('["FMF", "ESF"]', '["FMFP", "ESFX"]').replace(
        '"government"', '"all"'
    )
    with pytest.raises(Invalid) as caught:
        parse(text)
    assert len(caught.value.details) == 3
    assert "nothing was loaded" in caught.value.message


def test_a_key_looking_line_inside_a_multiline_string_is_not_taken_for_a_key() -> None:
    text = HEAD + GOOD_RULE.replace(
        'summary = "Blocks assistance to the government."',
        'summary = """Blocks\nrecipients = nonsense\nassistance."""',
    ).replace('["FMF", "ESF"]', '["NOPE"]')
    d = one(text)
    assert d.loc[1] == "line 15"  # blocks_accounts, counted past the multi-line summary


def test_load_rules_checks_size_and_encoding(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"schema_version = 1\n\xff\n")
    with pytest.raises(Invalid) as caught:
        load_rules(bad, known_accounts=ACCOUNTS)
    assert caught.value.details[0].loc == ("bad.toml", "line 2")
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * 1_000_001)
    with pytest.raises(Invalid, match="too large"):
        load_rules(big, known_accounts=ACCOUNTS)


def test_the_shipped_rules_dump_to_toml_and_read_back_equal(
    rules: RuleSet, accounts: frozenset[str]
) -> None:
    from ssaplan.compliance.rules import check_rules_data, dump_rules, ruleset_as_data

    text = dump_rules(rules, header="exported for review\nby counsel")
    assert text.startswith("# exported for review\n# by counsel\n")
    again = parse_rules(text, name=rules.source, known_accounts=accounts)
    assert again == rules
    as_data = check_rules_data(ruleset_as_data(rules), name=rules.source, known_accounts=accounts)
    assert as_data == rules


def test_rules_given_as_data_are_checked_like_a_file(accounts: frozenset[str]) -> None:
    from ssaplan.compliance.rules import check_rules_data

    data = {
        "schema_version": 1,
        "restriction_type": [{"id": "coup", "name": "Coup"}],
        "rule": [
            {
                "id": "coup_government",
                "restriction_type": "coup",
                "summary": "s",
                "citation": "c",
                "blocks_accounts": ["NOPE"],
                "recipients": "government",
                "waivable": True,
            }
        ],
    }
    with pytest.raises(Invalid, match="nothing was saved") as info:
        check_rules_data(data, known_accounts=accounts)
    assert any("NOPE" in d.msg for d in info.value.details)
