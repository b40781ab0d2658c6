"""The monitoring and review rules as data: shipped defaults, stored changes, one typed set.

``data/rules.toml`` holds the defaults; admins change values (stored in the database,
audited) and :func:`build` merges them over the defaults after :func:`check_section`
has refused anything unknown or out of range. Pure: no database here.

Each rule that raises a review has a statement (:func:`statement`) that says, with the
current values, exactly when it fires and what it recommends — shown on the pages, in
``ssaplan review rules`` and in every review it raises.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

RULES_FILE = Path(__file__).parent / "data" / "rules.toml"

# Recommendations, from the mildest to the most severe: a review recommends the most
# severe of what its findings call for.
RECOMMENDATIONS = ("continue", "scale_up", "restructure", "suspend", "terminate")
REVIEW_RULES = (
    "indicator_off_track",
    "assessment_drop",
    "legal_restriction",
    "crisis_event",
    "money_not_moving",
    "delivery_late",
)
TRIGGERS = ("annual", "manual", *REVIEW_RULES)
STAGES = ("approval", "obligation", "delivery")
GRADES = ("A", "B", "C", "D")
SHARES = {"on_track_at", "at_risk_at", "min_obligated_share", "min_disbursed_share"}


class RuleError(ValueError):
    """A rule value that cannot be used; ``problems`` says each (key, why)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))
        self.problems = problems


@lru_cache(maxsize=1)
def defaults() -> Mapping[str, Mapping[str, Any]]:
    """The shipped sections, ``[delivery.FMF]`` flattened to section ``delivery.FMF``."""
    raw = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    out: dict[str, Mapping[str, Any]] = {}
    for section, values in raw.items():
        flat = {k: v for k, v in values.items() if not isinstance(v, dict)}
        out[section] = MappingProxyType(flat)
        for key, sub in values.items():
            if isinstance(sub, dict):
                out[f"{section}.{key}"] = MappingProxyType(dict(sub))
    return MappingProxyType(out)


def template_of(section: str) -> Mapping[str, Any] | None:
    """The defaults a section's keys and types come from (``delivery.X``: ``delivery``)."""
    d = defaults()
    if section in d:
        return d[section] if not section.startswith("delivery.") else d["delivery"]
    if section.startswith("delivery."):
        return d["delivery"]
    return None


def check_section(
    section: str, params: Mapping[str, Any], *, accounts: Collection[str] = ()
) -> list[tuple[str, str]]:
    """Every problem with setting ``params`` in ``section`` (empty when it may be stored)."""
    template = template_of(section)
    if template is None:
        known = ", ".join(sorted(k for k in defaults() if "." not in k))
        return [("section", f"no section {section!r}; the sections are {known}, delivery.ACCOUNT")]
    problems: list[tuple[str, str]] = []
    if section.startswith("delivery."):
        account = section.split(".", 1)[1]
        if accounts and account not in accounts:
            problems.append(("section", f"no funding account {account!r}"))
    for key, value in params.items():
        if key not in template:
            problems.append((key, f"unknown; {section} has {', '.join(sorted(template))}"))
            continue
        default = template[key]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                problems.append((key, "must be true or false"))
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append((key, "must be a whole number"))
            elif value < 0 or value > 10_000:
                problems.append((key, "must be between 0 and 10000"))
            elif key == "periods" and value < 1:
                problems.append((key, "must be at least 1"))
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append((key, "must be a number"))
            elif key in SHARES and not 0 <= value <= 1:
                problems.append((key, "a share: between 0 and 1"))
            elif not 0 <= value <= 1000:
                problems.append((key, "must be between 0 and 1000"))
        elif isinstance(default, list):
            if not isinstance(value, list) or any(v not in GRADES for v in value) or not value:
                problems.append((key, f"a non-empty list of grades among {', '.join(GRADES)}"))
        elif isinstance(default, str) and value not in RECOMMENDATIONS:
            problems.append((key, f"one of {', '.join(RECOMMENDATIONS)}"))
    return problems


@dataclass(frozen=True)
class Performance:
    """How an indicator's period is rated (see :func:`ssaplan.monitoring.engine.rate`)."""

    on_track_at: float
    at_risk_at: float
    scale_up_at: float
    usable_grades: tuple[str, ...]


@dataclass(frozen=True)
class Standard:
    """Days from a delivery's request to its approval, obligation and delivery."""

    approval_days: int
    obligation_days: int
    delivery_days: int

    def days(self, stage: str) -> int:
        return int(getattr(self, f"{stage}_days"))


@dataclass(frozen=True)
class RuleSet:
    """Every monitoring and review parameter in force."""

    performance: Performance
    delivery: Standard
    delivery_by_account: Mapping[str, Standard]
    expiring_within_days: int
    cancel_after_years: int
    rules: Mapping[str, Mapping[str, Any]]
    sections: Mapping[str, Mapping[str, Any]]

    def standard(self, account: str | None) -> Standard:
        return self.delivery_by_account.get(account or "", self.delivery)

    def enabled(self, rule: str) -> bool:
        return bool(self.rules[rule]["enabled"])

    def param(self, rule: str, key: str) -> Any:
        return self.rules[rule][key]


