"""Monitoring results and records shown back: engine results and rows as public shapes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Protocol

from ssaplan.monitoring import engine
from ssaplan.monitoring.models import Review
from ssaplan.monitoring.rules import RuleSet, statement
from ssaplan.monitoring.schemas import (
    AvailabilityPublic,
    BudgetChangePublic,
    IndicatorPerformance,
    LateDeliveryPublic,
    MoneyGroupPublic,
    MoneyPublic,
    MonitorSummary,
    PerformanceSummary,
    PeriodRatingPublic,
    ReviewChanges,
    ReviewPublic,
    StageFiguresPublic,
    StageLatePublic,
    TimelineGroupPublic,
    TimelinePublic,
)


class ProgramLike(Protocol):
    """What a review shows of its program (a stored program, or monitoring's brief)."""

    @property
    def id(self) -> int: ...

    @property
    def code(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def status(self) -> str: ...


def indicator_public(r: engine.IndicatorRating, codes: Mapping[int, str]) -> IndicatorPerformance:
    s = r.series
    return IndicatorPerformance(
        indicator=s.indicator_id,
        strategy=s.strategy,
        objective=s.objective_id,
        objective_code=s.objective_code,
        code=s.code,
        name=s.name,
        unit=s.unit,
        kind=s.kind,
        partner=s.partner,
        status=r.status,
        off_track_streak=r.off_track_streak,
        latest_progress=r.latest_progress,
        programs=sorted(codes[pk] for pk in s.programs if pk in codes),
        periods=[
            PeriodRatingPublic(
                period=p.period,
                measured=p.measured,
                expected=p.expected,
                progress=p.progress,
                status=p.status,
                quality=p.quality,
                confidence=p.confidence,
            )
            for p in r.periods
        ],
    )


def _group(g: engine.TimelineGroup) -> TimelineGroupPublic:
    return TimelineGroupPublic(
        key=g.key,
        deliveries=g.deliveries,
        late=g.late,
        stages=[
            StageFiguresPublic(
                stage=s.stage,
                standard=s.standard,
                done=s.done,
                median_days=s.median_days,
                on_time_share=s.on_time_share,
                late=s.late,
            )
            for s in g.stages
        ],
    )


def late_public(x: engine.LateDelivery) -> LateDeliveryPublic:
    d = x.delivery
    return LateDeliveryPublic(
        program=d.program,
        program_title=d.program_title,
        account=d.account,
        agency=d.agency,
        delivery=d.milestone_id,
        name=d.name,
        requested_on=d.requested_on,
        approved_on=d.approved_on,
        obligated_on=d.obligated_on,
        delivered_on=d.delivered_on,
        over_by=x.over_by,
        stages=[
            StageLatePublic(
                stage=s.stage,
                days=s.days,
                standard=s.standard,
                over_by=s.over_by,
                pending=s.pending,
            )
            for s in x.stages
        ],
    )


def timeline_public(t: engine.TimelineReport, rule: str) -> TimelinePublic:
    return TimelinePublic(
        as_of=t.as_of,
        rule=rule,
        deliveries=t.deliveries,
        undated=t.undated,
        overall=_group(t.overall),
        by_program=[_group(g) for g in t.by_program],
        by_account=[_group(g) for g in t.by_account],
        by_agency=[_group(g) for g in t.by_agency],
        late=[late_public(x) for x in t.late],
    )


def _money(g: engine.MoneyGroup) -> MoneyGroupPublic:
    return MoneyGroupPublic(
        key=g.key,
        planned=g.planned,
        obligated=g.obligated,
        disbursed=g.disbursed,
        unobligated=g.unobligated,
        unliquidated=g.unliquidated,
        obligation_rate=g.obligation_rate,
        disbursement_rate=g.disbursement_rate,
    )


def _balance(b: engine.AvailabilityBalance) -> AvailabilityPublic:
    return AvailabilityPublic(
        account=b.account,
        fiscal_year=b.fiscal_year,
        obligation_ends=b.obligation_ends,
        days_left=b.days_left,
        unobligated=b.unobligated,
        unliquidated=b.unliquidated,
        cancels_on=b.cancels_on,
        programs=b.programs,
    )


def money_public(m: engine.MoneyReport, rule: str) -> MoneyPublic:
    return MoneyPublic(
        as_of=m.as_of,
        current_fy=m.current_fy,
        rule=rule,
        total=_money(m.total),
        by_account=[_money(g) for g in m.by_account],
        by_fiscal_year=[_money(g) for g in m.by_fiscal_year],
        expiring=[_balance(b) for b in m.expiring],
        expired=[_balance(b) for b in m.expired],
        unliquidated=m.unliquidated,
    )


def performance_summary(
    ratings: Sequence[engine.IndicatorRating], rules: RuleSet
) -> PerformanceSummary:
    need = int(rules.param("indicator_off_track", "periods"))
    return PerformanceSummary(
        rule=statement("performance", rules),
        indicators=len(ratings),
        rated=sum(1 for r in ratings if r.status is not None),
        on_track=sum(1 for r in ratings if r.status == "on_track"),
        at_risk=sum(1 for r in ratings if r.status == "at_risk"),
        off_track=sum(1 for r in ratings if r.status == "off_track"),
        not_rated=sum(1 for r in ratings if r.status is None),
        off_track_two_periods=sum(1 for r in ratings if r.off_track_streak >= need),
    )


def summary_of(
    as_of: date,
    ratings: Sequence[engine.IndicatorRating],
    codes: Mapping[int, str],
    rules: RuleSet,
    timelines: TimelinePublic,
    money: MoneyPublic,
    open_reviews: int,
) -> MonitorSummary:
    off = sorted(
        (r for r in ratings if r.status == "off_track"),
        key=lambda r: (-r.off_track_streak, r.series.strategy, r.series.code),
    )
    return MonitorSummary(
        as_of=as_of,
        performance=performance_summary(ratings, rules),
        off_track=[indicator_public(r, codes) for r in off],
        timelines=timelines,
        money=money,
        open_reviews=open_reviews,
    )


def review_public(r: Review, program: ProgramLike, rules: RuleSet) -> ReviewPublic:
    changes = r.changes or {}
    return ReviewPublic(
        id=r.id,
        program=program.code,
        program_title=program.title,
        program_status=program.status,
        trigger=r.trigger,
        immediate=r.immediate,
        cycle=r.cycle,
        recommendation=r.recommendation,
        reasons=list(r.reasons or []),
        rule=statement(r.trigger, rules)
        if r.trigger not in ("annual", "manual")
        else (
            "The annual review cycle reviews every program: its recommendation is the most "
            "severe any review rule calls for, scale up when every rated indicator is well "
            "ahead, else continue."
            if r.trigger == "annual"
            else "Opened by hand; the recommendation is the reviewer's or the rules'."
        ),
        source=r.source,
        status=r.status,
        opened_by=r.opened_by,
        opened_at=r.opened_at,
        decision=r.decision,
        rationale=r.rationale,
        changes=ReviewChanges(
            status_before=changes.get("status_before"),
            status_after=changes.get("status_after"),
            budget=[BudgetChangePublic(**b) for b in changes.get("budget", [])],
        ),
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        version=r.version,
    )
