"""Pure computation of the planning cycle: routing, notification, the calendar and the
pipeline statistics. Numbers and plain records in, results out; no database.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

# -- rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reviewer:
    """Whose concurrence is asked: ``("agency", "DoD")``, ``("chief_of_mission", "KEN")``
    or ``("legal", "legal")``."""

    kind: str
    who: str

    def label(self) -> str:
        if self.kind == "chief_of_mission":
            return f"Chief of Mission {self.who}"
        if self.kind == "legal":
            return "Legal review"
        return self.who

    def key(self) -> str:
        """The short form used in ``waiting_on`` lists: ``DoD``, ``COM:KEN``, ``legal``."""
        if self.kind == "chief_of_mission":
            return f"COM:{self.who}"
        return self.who


@dataclass(frozen=True)
class RoutingRule:
    """A concurrence rule (``cycle/data/routing.json``)."""

    id: str
    accounts: frozenset[str] | None  # None: any account
    min_amount: int
    reviewers: tuple[tuple[str, str], ...]  # (kind, agency or "")
    when: str = ""  # "" or "restriction_or_vetting"
    why: str = ""

    def applies(self, account: str, amount: int, flagged: bool) -> bool:
        if self.accounts is not None and account not in self.accounts:
            return False
        if amount < self.min_amount:
            return False
        return not (self.when == "restriction_or_vetting" and not flagged)


@dataclass(frozen=True)
class NotificationRule:
    """A congressional notification rule (``cycle/data/notification.json``)."""

    id: str
    accounts: frozenset[str]
    min_amount: int
    waiting_days: int
    authority: str = ""


@dataclass(frozen=True)
class Routed:
    """A reviewer asked, and the rules that asked for it."""

    reviewer: Reviewer
    rules: tuple[str, ...]


def route(
    rules: Sequence[RoutingRule],
    *,
    account: str,
    amount: int,
    country: str,
    flagged: bool,
) -> list[Routed]:
    """The reviewers whose concurrence a proposal needs, in rule order, each once."""
    found: dict[Reviewer, list[str]] = {}
    for rule in rules:
        if not rule.applies(account, amount, flagged):
            continue
        for kind, agency in rule.reviewers:
            if kind == "agency":
                reviewer = Reviewer("agency", agency)
            elif kind == "chief_of_mission":
                reviewer = Reviewer("chief_of_mission", country)
            else:
                reviewer = Reviewer("legal", "legal")
            found.setdefault(reviewer, []).append(rule.id)
    return [Routed(r, tuple(ids)) for r, ids in found.items()]


def notification_for(
    rules: Sequence[NotificationRule], *, account: str, amount: int
) -> NotificationRule | None:
    """The first notification rule that applies, or None when none is needed."""
    for rule in rules:
        if account in rule.accounts and amount >= rule.min_amount:
            return rule
    return None


def clears_on(notified_on: date, waiting_days: int) -> date:
    """The first day money may be obligated: the waiting period counts full days after
    the notification date (notified 1 March with 15 days: obligate from 16 March)."""
    return notified_on + timedelta(days=waiting_days)


# -- the calendar -----------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseTemplate:
    phase: str
    label: str
    start_month: int
    end_month: int


@dataclass(frozen=True)
class Phase:
    fiscal_year: int
    phase: str
    label: str
    starts_on: date
    ends_on: date

    def contains(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


def _month(fiscal_year: int, offset: int) -> date:
    """First day of the month ``offset`` months from the start of ``fiscal_year``."""
    index = (fiscal_year - 1) * 12 + 9 + offset  # months since year 0, October of FY-1
    return date(index // 12, index % 12 + 1, 1)


def fiscal_year_start(fiscal_year: int) -> date:
    return date(fiscal_year - 1, 10, 1)


def build_calendar(fiscal_year: int, template: Sequence[PhaseTemplate]) -> list[Phase]:
    """A fiscal year's phases from the template, with their dates."""
    return [
        Phase(
            fiscal_year,
            t.phase,
            t.label,
            _month(fiscal_year, t.start_month),
            _month(fiscal_year, t.end_month) - timedelta(days=1),
        )
        for t in template
    ]


def current_phase(phases: Iterable[Phase], day: date) -> Phase | None:
    """The phase ``day`` falls in; where phases overlap, the one that began last."""
    inside = [p for p in phases if p.contains(day)]
    return max(inside, key=lambda p: p.starts_on) if inside else None


def obligation_deadline(fiscal_year: int, availability_years: int) -> date | None:
    """The last day money of ``fiscal_year`` may be obligated: 30 September of the last
    year of its period of availability; None for no-year money (availability 0)."""
    if availability_years <= 0:
        return None
    return date(fiscal_year + availability_years - 1, 9, 30)


