"""The overlap engine: planted duplicates, hard negatives, paraphrases, bad input, marks,
the JSON contract and the recall of the fast search against brute force."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from ssaplan.coordination.engine import Activity, OverlapConfig, find_overlaps, pair_key
from ssaplan.coordination.engine.synthetic import generate
from ssaplan.core.errors import Invalid

HERE = Path(__file__).resolve().parent
NAMES = {"SOM": "Somalia", "KEN": "Kenya", "NGA": "Nigeria", "ETH": "Ethiopia"}
REGIONS = {
    "SOM": ("AU", "IGAD", "AF"),
    "KEN": ("AU", "IGAD", "EAC", "AF"),
    "ETH": ("AU", "IGAD", "AF"),
    "NGA": ("AU", "ECOWAS", "AF"),
}


def act(id_: str, **kw: object) -> Activity:
    base: dict[str, object] = dict(
        id=id_,
        source="program",
        agency_or_donor="DOD",
        countries=("SOM",),
        start=date(2024, 1, 1),
        end=date(2026, 12, 31),
        institution_type="border_management",
        purpose="build_capacity",
        title="Train coast guard in Somalia",
        description="Courses for coast guard officers on boarding, patrol and search.",
    )
    base.update(kw)
    return Activity(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def background() -> tuple[Activity, ...]:
    """Unrelated generated activities elsewhere, so that idf reflects a real corpus; all
    of one donor, so that they are never paired among themselves."""
    world = generate(1500, partners=["NGA", "ETH", "GHA", "SEN"], seed=3, duplicate_share=0)
    return tuple(replace(a, source="donor", agency_or_donor="BACKGROUND") for a in world.activities)


def run(acts: list[Activity], background: tuple[Activity, ...] = (), **kw: object):  # type: ignore[no-untyped-def]
    return find_overlaps([*acts, *background], regions_of=REGIONS, country_names=NAMES, **kw)  # type: ignore[arg-type]


def test_planted_duplicate_is_likely_with_reasons(background: tuple[Activity, ...]) -> None:
    a = act("P-1")
    b = act(
        "D-1",
        source="donor",
        agency_or_donor="GB-GOV-1",
        start=date(2024, 6, 1),
        end=date(2027, 6, 30),
        dac_code="15136",
        title="Coast guard training, Somalia",
        description="Training courses for Somali coast guard officers in boarding and patrol.",
    )
    result = run([a, b], background)
    pair = result.pair("P-1", "D-1")
    assert pair is not None and pair.likely, pair
    assert pair.a == "P-1" and pair.b == "D-1"  # programs first
    assert "same partner: Somalia" in pair.reasons
    assert "same institution type: border_management" in pair.reasons
    assert any(r.startswith("periods overlap ") for r in pair.reasons)
    assert any(r.startswith("descriptions similar (") for r in pair.reasons)
    assert pair.kind == "program-donor"


def test_hard_negative_same_text_other_institution_is_not_likely(
    background: tuple[Activity, ...],
) -> None:
    result = run(
        [act("P-1"), act("P-2", agency_or_donor="STATE", institution_type="justice")], background
    )
    pair = result.pair("P-1", "P-2")
    assert pair is None or not pair.likely


def test_hard_negative_same_text_other_country_is_never_paired(
    background: tuple[Activity, ...],
) -> None:
    result = run([act("P-1"), act("P-2", agency_or_donor="STATE", countries=("KEN",))], background)
    assert result.pair("P-1", "P-2") is None


def test_same_agency_is_not_compared_unless_asked(background: tuple[Activity, ...]) -> None:
    pair = [act("P-1"), act("P-2")]
    assert run(pair, background).pair("P-1", "P-2") is None
    cfg = OverlapConfig.load(same_owner=True)
    found = run(pair, background, config=cfg).pair("P-1", "P-2")
    assert found is not None and found.likely


def test_donor_donor_pairs_only_when_asked(background: tuple[Activity, ...]) -> None:
    acts = [
        act("D-1", source="donor", agency_or_donor="GB-1"),
        act("D-2", source="donor", agency_or_donor="GB-CHC-1"),
    ]
    assert run(acts, background).pair("D-1", "D-2") is None
    cfg = OverlapConfig.load(pair_kinds=frozenset({"donor-donor"}))
    assert run(acts, background, config=cfg).pair("D-1", "D-2") is not None


def _paraphrase_cases() -> list[dict[str, str]]:
    with (HERE / "data" / "paraphrases.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_paraphrases_across_agencies_are_found_and_different_efforts_are_not(
    background: tuple[Activity, ...],
) -> None:
    acts = []
    for k, case in enumerate(_paraphrase_cases()):
        # each case in its own (made-up) partner, same structure on both sides
        country = f"X{k:02d}"
        acts.append(
            act(
                f"A{k:02d}",
                countries=(country,),
                title=case["title_a"],
                description=case["description_a"],
            )
        )
        acts.append(
            act(
                f"B{k:02d}",
                countries=(country,),
                source="donor",
                agency_or_donor="DE-1",
                title=case["title_b"],
                description=case["description_b"],
                dac_code=None,
            )
        )
    result = run(acts, background)
    same = [c["label"] == "same" for c in _paraphrase_cases()]
    likely = [
        bool((p := result.pair(f"A{k:02d}", f"B{k:02d}")) and p.likely) for k in range(len(same))
    ]
    found = sum(ok for ok, s in zip(likely, same, strict=True) if s)
    false = sum(ok for ok, s in zip(likely, same, strict=True) if not s)
    # measured: TF-IDF finds 13 of the 15 paraphrases and none of the 15 different
    # efforts (docs/coordination.md); the title-only Somalia pair is one it misses
    assert found >= 12, likely
    assert false == 0, likely


def test_title_only_somalia_paraphrase_is_reported(background: tuple[Activity, ...]) -> None:
    a = act("P-1", description="")
    b = act(
        "D-1",
        source="donor",
        agency_or_donor="GB-GOV-1",
        description="",
        title="Instruct Somali maritime border forces",
    )
    pair = run([a, b], background).pair("P-1", "D-1")
    # TF-IDF sees "training" and "maritime" in both (lexicon) but nothing else:
    # reported for review, below the likely threshold (embeddings find it likely)
    assert pair is not None
    assert "P-1:no_description" in pair.flags and "D-1:no_description" in pair.flags
    assert any("titles (no description on P-1, D-1) partly similar" in r for r in pair.reasons)
    with_descriptions = run(
        [
            act("P-2"),
            replace(
                b,
                id="D-2",
                description="Instruction for the maritime border "
                "forces on boarding and patrol at sea.",
            ),
        ],
        background,
    ).pair("P-2", "D-2")
    assert with_descriptions is not None and with_descriptions.likely


# --- bad input ------------------------------------------------------------------------


def test_no_dates_is_neutral_and_flagged(background: tuple[Activity, ...]) -> None:
    b = act("D-1", source="donor", agency_or_donor="GB-GOV-1", start=None, end=None)
    pair = run([act("P-1"), b], background).pair("P-1", "D-1")
    assert pair is not None and pair.likely
    assert pair.components["period"] is None
    assert "no dates on D-1: period not compared" in pair.reasons
    assert "D-1:no_dates" in pair.flags


def test_disjoint_periods_halve_the_score(background: tuple[Activity, ...]) -> None:
    b = act(
        "D-1",
        source="donor",
        agency_or_donor="GB-GOV-1",
        start=date(2015, 1, 1),
        end=date(2016, 1, 1),
    )
    pair = run([act("P-1"), b], background).pair("P-1", "D-1")
    assert pair is None or (
        not pair.likely and "periods do not overlap (score x0.5)" in pair.reasons
    )


def test_reversed_dates_are_swapped_and_flagged(background: tuple[Activity, ...]) -> None:
    b = act(
        "D-1",
        source="donor",
        agency_or_donor="GB-GOV-1",
        start=date(2026, 1, 1),
        end=date(2024, 1, 1),
    )
    pair = run([act("P-1"), b], background).pair("P-1", "D-1")
    assert pair is not None and "D-1:dates_reversed" in pair.flags
    assert pair.components["period"] == 1.0


def test_no_country_scores_partner_from_regions(background: tuple[Activity, ...]) -> None:
    b = act("D-1", source="donor", agency_or_donor="GB-GOV-1", countries=(), regions=("IGAD",))
    pair = run([act("P-1"), b], background).pair("P-1", "D-1")
    assert pair is not None
    assert pair.components["partner"] == 0.5  # Somalia is a member of IGAD
    assert "D-1:no_country" in pair.flags
    assert "regional overlap: Somalia in IGAD (D-1)" in pair.reasons


def test_no_country_and_no_region_is_skipped() -> None:
    result = run([act("P-1"), act("D-1", source="donor", agency_or_donor="X", countries=())])
    assert [s.id for s in result.skipped] == ["D-1"]
    assert result.pairs == ()


def test_no_text_at_all_is_skipped_and_other_bad_records_never_crash() -> None:
    acts = [
        act("P-1"),
        act("P-1", agency_or_donor="STATE"),  # duplicate id
        act("D-1", source="donor", agency_or_donor="X", title="", description="  "),
        act("D-2", source="elsewhere", agency_or_donor="X"),
        act(
            "D-3",
            source="donor",
            agency_or_donor="Y",
            institution_type="",
            purpose="",
            dac_code="not-a-code",
            countries=(" som ",),
            language="zz-ZZ",
        ),
    ]
    result = run(acts)
    reasons = {s.id: s.reason for s in result.skipped}
    assert reasons["P-1"].startswith("duplicate id")
    assert reasons["D-1"].startswith("no title and no description")
    assert reasons["D-2"].startswith("unknown source")
    pair = result.pair("P-1", "D-3")  # country code trimmed and upper-cased
    assert pair is not None and pair.components["partner"] == 1.0
    assert run([]).pairs == () and run([act("P-1")]).pairs == ()


def test_other_language_is_marked_and_text_weighted_down(background: tuple[Activity, ...]) -> None:
    french = act(
        "D-1",
        source="donor",
        agency_or_donor="FR-3",
        title="Formation des garde-côtes somaliens",
        description="Formation des officiers des garde-côtes de la Somalie pour les "
        "opérations d'arraisonnement et de patrouille en mer.",
    )
    pair = run([act("P-1"), french], background).pair("P-1", "D-1")
    assert pair is not None
    assert "language_mismatch" in pair.flags
    assert (
        "different languages (en, fr): text similarity not comparable, weighted down"
        in pair.reasons
    )
    # every structural component matches: likely on structure, with the flag to read
    assert pair.likely
    # ...but without known institution type and purpose, structure alone is not enough
    bare = replace(french, id="D-2", institution_type=None, purpose=None)
    weak = run([act("P-1"), bare], background).pair("P-1", "D-2")
    assert weak is None or not weak.likely


def test_institution_type_inferred_from_dac_code(background: tuple[Activity, ...]) -> None:
    a = act(
        "P-1",
        institution_type="police",
        title="Police training",
        description="Courses for police officers.",
    )
    b = act(
        "D-1",
        source="donor",
        agency_or_donor="SE-6",
        institution_type=None,
        dac_code="15132",
        title="Training the police",
        description="Police officers attend training courses.",
    )
    pair = run([a, b], background).pair("P-1", "D-1")
    assert pair is not None and "D-1:institution_inferred" in pair.flags
    assert "same institution type: police" in pair.reasons


# --- marks, JSON ---------------------------------------------------------------------


def test_marks_persist_across_runs_and_dismissed_is_not_likely(
    background: tuple[Activity, ...],
) -> None:
    acts = [
        act("P-1"),
        act("D-1", source="donor", agency_or_donor="GB-GOV-1"),
        act("D-2", source="donor", agency_or_donor="DE-1"),
        act(
            "P-9",
            countries=("NGA",),
            agency_or_donor="DOJ",
            title="Prison records",
            description="Digitise prison records.",
            institution_type="justice",
        ),
    ]
    first = run(acts, background)
    assert first.pair("P-1", "D-1").likely and first.pair("P-1", "D-2").likely  # type: ignore[union-attr]
    marks = {
        ("D-1", "P-1"): "dismissed",
        ("P-1", "D-2"): "confirmed",
        ("P-9", "P-1"): "complementary",
        ("P-1", "GONE"): "confirmed",
    }
    again = run(acts, background, marks=marks)
    dismissed, confirmed = again.pair("P-1", "D-1"), again.pair("P-1", "D-2")
    assert dismissed is not None and dismissed.mark == "dismissed" and not dismissed.likely
    assert "reviewer marked: dismissed" in dismissed.reasons
    assert confirmed is not None and confirmed.mark == "confirmed" and confirmed.likely
    # a marked pair is reported even when the search would not find it
    unrelated = again.pair("P-1", "P-9")
    assert unrelated is not None and unrelated.mark == "complementary" and not unrelated.likely
    assert again.orphan_marks == (("GONE", "P-1"),) or again.orphan_marks == (
        pair_key("P-1", "GONE"),
    )
    shown = run(
        acts, background, marks=marks, config=OverlapConfig.load(dismissed_are_likely=True)
    ).pair("P-1", "D-1")
    assert shown is not None and shown.likely


def test_unknown_mark_is_refused() -> None:
    with pytest.raises(Invalid):
        run([act("P-1")], marks={("P-1", "D-1"): "maybe"})


def test_json_contract(background: tuple[Activity, ...]) -> None:
    result = run([act("P-1"), act("D-1", source="donor", agency_or_donor="GB-GOV-1")], background)
    doc = json.loads(json.dumps(result.as_dict()))
    assert set(doc) >= {"pairs"}
    pair = doc["pairs"][0]
    assert {"a", "b", "score", "likely", "reasons"} <= set(pair)
    assert (pair["a"], pair["b"]) == ("P-1", "D-1")
    assert isinstance(pair["likely"], bool) and 0 <= pair["score"] <= 1
    assert all(isinstance(r, str) for r in pair["reasons"])
    assert pair["score"] == round(pair["score"], 3)


def test_config_refuses_a_candidate_level_that_would_lose_likely_pairs() -> None:
    with pytest.raises(Invalid):
        OverlapConfig.load(candidate_text=0.5)
    with pytest.raises(Invalid):
        OverlapConfig.load(no_such_setting=1)


# --- recall of the fast search -------------------------------------------------------


def test_fast_search_recall_against_brute_force() -> None:
    world = generate(
        2500,
        partners=[f"C{k:02d}" for k in range(25)],
        regions_of={f"C{k:02d}": (f"R{k % 4}",) for k in range(25)},
        seed=9,
    )
    fast = find_overlaps(world.activities, regions_of=world.regions_of)
    brute = find_overlaps(world.activities, regions_of=world.regions_of, method="brute")
    truth = {pair_key(p.a, p.b) for p in brute.likely}
    found = {pair_key(p.a, p.b) for p in fast.likely}
    assert len(truth) > 100
    recall = len(truth & found) / len(truth)
    assert recall >= 0.95, recall
    assert found <= truth  # the fast search invents nothing
    planted = {pair_key(a, b) for a, b in world.planted}
    assert len(planted & found) / len(planted) >= 0.9


def test_progress_is_reported_by_stage(background: tuple[Activity, ...]) -> None:
    seen: list[tuple[str, int, int]] = []
    run(
        [act("P-1"), act("D-1", source="donor", agency_or_donor="GB-1")],
        background,
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    )
    stages = [s for s, _, _ in seen]
    assert stages[0] == "texts" and stages[-1] == "reasons"
    blocks = [(d, t) for s, d, t in seen if s == "partner blocks"]
    assert blocks and blocks[-1][0] == blocks[-1][1] > 0
