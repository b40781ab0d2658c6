"""The shipped reference data: complete, consistent, and resolvable by id or name."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pycountry
import pytest

from ssaplan.reference.catalog import (
    DATA_DIR,
    ReferenceDataError,
    UnknownCode,
    get_catalog,
    load_catalog,
)


def test_policy_taxonomy_ids_are_the_documented_ones() -> None:
    c = get_catalog()
    assert set(c.institution_types) == {
        "armed_forces",
        "police",
        "justice",
        "border_management",
        "customs",
        "civil_emergency",
        "oversight",
        "civil_society",
        "non_state",
    }
    assert set(c.purposes) == {"engage", "build_capacity", "enable"}
    assert set(c.levels) == {"international", "regional", "national", "subnational"}


def test_goal_tree_has_four_goals_and_every_policy_objective() -> None:
    c = get_catalog()
    goals = {o.id for o in c.objectives.values() if o.goal is None}
    assert goals == {"G1", "G2", "G3", "G4"}
    counts = {g: sum(1 for o in c.objectives.values() if o.goal == g) for g in goals}
    # G1: six sub-objectives; G2: ten areas of cooperation; G3: six values; G4: three ways.
    assert counts == {"G1": 6, "G2": 10, "G3": 6, "G4": 3}
    assert c.objectives["G1.1"].name == "Disrupt and defeat transnational threats"
    assert "G4.3" in c.objectives


def test_every_iso_country_is_present_with_its_regions() -> None:
    c = get_catalog()
    iso = {country.alpha_3 for country in pycountry.countries}
    assert iso <= set(c.countries)
    assert "XKX" in c.countries
    assert {r.code for r in c.regions.values() if r.kind == "bureau"} == {
        "AF",
        "EAP",
        "EUR",
        "NEA",
        "SCA",
        "WHA",
    }
    nga = c.countries["NGA"]
    assert (nga.bureau, nga.combatant_command) == ("AF", "AFRICOM")
    assert {"AU", "ECOWAS"} <= set(nga.organizations)
    assert c.countries["EGY"].bureau == "NEA" and c.countries["EGY"].combatant_command == "CENTCOM"
    assert c.countries["IND"].combatant_command == "INDOPACOM"
    assert "NGA" in c.region_members("ECOWAS") and "NGA" in c.region_members("AF")
    sovereign_without_bureau = [
        k for k, v in c.countries.items() if v.status == "sovereign" and not v.bureau and k != "USA"
    ]
    assert sovereign_without_bureau == []


def test_agencies_and_accounts_named_in_the_issue_exist() -> None:
    c = get_catalog()
    assert {"DoD", "State", "USAID", "DOJ", "DHS", "Treasury"} <= set(c.agencies)
    assert {
        "FMF",
        "IMET",
        "PKO",
        "INCLE",
        "NADR",
        "ESF",
        "CTPF",
        "GPOI",
        "10USC333",
        "10USC332",
    } <= set(c.accounts)
    assert c.top_agency("State/INL") == "State"
    assert all(a.agency in c.agencies for a in c.accounts.values())


def test_dac_codes_come_from_the_iati_sector_list() -> None:
    c = get_catalog()
    assert c.dac_codes["15210"].name == "Security system management and reform"
    assert c.dac_codes["15210"].category == "152"
    assert len(c.dac_codes) > 250


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("institution_type", "Police and law enforcement", "police"),
        ("institution_type", "POLICE", "police"),
        ("institution_type", "military", "armed_forces"),
        ("purpose", "Build and sustain capacity", "build_capacity"),
        ("country", "nigeria", "NGA"),
        ("country", "NG", "NGA"),
        ("country", "566", "NGA"),
        ("agency", "state", "State"),
        ("account", "Foreign Military Financing", "FMF"),
        ("region", "Bureau of African Affairs", "AF"),
        ("objective", "g1.1", "G1.1"),
        ("country", "Ivory Coast", "CIV"),
        ("country", "Congo, Dem. Rep.", "COD"),
        ("country", "Congo, Rep.", "COG"),
        ("country", "Burma", "MMR"),
        ("country", "West Bank and Gaza", "PSE"),
        ("agency", "Department of Defense", "DoD"),
        ("agency", "DSCA", "DoD/DSCA"),
        ("account", "Foreign Military Financing Program", "FMF"),
        ("account", "Section 333", "10USC333"),
    ],
)
def test_resolve_accepts_ids_names_and_aliases(kind: str, value: str, expected: str) -> None:
    assert get_catalog().resolve(kind, value) == expected  # type: ignore[arg-type]


def test_unknown_codes_suggest_close_matches() -> None:
    with pytest.raises(UnknownCode) as info:
        get_catalog().resolve("account", "INCL")
    assert "unknown account 'INCL'" in str(info.value)
    assert "INCLE" in info.value.suggestions


def test_lookup_answers_names_and_none_without_raising() -> None:
    catalog = get_catalog()
    assert catalog.lookup("country", "Burma") == "MMR"
    assert catalog.lookup("country", "Cote d'Ivoire") == "CIV"  # pycountry's fuzzy names
    for _ in range(3):  # asked again and again, as a file's rows do: the same answer
        assert catalog.lookup("country", "Sub-Saharan Africa Region") is None
        assert not catalog.is_known("country", "Sub-Saharan Africa Region")
    assert catalog.lookup("account", "INCL") is None  # no suggestion is made for a lookup
    with pytest.raises(UnknownCode):  # while resolve still names what was meant
        catalog.resolve("country", "Sub-Saharan Africa Region")


def test_far_fetched_names_get_no_suggestion() -> None:
    with pytest.raises(UnknownCode) as info:
        get_catalog().resolve("country", "Narnia")
    assert info.value.suggestions == ()


def test_an_alias_may_not_name_two_countries(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    with (data / "country_aliases.csv").open("a", encoding="utf-8") as fh:
        fh.write("Burma,THA,\n")
    with pytest.raises(ReferenceDataError, match="'Burma' already names MMR"):
        load_catalog(data)


def test_broken_reference_files_are_reported_all_at_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    with (data / "accounts.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0])
    rows.append(dict(rows[0]))  # a duplicate id
    rows.append(
        {**{f: "" for f in fields}, "id": "BOGUS", "name": "Bogus", "agency": "NoSuchAgency"}
    )
    with (data / "accounts.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    with (data / "memberships.csv").open("a", encoding="utf-8") as fh:
        fh.write("AU,ZZZ,\n")
    with pytest.raises(ReferenceDataError) as info:
        load_catalog(data)
    problems = " ".join(info.value.problems)
    assert "duplicate id" in problems
    assert "NoSuchAgency" in problems
    assert "'ZZZ'" in problems
