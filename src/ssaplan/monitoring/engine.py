"""Pure monitoring computation: indicator ratings, delivery timelines, money pace, and the
review findings and recommendation for a program.

No database, no HTTP: plain values in, immutable results out. The rules come in as a
:class:`~ssaplan.monitoring.rules.RuleSet`.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from ssaplan.monitoring.rules import STAGES, Performance, RuleSet, severity
from ssaplan.portfolio.engine import fiscal_year
from ssaplan.strategy.engine import IndicatorSeries, expected_value

RATED = ("on_track", "at_risk", "off_track")
ACTIVE = ("approved", "notified", "obligated", "implementing")  # money should be moving
FINAL = ("completed", "terminated")


# -- indicator performance -------------------------------------------------------------
@dataclass(frozen=True)
class PeriodRating:
    """One measured period of an indicator against its target path."""

    period: str
    measured: float
    expected: float | None
    progress: float | None  # share of the expected progress from the baseline made
    status: str  # on_track | at_risk | off_track | no_target | not_rated (data quality)
    quality: str
    confidence: str


@dataclass(frozen=True)
class IndicatorRating:
    """An indicator's periods rated, its latest status and how long it has been off track."""

    series: IndicatorSeries
    periods: tuple[PeriodRating, ...]
    status: str | None  # the latest rated period's status; None if none is rated
    off_track_streak: int  # the latest rated periods that are all off track
    latest_progress: float | None

    @property
    def rated(self) -> tuple[PeriodRating, ...]:
        return tuple(p for p in self.periods if p.status in RATED)


def rate(
    measured: float,
    baseline: float | None,
    expected: float | None,
    direction: str,
    perf: Performance,
) -> tuple[str, float | None]:
    """A measured value's status against the expected value (see :func:`rate_series`)."""
    if expected is None:
        return "no_target", None
    start = baseline if baseline is not None else expected
    gap = expected - start
    if abs(gap) < 1e-12:
        sign = 1.0 if direction == "increase" else -1.0
        return ("on_track" if (measured - expected) * sign >= -1e-12 else "off_track"), None
    progress = (measured - start) / gap
    if progress >= perf.on_track_at:
        return "on_track", progress
    if progress >= perf.at_risk_at:
        return "at_risk", progress
    return "off_track", progress


def rate_series(series: IndicatorSeries, perf: Performance) -> IndicatorRating:
    """Rate every measured total of an indicator.

    Progress is ``(measured - baseline) / (expected - baseline)``: 1.0 means exactly on
    the target path, 0 means no better than the baseline, negative means worse. It
    works the same for indicators meant to fall (both sides are negative). Values of a
    grade not in ``perf.usable_grades`` are ``not_rated``; periods of a fiscal year
    without a target are ``no_target``.
    """
    baseline = series.baseline[1] if series.baseline else None
    out: list[PeriodRating] = []
    for v in series.values:
        expected = expected_value(v.period, series.baseline, series.targets)
        if v.quality not in perf.usable_grades:
            status, progress = "not_rated", None
        else:
            status, progress = rate(v.value, baseline, expected, series.direction, perf)
        out.append(
            PeriodRating(
                v.period.label, v.value, expected, progress, status, v.quality, v.confidence
            )
        )
    rated = [p for p in out if p.status in RATED]
    streak = 0
    for p in reversed(rated):
        if p.status != "off_track":
            break
        streak += 1
    return IndicatorRating(
        series=series,
        periods=tuple(out),
        status=rated[-1].status if rated else None,
        off_track_streak=streak,
        latest_progress=rated[-1].progress if rated else None,
    )


# -- delivery timelines ------------------------------------------------------------------
@dataclass(frozen=True)
class Delivery:
    """A delivery of a program with its dates and the program's account and agency."""

    program: str
    program_pk: int
    account: str | None
    agency: str
    milestone_id: int
    name: str
    requested_on: date | None
    approved_on: date | None
    obligated_on: date | None
    delivered_on: date | None
    program_title: str = ""

    def reached(self, stage: str) -> date | None:
        """The day a stage (approval, obligation, delivery) was reached, if it was."""
        return {
            "approval": self.approved_on,
            "obligation": self.obligated_on,
            "delivery": self.delivered_on,
        }[stage]


@dataclass(frozen=True)
class StageLate:
    """A stage of a delivery past its standard: done late, or still pending past it."""

    stage: str
    days: int
    standard: int
    pending: bool

    @property
    def over_by(self) -> int:
        return self.days - self.standard