# -- statistics --------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks
    (numpy's default, Hyndman-Fan type 7); None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)


def days_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400


@dataclass(frozen=True)
class Spell:
    """A stay of one proposal in one stage, from ``start`` to ``end`` (None: still there)."""

    proposal: str
    stage: str
    start: datetime
    end: datetime | None
    attrs: Mapping[str, str] = field(default_factory=dict)

    def days(self, now: datetime) -> float:
        return days_between(self.start, self.end or now)


def spells_of(
    proposal: str,
    steps: Sequence[tuple[str, datetime]],
    attrs: Mapping[str, str] | None = None,
) -> list[Spell]:
    """The stays of one proposal from its steps ``(stage entered, at)``, oldest first."""
    out: list[Spell] = []
    for i, (stage, at) in enumerate(steps):
        end = steps[i + 1][1] if i + 1 < len(steps) else None
        out.append(Spell(proposal, stage, at, end, attrs or {}))
    return out


@dataclass(frozen=True)
class StageStats:
    stage: str
    n: int
    median_days: float | None
    p90_days: float | None


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def stage_stats(
    spells: Sequence[Spell],
    stages: Sequence[str],
    terminal: Iterable[str],
    now: datetime,
) -> list[StageStats]:
    """For every stage: how many stays, and their median and 90th-percentile days.

    A stay still open counts up to ``now`` (a proposal stuck in review for months must
    weigh in, or the statistics would hide exactly the stalls they are for). Terminal
    stages (obligated, rejected, withdrawn) have no duration: ``n`` counts the
    proposals that reached them and the days are None.
    """
    end = set(terminal)
    out: list[StageStats] = []
    for stage in stages:
        mine = [s for s in spells if s.stage == stage]
        if stage in end:
            out.append(StageStats(stage, len(mine), None, None))
            continue
        days = [s.days(now) for s in mine]
        out.append(StageStats(stage, len(days), _r(median(days)), _r(percentile(days, 90))))
    return out


def grouped_stats(
    spells: Sequence[Spell],
    stages: Sequence[str],
    terminal: Iterable[str],
    now: datetime,
    by: str,
) -> dict[str, list[StageStats]]:
    """:func:`stage_stats` for each value of the spell attribute ``by`` (agency, ...)."""
    groups: dict[str, list[Spell]] = {}
    for s in spells:
        groups.setdefault(s.attrs.get(by, ""), []).append(s)
    terminal = tuple(terminal)
    return {k: stage_stats(v, stages, terminal, now) for k, v in sorted(groups.items())}


@dataclass(frozen=True)
class Waiting:
    proposal: str
    stage: str
    days: float
    waiting_on: tuple[str, ...]


def waiting_longest(
    open_spells: Sequence[Spell],
    waiting_on: Callable[[str], Sequence[str]],
    now: datetime,
    limit: int = 10,
) -> list[Waiting]:
    """The proposals that have waited longest in their current stage, and on whom."""
    rows = [
        Waiting(s.proposal, s.stage, round(s.days(now), 1), tuple(waiting_on(s.proposal)))
        for s in open_spells
    ]
    rows.sort(key=lambda w: (-w.days, w.proposal))
    return rows[:limit]


@dataclass(frozen=True)
class CycleTrend:
    """One fiscal year's cycle: how many proposals, how many obligated, and the median
    days from first submission to approval and to obligation (the delivery timeline the
    policy wants minimized)."""

    fiscal_year: int
    proposals: int
    obligated: int
    median_submit_to_approve: float | None
    median_submit_to_obligate: float | None


def trend(
    timelines: Sequence[tuple[int, datetime | None, datetime | None, datetime | None]],
) -> list[CycleTrend]:
    """Per fiscal year from ``(fy, first submitted, approved, obligated)`` of each proposal."""
    years: dict[int, list[tuple[datetime | None, datetime | None, datetime | None]]] = {}
    for fy, sub, app, obl in timelines:
        years.setdefault(fy, []).append((sub, app, obl))
    out: list[CycleTrend] = []
    for fy in sorted(years):
        rows = years[fy]
        to_app = [days_between(s, a) for s, a, _ in rows if s and a]
        to_obl = [days_between(s, o) for s, _, o in rows if s and o]
        out.append(
            CycleTrend(
                fy,
                len(rows),
                sum(1 for *_, o in rows if o),
                _r(median(to_app)),
                _r(median(to_obl)),
            )
        )
    return out
