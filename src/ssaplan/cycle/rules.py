"""The cycle's rules as data: the calendar template, concurrence routing and
congressional notification (``cycle/data/*.json``), read and checked once.

A rule file that names an unknown account or agency, or is malformed, is refused with
every problem listed (:class:`RuleFileError`), so a typo never silently drops a reviewer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ssaplan.cycle.engine import NotificationRule, PhaseTemplate, RoutingRule
from ssaplan.reference.catalog import Catalog, get_catalog

DATA_DIR = Path(__file__).parent / "data"
KINDS = ("agency", "chief_of_mission", "legal")


class RuleFileError(ValueError):
    """A rule file that cannot be used as written."""

    def __init__(self, path: Path, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"{path.name}: " + "; ".join(self.problems))


@dataclass(frozen=True)
class Rules:
    calendar: tuple[PhaseTemplate, ...]
    routing: tuple[RoutingRule, ...]
    notification: tuple[NotificationRule, ...]
    routing_raw: tuple[Mapping[str, Any], ...]
    notification_raw: tuple[Mapping[str, Any], ...]
    review_days: int = 21


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RuleFileError(path, [str(exc)]) from exc
    if not isinstance(data, dict):
        raise RuleFileError(path, ["must be a JSON object"])
    return data


def _accounts(raw: Any, loc: str, catalog: Catalog, problems: list[str]) -> frozenset[str] | None:
    if raw == "*":
        return None
    if not isinstance(raw, list) or not raw:
        problems.append(f"{loc}.accounts: a list of account ids or '*'")
        return frozenset()
    for a in raw:
        if a not in catalog.accounts:
            problems.append(f"{loc}.accounts: unknown account {a!r}")
    return frozenset(raw)


def _amount(raw: Any, loc: str, problems: list[str]) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        problems.append(f"{loc}.min_amount: whole dollars, 0 or more")
        return 0
    return raw


def parse_calendar(path: Path) -> tuple[PhaseTemplate, ...]:
    data = _read(path)
    problems: list[str] = []
    out: list[PhaseTemplate] = []
    for i, p in enumerate(data.get("phases", [])):
        try:
            t = PhaseTemplate(
                str(p["phase"]), str(p["label"]), int(p["start_month"]), int(p["end_month"])
            )
        except (KeyError, TypeError, ValueError):
            problems.append(f"phases.{i}: needs phase, label, start_month and end_month")
            continue
        if t.end_month <= t.start_month:
            problems.append(f"phases.{i}: end_month must come after start_month")
        out.append(t)
    if not out:
        problems.append("phases: at least one phase")
    if problems:
        raise RuleFileError(path, problems)
    return tuple(out)


def parse_routing(
    path: Path, catalog: Catalog
) -> tuple[tuple[RoutingRule, ...], tuple[Any, ...], int]:
    data = _read(path)
    problems: list[str] = []
    review_days = data.get("review_days", 21)
    if isinstance(review_days, bool) or not isinstance(review_days, int) or review_days < 1:
        problems.append("review_days: whole days, 1 or more")
        review_days = 21
    out: list[RoutingRule] = []
    raw_rules = data.get("rules", [])
    ids: set[str] = set()
    for i, r in enumerate(raw_rules):
        loc = f"rules.{i}"
        if not isinstance(r, dict) or not isinstance(r.get("id"), str):
            problems.append(f"{loc}: an object with an id")
            continue
        if r["id"] in ids:
            problems.append(f"{loc}.id: {r['id']!r} is used twice")
        ids.add(r["id"])
        accounts = _accounts(r.get("accounts"), loc, catalog, problems)
        amount = _amount(r.get("min_amount", 0), loc, problems)
        when = r.get("when", "")
        if when not in ("", "restriction_or_vetting"):
            problems.append(f"{loc}.when: '' or 'restriction_or_vetting'")
        reviewers: list[tuple[str, str]] = []
        for j, rv in enumerate(r.get("reviewers", [])):
            kind = rv.get("kind") if isinstance(rv, dict) else None
            if kind not in KINDS:
                problems.append(f"{loc}.reviewers.{j}.kind: one of {', '.join(KINDS)}")
                continue
            agency = str(rv.get("agency", "")) if kind == "agency" else ""
            if kind == "agency" and agency not in catalog.agencies:
                problems.append(f"{loc}.reviewers.{j}.agency: unknown agency {agency!r}")
            reviewers.append((str(kind), agency))
        if not reviewers:
            problems.append(f"{loc}.reviewers: at least one reviewer")
        out.append(
            RoutingRule(r["id"], accounts, amount, tuple(reviewers), when, str(r.get("why", "")))
        )
    if problems:
        raise RuleFileError(path, problems)
    return tuple(out), tuple(raw_rules), review_days


def parse_notification(
    path: Path, catalog: Catalog
) -> tuple[tuple[NotificationRule, ...], tuple[Any, ...]]:
    data = _read(path)
    problems: list[str] = []
    out: list[NotificationRule] = []
    raw_rules = data.get("rules", [])
    for i, r in enumerate(raw_rules):
        loc = f"rules.{i}"
        if not isinstance(r, dict) or not isinstance(r.get("id"), str):
            problems.append(f"{loc}: an object with an id")
            continue
        accounts = _accounts(r.get("accounts"), loc, catalog, problems) or frozenset()
        amount = _amount(r.get("min_amount", 0), loc, problems)
        days = r.get("waiting_days")
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 365:
            problems.append(f"{loc}.waiting_days: whole days from 0 to 365")
            days = 0
        out.append(NotificationRule(r["id"], accounts, amount, days, str(r.get("authority", ""))))
    if problems:
        raise RuleFileError(path, problems)
    return tuple(out), tuple(raw_rules)


def load_rules(data_dir: Path = DATA_DIR, catalog: Catalog | None = None) -> Rules:
    catalog = catalog or get_catalog()
    routing, routing_raw, review_days = parse_routing(data_dir / "routing.json", catalog)
    notification, notification_raw = parse_notification(data_dir / "notification.json", catalog)
    return Rules(
        parse_calendar(data_dir / "calendar.json"),
        routing,
        notification,
        routing_raw,
        notification_raw,
        review_days,
    )


@lru_cache(maxsize=1)
def shipped_rules() -> Rules:
    """The rules shipped in ``cycle/data`` (read once per process)."""
    return load_rules()