@dataclass(frozen=True)
class LateDelivery:
    """A delivery with at least one stage past its standard."""

    delivery: Delivery
    stages: tuple[StageLate, ...]

    @property
    def over_by(self) -> int:
        return max(s.over_by for s in self.stages)


@dataclass(frozen=True)
class StageFigures:
    """How long one stage took across a group of deliveries."""

    stage: str
    standard: int | None  # None when the group mixes accounts with different standards
    done: int
    median_days: float | None
    on_time_share: float | None
    late: int  # done late, or pending past the standard


@dataclass(frozen=True)
class TimelineGroup:
    """Delivery times of one program, account or agency."""

    key: str
    deliveries: int
    late: int
    stages: tuple[StageFigures, ...]


@dataclass(frozen=True)
class TimelineReport:
    """Days from request to approval, obligation and delivery, against the standards."""

    as_of: date
    deliveries: int
    undated: int  # deliveries without a request date (not timed)
    overall: TimelineGroup
    by_program: tuple[TimelineGroup, ...]
    by_account: tuple[TimelineGroup, ...]
    by_agency: tuple[TimelineGroup, ...]
    late: tuple[LateDelivery, ...]


def stage_times(d: Delivery, rules: RuleSet, as_of: date) -> dict[str, tuple[int, bool, bool]]:
    """Each timed stage of a delivery: (days from the request, done, late).

    A stage reached is timed from the request to its date. A stage not reached is
    timed from the request to ``as_of`` if no later stage was reached (it is still
    pending); a skipped stage (a later one was reached) is not timed.
    """
    if d.requested_on is None:
        return {}
    standard = rules.standard(d.account)
    out: dict[str, tuple[int, bool, bool]] = {}
    for n, stage in enumerate(STAGES):
        reached = d.reached(stage)
        limit = standard.days(stage)
        if reached is not None:
            days = (reached - d.requested_on).days
            out[stage] = (days, True, days > limit)
        elif not any(d.reached(s) for s in STAGES[n + 1 :]):
            days = max(0, (as_of - d.requested_on).days)
            out[stage] = (days, False, days > limit)
    return out


def late_delivery(d: Delivery, rules: RuleSet, as_of: date) -> LateDelivery | None:
    standard = rules.standard(d.account)
    stages = tuple(
        StageLate(stage, days, standard.days(stage), not done)
        for stage, (days, done, late) in stage_times(d, rules, as_of).items()
        if late
    )
    return LateDelivery(d, stages) if stages else None


def _group(key: str, items: Sequence[Delivery], rules: RuleSet, as_of: date) -> TimelineGroup:
    times = [stage_times(d, rules, as_of) for d in items]
    figures = []
    for stage in STAGES:
        done = [t[stage][0] for t in times if stage in t and t[stage][1]]
        on_time = [t[stage] for t in times if stage in t and t[stage][1] and not t[stage][2]]
        late = sum(1 for t in times if stage in t and t[stage][2])
        standards = {rules.standard(d.account).days(stage) for d in items}
        figures.append(
            StageFigures(
                stage=stage,
                standard=standards.pop() if len(standards) == 1 else None,
                done=len(done),
                median_days=float(statistics.median(done)) if done else None,
                on_time_share=len(on_time) / len(done) if done else None,
                late=late,
            )
        )
    late_count = sum(1 for t in times if any(v[2] for v in t.values()))
    return TimelineGroup(key, len(items), late_count, tuple(figures))


def timelines(deliveries: Iterable[Delivery], rules: RuleSet, as_of: date) -> TimelineReport:
    """Delivery times per program, account and agency, and every late delivery."""
    items = list(deliveries)
    timed = [d for d in items if d.requested_on is not None]
    groups: dict[str, dict[str, list[Delivery]]] = {
        "program": defaultdict(list),
        "account": defaultdict(list),
        "agency": defaultdict(list),
    }
    for d in timed:
        groups["program"][d.program].append(d)
        groups["account"][d.account or "Unassigned"].append(d)
        groups["agency"][d.agency].append(d)

    def ordered(kind: str) -> tuple[TimelineGroup, ...]:
        made = [_group(k, v, rules, as_of) for k, v in groups[kind].items()]
        return tuple(sorted(made, key=lambda g: (-g.late, -g.deliveries, g.key)))

    late = [x for d in timed if (x := late_delivery(d, rules, as_of)) is not None]
    late.sort(key=lambda x: (-x.over_by, x.delivery.program, x.delivery.milestone_id))
    return TimelineReport(
        as_of=as_of,
        deliveries=len(timed),
        undated=len(items) - len(timed),
        overall=_group("all", timed, rules, as_of),
        by_program=ordered("program"),
        by_account=ordered("account"),
        by_agency=ordered("agency"),
        late=tuple(late),
    )