def build(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> RuleSet:
    """The rule set: defaults with ``overrides`` (section -> values) merged over them."""
    overrides = overrides or {}
    problems = [
        (f"{section}.{key}", msg)
        for section, params in overrides.items()
        for key, msg in check_section(section, params)
    ]
    merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in defaults().items()}
    for section, params in overrides.items():
        merged.setdefault(section, {}).update(params)
    perf = merged["performance"]
    if perf["at_risk_at"] > perf["on_track_at"]:
        problems.append(("performance.at_risk_at", "must not be above on_track_at"))
    if problems:
        raise RuleError(problems)
    base = merged["delivery"]
    standard = Standard(base["approval_days"], base["obligation_days"], base["delivery_days"])
    by_account = {
        section.split(".", 1)[1]: Standard(
            values.get("approval_days", standard.approval_days),
            values.get("obligation_days", standard.obligation_days),
            values.get("delivery_days", standard.delivery_days),
        )
        for section, values in merged.items()
        if section.startswith("delivery.")
    }
    return RuleSet(
        performance=Performance(
            float(perf["on_track_at"]),
            float(perf["at_risk_at"]),
            float(perf["scale_up_at"]),
            tuple(perf["usable_grades"]),
        ),
        delivery=standard,
        delivery_by_account=MappingProxyType(by_account),
        expiring_within_days=int(merged["money"]["expiring_within_days"]),
        cancel_after_years=int(merged["money"]["cancel_after_years"]),
        rules=MappingProxyType({name: MappingProxyType(merged[name]) for name in REVIEW_RULES}),
        sections=MappingProxyType({k: MappingProxyType(v) for k, v in merged.items()}),
    )


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def statement(section: str, rules: RuleSet) -> str:
    """What a section's rule says, with the values in force."""
    p = rules.performance
    if section == "performance":
        return (
            "An indicator's period is rated by its progress: (measured - baseline) / "
            "(expected - baseline), the expected value being the target path at the period's "
            f"end. On track from {_pct(p.on_track_at)}, at risk from {_pct(p.at_risk_at)}, "
            "off track below. Where the target equals the baseline (hold the line), on track "
            "when the value is no worse than the target, else off track. Only data graded "
            f"{', '.join(p.usable_grades)} is rated."
        )
    if section == "delivery" or section.startswith("delivery."):
        account = section.split(".", 1)[1] if "." in section else None
        s = rules.standard(account)
        who = f"for {account}" if account else "by default"
        return (
            f"Delivery standards {who}: approval within {s.approval_days} days of the request, "
            f"obligation within {s.obligation_days}, delivery within {s.delivery_days}. A stage "
            "is late when it took longer, or is still pending past its standard."
        )
    if section == "money":
        return (
            f"Unobligated money is about to expire when its account's period of availability "
            f"ends within {rules.expiring_within_days} days; obligated balances of an expired "
            f"account are cancelled {rules.cancel_after_years} years after it expires."
        )
    r = rules.rules.get(section)
    if r is None:
        return ""
    rec = str(r["recommendation"]).replace("_", " ")
    off = "" if r["enabled"] else " (switched off)"
    if section == "indicator_off_track":
        return (
            f"An indicator of an objective the program serves is off track in its latest "
            f"{r['periods']} rated periods: recommend {rec} (terminate after "
            f"{r['terminate_after']} periods off track){off}."
        )
    if section == "assessment_drop":
        return (
            f"A partner country's propensity fell by {r['points']:g} points or more in the "
            f"latest saved assessment: recommend {rec} ({r['severe_recommendation']} from "
            f"{r['severe_points']:g} points){off}."
        )
    if section == "legal_restriction":
        return (
            "A new, ended, changed or removed restriction in the compliance register reaches "
            f"the program (reviewed at the next run of the rules): recommend {rec}{off}."
        )
    if section == "crisis_event":
        return (
            f"A crisis was recorded for a partner country in the last {r['within_days']} days: "
            f"recommend {rec} ({r['severe_recommendation']} if severe){off}."
        )
    if section == "money_not_moving":
        return (
            f"A fiscal year that has ended with less than {_pct(r['min_obligated_share'])} of "
            f"its planned money obligated, or one at least {r['disbursement_after_years']} years "
            f"old with less than {_pct(r['min_disbursed_share'])} of its obligations disbursed: "
            f"recommend {rec}{off}."
        )
    if section == "delivery_late":
        return (
            f"A delivery stage is more than {r['days_over']} days past its standard: "
            f"recommend {rec}{off}."
        )
    return ""  # pragma: no cover - every rule has a statement (tested)


def severity(recommendation: str) -> int:
    return RECOMMENDATIONS.index(recommendation)
