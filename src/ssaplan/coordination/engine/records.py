"""The plain records the overlap engine reads, its configuration and its data tables.

The engine never touches the database: the integrator builds one :class:`Activity` per
program of the portfolio and per donor activity imported from IATI, and passes the
reference mappings (country to regions, country names) it already has.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from ssaplan.core.errors import Detail, Invalid

DATA = Path(__file__).resolve().parent.parent / "data"
SOURCES = ("program", "donor")
PAIR_KINDS = ("program-program", "program-donor", "donor-donor")
MARKS = ("confirmed", "complementary", "dismissed")


@dataclass(frozen=True)
class Activity:
    """One effort to compare: a program of the shared portfolio (``source="program"``,
    ``agency_or_donor`` its agency id) or an activity another donor published in IATI
    (``source="donor"``, ``agency_or_donor`` the reporting organisation's ref).

    ``countries`` are ISO 3166 alpha-3 codes of the partner countries; ``regions`` the
    codes of regions or regional organisations the activity serves as a whole (the
    reference catalog's region codes). ``institution_type`` and ``purpose`` are ids of the
    reference taxonomy; ``dac_code`` a 5-digit DAC purpose code; ``language`` the
    declared language of the texts (IATI ``xml:lang``), if any. Any field may be empty:
    the engine states what it does without it (docs/coordination.md, "Bad input").
    """

    id: str
    source: str
    agency_or_donor: str
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    institution_type: str | None = None
    purpose: str | None = None
    dac_code: str | None = None
    title: str = ""
    description: str = ""
    language: str | None = None


@dataclass(frozen=True)
class OverlapConfig:
    """Weights, thresholds and rules of the overlap score (``data/overlap.toml``).

    Build it with :meth:`load`; override single values with ``dataclasses.replace`` or
    ``OverlapConfig.load(likely=0.7)``.
    """

    w_partner: float
    w_period: float
    w_institution: float
    w_purpose: float
    w_text: float
    likely: float
    report: float
    candidate_text: float
    regional_credit: float
    contradiction_factor: float
    language_mismatch_text_factor: float
    max_pairs_per_record: int
    dac_category_credit: float
    pair_kinds: frozenset[str] = frozenset({"program-program", "program-donor"})
    same_owner: bool = False
    dismissed_are_likely: bool = False

    @classmethod
    def load(cls, path: Path | None = None, **overrides: Any) -> OverlapConfig:
        raw = tomllib.loads((path or DATA / "overlap.toml").read_text(encoding="utf-8"))
        w, t, r = raw["weights"], raw["threshold"], raw["rules"]
        config = cls(
            w_partner=float(w["partner"]),
            w_period=float(w["period"]),
            w_institution=float(w["institution"]),
            w_purpose=float(w["purpose"]),
            w_text=float(w["text"]),
            likely=float(t["likely"]),
            report=float(t["report"]),
            candidate_text=float(t["candidate_text"]),
            regional_credit=float(r["regional_credit"]),
            contradiction_factor=float(r["contradiction_factor"]),
            language_mismatch_text_factor=float(r["language_mismatch_text_factor"]),
            max_pairs_per_record=int(r["max_pairs_per_record"]),
            dac_category_credit=float(r["dac_category_credit"]),
        )
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise Invalid(
                "unknown overlap settings",
                [Detail(("config", name), "not a setting") for name in sorted(unknown)],
            )
        config = replace(config, **overrides)
        config.check()
        return config

    @property
    def structural_weight(self) -> float:
        return self.w_partner + self.w_period + self.w_institution + self.w_purpose

    @property
    def text_needed(self) -> float:
        """The text component a same-language pair needs to reach ``likely`` when every
        structural component is judged and equals 1 (the most lenient case)."""
        total = self.structural_weight + self.w_text
        return (self.likely * total - self.structural_weight) / self.w_text

    def check(self) -> None:
        problems = []
        weights = (self.w_partner, self.w_period, self.w_institution, self.w_purpose)
        if min(*weights, self.w_text) < 0 or self.w_text <= 0:
            problems.append(Detail(("weights",), "weights must be >= 0 and text > 0"))
        if not 0 < self.report <= self.likely <= 1:
            problems.append(Detail(("threshold",), "need 0 < report <= likely <= 1"))
        if self.candidate_text > self.text_needed + 1e-9:
            problems.append(
                Detail(
                    ("threshold", "candidate_text"),
                    f"{self.candidate_text} exceeds the text level a likely pair may have "
                    f"({self.text_needed:.3f}): the search would miss likely pairs",
                )
            )
        if not set(self.pair_kinds) <= set(PAIR_KINDS):
            problems.append(Detail(("pair_kinds",), f"allowed: {', '.join(PAIR_KINDS)}"))
        if self.max_pairs_per_record < 1:
            problems.append(Detail(("rules", "max_pairs_per_record"), "must be >= 1"))
        if problems:
            raise Invalid("invalid overlap settings", problems)


@dataclass(frozen=True)
class Relatedness:
    """Symmetric relatedness of codes (institution types or purposes): 1 for the same
    code, the table's value for a listed pair, else 0."""

    pairs: Mapping[frozenset[str], float]

    def __call__(self, a: str, b: str) -> float:
        return 1.0 if a == b else self.pairs.get(frozenset((a, b)), 0.0)

    def codes(self) -> set[str]:
        return {code for pair in self.pairs for code in pair}


def _read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def institution_relatedness() -> Relatedness:
    """``data/institution_relatedness.csv``."""
    rows = _read("institution_relatedness.csv")
    return Relatedness({frozenset((r["a"], r["b"])): float(r["relatedness"]) for r in rows})


@cache
def purpose_relatedness() -> Relatedness:
    """``data/purpose_relatedness.csv``."""
    rows = _read("purpose_relatedness.csv")
    return Relatedness({frozenset((r["a"], r["b"])): float(r["relatedness"]) for r in rows})


@cache
def dac_institution_types() -> dict[str, str]:
    """DAC purpose codes that name an institution type (``data/dac_institution_types.csv``),
    used when an activity (typically a donor's) has a DAC code but no institution type."""
    return {r["dac_code"]: r["institution_type"] for r in _read("dac_institution_types.csv")}


def pair_key(a: str, b: str) -> tuple[str, str]:
    """The order-independent key of a pair of activity ids."""
    return (a, b) if a <= b else (b, a)