# -- money pace -----------------------------------------------------------------------
@dataclass(frozen=True)
class Line:
    """A budget line with what the pace rules need of its program."""

    program: str
    program_pk: int
    status: str
    agency: str
    fiscal_year: int
    account: str | None
    planned: int
    obligated: int
    disbursed: int

    @property
    def unobligated(self) -> int:
        return max(0, self.planned - self.obligated)

    @property
    def unliquidated(self) -> int:
        return max(0, self.obligated - self.disbursed)


def obligation_ends(fy: int, availability_years: int | None) -> date | None:
    """The last day money of ``fy`` from an account available ``availability_years``
    may be obligated (30 September of its last fiscal year); None for no-year money."""
    if not availability_years or availability_years <= 0:
        return None
    return date(fy + availability_years - 1, 9, 30)


@dataclass(frozen=True)
class MoneyGroup:
    """Planned, obligated and disbursed money of one group, with its rates."""

    key: str
    planned: int
    obligated: int
    disbursed: int

    @property
    def unobligated(self) -> int:
        return max(0, self.planned - self.obligated)

    @property
    def unliquidated(self) -> int:
        return max(0, self.obligated - self.disbursed)

    @property
    def obligation_rate(self) -> float | None:
        return self.obligated / self.planned if self.planned else None

    @property
    def disbursement_rate(self) -> float | None:
        return self.disbursed / self.obligated if self.obligated else None


@dataclass(frozen=True)
class AvailabilityBalance:
    """Money of one account and fiscal year by its period of availability."""

    account: str
    fiscal_year: int
    obligation_ends: date
    days_left: int  # negative once expired
    unobligated: int
    unliquidated: int
    cancels_on: date
    programs: int


@dataclass(frozen=True)
class MoneyReport:
    """Money pace: obligated and disbursed against planned, and what availability says."""

    as_of: date
    current_fy: int
    total: MoneyGroup
    by_account: tuple[MoneyGroup, ...]
    by_fiscal_year: tuple[MoneyGroup, ...]
    expiring: tuple[AvailabilityBalance, ...]  # unobligated, availability ends soon
    expired: tuple[AvailabilityBalance, ...]  # availability over: lapsed and unliquidated money
    unliquidated: int


def _sum(key: str, lines: Iterable[Line]) -> MoneyGroup:
    p = o = d = 0
    for line in lines:
        p, o, d = p + line.planned, o + line.obligated, d + line.disbursed
    return MoneyGroup(key, p, o, d)


def money_pace(
    lines: Iterable[Line], availability: Mapping[str, int], rules: RuleSet, as_of: date
) -> MoneyReport:
    """Money by account and fiscal year, funds about to expire and expired balances.

    ``availability`` gives each account's period of availability in years (reference
    data; 0 for no-year money). Money of FY *F* from an account available *N* years
    may be obligated until 30 September of FY *F+N-1*; unobligated money then lapses,
    and obligated money not yet disbursed stays payable for ``cancel_after_years``
    more years, then is cancelled (31 U.S.C. 1552).
    """
    items = list(lines)
    by_account: dict[str, list[Line]] = defaultdict(list)
    by_year: dict[int, list[Line]] = defaultdict(list)
    cells: dict[tuple[str, int], list[Line]] = defaultdict(list)
    for line in items:
        account = line.account or "Unassigned"
        by_account[account].append(line)
        by_year[line.fiscal_year].append(line)
        cells[(account, line.fiscal_year)].append(line)
    expiring: list[AvailabilityBalance] = []
    expired: list[AvailabilityBalance] = []
    for (account, fy), group in cells.items():
        ends = obligation_ends(fy, availability.get(account))
        if ends is None:
            continue
        unobligated = sum(x.unobligated for x in group)
        unliquidated = sum(x.unliquidated for x in group)
        days_left = (ends - as_of).days
        balance = AvailabilityBalance(
            account=account,
            fiscal_year=fy,
            obligation_ends=ends,
            days_left=days_left,
            unobligated=unobligated,
            unliquidated=unliquidated,
            cancels_on=date(ends.year + rules.cancel_after_years, 9, 30),
            programs=len({x.program_pk for x in group}),
        )
        if days_left < 0:
            if unobligated or unliquidated:
                expired.append(balance)
        elif days_left <= rules.expiring_within_days and unobligated:
            expiring.append(balance)
    return MoneyReport(
        as_of=as_of,
        current_fy=fiscal_year(as_of),
        total=_sum("all", items),
        by_account=tuple(
            sorted((_sum(k, v) for k, v in by_account.items()), key=lambda g: (-g.planned, g.key))
        ),
        by_fiscal_year=tuple(_sum(str(k), by_year[k]) for k in sorted(by_year)),
        expiring=tuple(sorted(expiring, key=lambda b: (b.days_left, -b.unobligated))),
        expired=tuple(sorted(expired, key=lambda b: (b.obligation_ends, b.account))),
        unliquidated=sum(x.unliquidated for x in items),
    )


# -- review findings ------------------------------------------------------------------------
@dataclass(frozen=True)
class Crisis:
    """A crisis recorded for a partner country."""

    iso3: str
    occurred_on: date
    kind: str
    severity: str
    description: str


@dataclass(frozen=True)
class AssessmentChange:
    """A partner's propensity in the latest saved assessment against the year before."""

    iso3: str
    name: str
    year: int
    previous: float
    current: float

    @property
    def delta(self) -> float:
        return self.current - self.previous


@dataclass(frozen=True)
class ProgramFacts:
    """Everything the review rules look at for one program."""

    code: str
    pk: int
    status: str
    countries: frozenset[str]
    ratings: tuple[IndicatorRating, ...] = ()
    assessment: tuple[AssessmentChange, ...] = ()
    crises: tuple[Crisis, ...] = ()
    lines: tuple[Line, ...] = ()
    late: tuple[LateDelivery, ...] = ()


@dataclass(frozen=True)
class Finding:
    """A review rule that fired for a program: what it recommends and why."""

    rule: str
    recommendation: str
    reasons: tuple[str, ...] = field(default_factory=tuple)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _money(v: int) -> str:
    return f"${v:,}"


def findings(facts: ProgramFacts, rules: RuleSet, as_of: date) -> list[Finding]:
    """The review rules that fire for a program (legal restrictions are not among them:
    the compliance domain raises those)."""
    if facts.status in FINAL:
        return []
    out: list[Finding] = []
    if rules.enabled("indicator_off_track"):
        need = int(rules.param("indicator_off_track", "periods"))
        worst = 0
        reasons = []
        for r in facts.ratings:
            if r.off_track_streak >= need:
                worst = max(worst, r.off_track_streak)
                last = r.rated[-r.off_track_streak :]
                s = r.series
                reasons.append(
                    f"indicator {s.strategy} {s.code} '{s.name}' is off track "
                    f"{r.off_track_streak} periods running ("
                    + ", ".join(
                        f"{p.period}: {p.measured:g} vs {p.expected:g}"
                        for p in last[-3:]
                        if p.expected is not None
                    )
                    + f"; progress {_pct(r.latest_progress)} of the target path)"
                )
        if reasons:
            rec = (
                "terminate"
                if worst >= int(rules.param("indicator_off_track", "terminate_after"))
                else str(rules.param("indicator_off_track", "recommendation"))
            )
            out.append(Finding("indicator_off_track", rec, tuple(reasons)))
    if rules.enabled("assessment_drop"):
        points = float(rules.param("assessment_drop", "points"))
        severe = float(rules.param("assessment_drop", "severe_points"))
        dropped = [a for a in facts.assessment if a.iso3 in facts.countries and -a.delta >= points]
        if dropped:
            rec = (
                str(rules.param("assessment_drop", "severe_recommendation"))
                if any(-a.delta >= severe for a in dropped)
                else str(rules.param("assessment_drop", "recommendation"))
            )
            out.append(
                Finding(
                    "assessment_drop",
                    rec,
                    tuple(
                        f"{a.name} ({a.iso3}): propensity fell {-a.delta:.1f} points "
                        f"({a.previous:.1f} to {a.current:.1f}) in the {a.year} assessment"
                        for a in dropped
                    ),
                )
            )
    if rules.enabled("crisis_event"):
        window = int(rules.param("crisis_event", "within_days"))
        recent = [
            c
            for c in facts.crises
            if c.iso3 in facts.countries and 0 <= (as_of - c.occurred_on).days <= window
        ]
        if recent:
            rec = (
                str(rules.param("crisis_event", "severe_recommendation"))
                if any(c.severity == "severe" for c in recent)
                else str(rules.param("crisis_event", "recommendation"))
            )
            out.append(
                Finding(
                    "crisis_event",
                    rec,
                    tuple(
                        f"{c.severity} {c.kind.replace('_', ' ')} in {c.iso3} on "
                        f"{c.occurred_on}: {c.description}"
                        for c in recent
                    ),
                )
            )
    if rules.enabled("money_not_moving") and facts.status in ACTIVE:
        out.extend(_money_findings(facts, rules, as_of))
    if rules.enabled("delivery_late"):
        over = int(rules.param("delivery_late", "days_over"))
        reasons = []
        for late in facts.late:
            for stage in late.stages:
                if stage.over_by > over:
                    verb = "pending" if stage.pending else "took"
                    reasons.append(
                        f"delivery '{late.delivery.name}': {stage.stage} {verb} {stage.days} "
                        f"days (standard {stage.standard}, {stage.over_by} over)"
                    )
        if reasons:
            out.append(
                Finding(
                    "delivery_late",
                    str(rules.param("delivery_late", "recommendation")),
                    tuple(reasons),
                )
            )
    return out


def _money_findings(facts: ProgramFacts, rules: RuleSet, as_of: date) -> list[Finding]:
    current = fiscal_year(as_of)
    min_obligated = float(rules.param("money_not_moving", "min_obligated_share"))
    min_disbursed = float(rules.param("money_not_moving", "min_disbursed_share"))
    after = int(rules.param("money_not_moving", "disbursement_after_years"))
    reasons = []
    for line in sorted(facts.lines, key=lambda x: (x.fiscal_year, x.account or "")):
        account = line.account or "no account"
        if line.fiscal_year < current and line.planned > 0:
            share = line.obligated / line.planned
            if share < min_obligated:
                reasons.append(
                    f"FY{line.fiscal_year} {account}: {_money(line.obligated)} of "
                    f"{_money(line.planned)} planned obligated ({_pct(share)}) after the "
                    "fiscal year ended"
                )
        if line.fiscal_year <= current - after and line.obligated > 0:
            share = line.disbursed / line.obligated
            if share < min_disbursed:
                reasons.append(
                    f"FY{line.fiscal_year} {account}: {_money(line.disbursed)} of "
                    f"{_money(line.obligated)} obligated disbursed ({_pct(share)}) "
                    f"{current - line.fiscal_year} years on"
                )
    if not reasons:
        return []
    return [
        Finding(
            "money_not_moving",
            str(rules.param("money_not_moving", "recommendation")),
            tuple(reasons),
        )
    ]


def recommend(
    found: Sequence[Finding], facts: ProgramFacts, rules: RuleSet, *, annual: bool
) -> tuple[str, tuple[str, ...]]:
    """A review's recommendation and its reasons.

    The most severe recommendation among the findings (continue < scale up <
    restructure < suspend < terminate), with every finding's reasons. Without
    findings, an annual review recommends scaling up when every rated indicator is
    at least ``scale_up_at`` of its target path, else continuing.
    """
    if found:
        top = max(found, key=lambda f: severity(f.recommendation))
        reasons = tuple(
            f"[{f.rule.replace('_', ' ')}] {r}"
            for f in sorted(found, key=lambda f: -severity(f.recommendation))
            for r in f.reasons
        )
        return top.recommendation, reasons
    rated = [r for r in facts.ratings if r.status is not None]
    threshold = rules.performance.scale_up_at
    if (
        annual
        and facts.status in ACTIVE
        and rated
        and all(r.latest_progress is not None and r.latest_progress >= threshold for r in rated)
    ):
        return "scale_up", (
            f"every one of the {len(rated)} rated indicators of the objectives it serves is at "
            f"least {_pct(threshold)} of its target path (latest: "
            + ", ".join(f"{r.series.code} {_pct(r.latest_progress)}" for r in rated[:6])
            + "); no review rule fired",
        )
    on_track = sum(1 for r in rated if r.status == "on_track")
    return "continue", (
        "no review rule fired"
        + (
            f"; {on_track} of {len(rated)} rated indicators on track"
            if rated
            else "; no rated indicators (link the program to a strategy objective with "
            "measured indicators)"
        ),
    )
