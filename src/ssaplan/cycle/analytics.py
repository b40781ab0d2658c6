"""Reads across proposals: pipeline statistics and each user's inbox.

The statistics come from the proposals' time-stamped steps (:class:`ProposalStep`): a
stay in a stage runs from the step that entered it to the step that left it (or to
now). Computation is in :mod:`ssaplan.cycle.engine`; this module gathers the records.

Both read only the proposals the service's audience may see (their markings,
docs/markings.md): a hidden proposal is in no stay, wait, trend or inbox item.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import select

from ssaplan.core.permissions import can, restrict
from ssaplan.cycle import engine
from ssaplan.cycle.models import STAGES, Proposal, ProposalComment
from ssaplan.cycle.schemas import (
    GroupStatsPublic,
    InboxItem,
    InboxPublic,
    PipelinePublic,
    StageStatsPublic,
    TrendPublic,
    WaitingPublic,
)
from ssaplan.cycle.service import TERMINAL, UNDER_REVIEW, CycleService

GROUPS = ("agency", "account", "region")
Group = Literal["agency", "account", "region"]


def _stats(rows: list[engine.StageStats]) -> list[StageStatsPublic]:
    return [
        StageStatsPublic(stage=s.stage, n=s.n, median_days=s.median_days, p90_days=s.p90_days)
        for s in rows
    ]


class CycleAnalytics:
    """Pipeline statistics and inboxes, as one actor may see them."""

    def __init__(self, service: CycleService) -> None:
        self.service = service
        self.now = service.now

    def spells(self, proposals: list[Proposal]) -> list[engine.Spell]:
        catalog = self.service.catalog
        out: list[engine.Spell] = []
        for p in proposals:
            country = catalog.countries.get(p.country_iso3)
            attrs = {
                "agency": catalog.top_agency(p.agency_id)
                if p.agency_id in catalog.agencies
                else "",
                "account": p.account_id,
                "region": (country.bureau if country else None) or "none",
            }
            # A hold is recorded as a step from notified to notified: not a new stay.
            moves = [(s.to_stage, s.at) for s in p.steps if s.from_stage != s.to_stage]
            out += engine.spells_of(p.code, moves, attrs)
        return out

    def pipeline(
        self,
        *,
        fiscal_year: int | None = None,
        by: tuple[Group, ...] = (),
        with_trend: bool = False,
        limit: int = 10,
    ) -> PipelinePublic:
        proposals = self.service.all_proposals(fiscal_year)
        spells = self.spells(proposals)
        by_code = {p.code: p for p in proposals}
        stats = engine.stage_stats(spells, STAGES, TERMINAL, self.now)
        open_spells = [
            s for s in spells if s.end is None and s.stage not in TERMINAL and s.proposal in by_code
        ]
        waiting = engine.waiting_longest(
            open_spells, lambda code: self.service.waiting_on(by_code[code]), self.now, limit
        )
        groups = None
        if by:
            groups = {
                g: [
                    GroupStatsPublic(group=k, stages=_stats(v))
                    for k, v in engine.grouped_stats(spells, STAGES, TERMINAL, self.now, g).items()
                ]
                for g in by
            }
        trend = None
        if with_trend:
            everything = proposals if fiscal_year is None else self.service.all_proposals()
            trend = [
                TrendPublic(
                    fiscal_year=t.fiscal_year,
                    proposals=t.proposals,
                    obligated=t.obligated,
                    median_submit_to_approve=t.median_submit_to_approve,
                    median_submit_to_obligate=t.median_submit_to_obligate,
                )
                for t in engine.trend([_timeline(p) for p in everything])
            ]
        return PipelinePublic(
            stages=_stats(stats),
            waiting_longest=[
                WaitingPublic(
                    id=w.proposal,
                    stage=w.stage,
                    days=w.days,
                    waiting_on=list(w.waiting_on),
                )
                for w in waiting
            ],
            by=groups,
            trend=trend,
            withheld=self.service.withheld_of(fiscal_year),
        )

    # -- the inbox ------------------------------------------------------------------------
    def inbox(self) -> InboxPublic:
        """What waits on the actor: concurrences to give, revisions to make, proposals to
        approve, comments to answer, notifications to send or clear, money to obligate."""
        s = self.service
        actor = s.actor
        items: list[InboxItem] = []
        live = list(
            s.session.execute(
                s.visible(
                    select(Proposal).where(Proposal.stage.not_in(TERMINAL)).order_by(Proposal.code)
                )
            ).scalars()
        )
        write = restrict(actor, "proposal:write")
        approver = can(actor, "proposal:approve")
        review_days = s.rules.review_days
        for p in live:
            mine = write.allows(p.agency_id, [p.country_iso3]) if not write.nothing else False
            if p.stage in UNDER_REVIEW:
                for c in s.pending(p):
                    if s._eligible(c):
                        who = engine.Reviewer(c.reviewer_kind, c.reviewer).label()
                        items.append(
                            _item(
                                "concurrence",
                                p,
                                c.requested_at,
                                (c.requested_at + timedelta(days=review_days)).date(),
                                f"concurrence as {who}",
                            )
                        )
                if approver and not s.pending(p):
                    last = max(
                        (c.decided_at for c in s.current_round(p) if c.decided_at), default=None
                    )
                    items.append(
                        _item(
                            "review",
                            p,
                            last or p.stage_since,
                            s.phase_end(p.fiscal_year, "allocation_decision"),
                            "every concurrence is in: approve or reject",
                        )
                    )
            elif p.stage == "revise" and (mine or p.created_by == actor.username):
                items.append(
                    _item(
                        "revision",
                        p,
                        p.stage_since,
                        s.phase_end(p.fiscal_year, "interagency_review"),
                        "returned for revision: edit and resubmit",
                    )
                )
            elif p.stage == "approved" and p.notification_rule and approver:
                deadline = s.obligation_deadline(p)
                due = deadline - timedelta(days=p.waiting_days or 0) if deadline else None
                items.append(
                    _item(
                        "notification",
                        p,
                        p.stage_since,
                        due,
                        f"notify Congress ({p.notification_rule}, {p.waiting_days}-day wait)",
                    )
                )
            elif p.stage == "notified" and approver and p.notified_on and not p.hold:
                clears = engine.clears_on(p.notified_on, p.waiting_days or 0)
                if clears <= s.today:
                    items.append(
                        _item(
                            "notification",
                            p,
                            datetime.combine(clears, time(), UTC),
                            None,
                            f"waiting period over since {clears}: record clearance",
                        )
                    )
            elif (
                p.stage == "cleared" or (p.stage == "approved" and not p.notification_rule)
            ) and mine:
                items.append(
                    _item(
                        "obligation",
                        p,
                        p.stage_since,
                        s.obligation_deadline(p),
                        "cleared: record the obligation",
                    )
                )
        items += self._comments(live)
        items += self._vetting()
        items.sort(key=lambda i: (i.due or date.max, i.since, i.ref))
        return InboxPublic(items=items)

    def _vetting(self) -> list[InboxItem]:
        """Vetting approvals in the actor's scope that lapse within compliance's alert
        window: a program may not assist a unit whose approval has lapsed."""
        s = self.service
        scope = restrict(s.actor, "compliance:vet")
        if scope.nothing:
            return []
        from ssaplan.compliance.service import ComplianceService

        found = ComplianceService(s.session, s.actor, today=s.today).vetting.expiring()
        out = []
        for v, expires_on, days_left in found:
            if not scope.allows(s.actor.agency_id, [v.country] if v.country else []):
                continue
            who = v.unit_name or v.individual or f"request {v.id}"
            out.append(
                InboxItem(
                    kind="vetting",
                    ref=f"vetting-{v.id}",
                    since=datetime.combine(v.decided or v.requested, time(), UTC),
                    due=expires_on,
                    title=f"{who} ({v.country or 'individual'})",
                    detail=f"vetting approval lapses on {expires_on} ({days_left} days left)"
                    + (f" for {v.program}" if v.program else "")
                    + ": request renewal",
                )
            )
        return out

    def _comments(self, live: list[Proposal]) -> list[InboxItem]:
        """Comments by others on the actor's proposals, after the actor last wrote there."""
        me = self.service.actor.username
        own = {p.id: p for p in live if p.created_by == me}
        if not own:
            return []
        rows = self.service.session.execute(
            select(ProposalComment)
            .where(ProposalComment.proposal_id.in_(sorted(own)))
            .order_by(ProposalComment.at, ProposalComment.id)
        ).scalars()
        unanswered: dict[int, list[ProposalComment]] = {}
        for m in rows:
            if m.author == me:
                unanswered[m.proposal_id] = []
            else:
                unanswered.setdefault(m.proposal_id, []).append(m)
        out: list[InboxItem] = []
        for pid, waiting in unanswered.items():
            if waiting:
                authors = ", ".join(sorted({m.author for m in waiting}))
                out.append(
                    _item(
                        "comment",
                        own[pid],
                        waiting[0].at,
                        None,
                        f"{len(waiting)} comment(s) from {authors} to answer",
                    )
                )
        return out


def _item(kind: str, p: Proposal, since: datetime, due: date | None, detail: str) -> InboxItem:
    return InboxItem(kind=kind, ref=p.code, since=since, due=due, title=p.title, detail=detail)


def _timeline(p: Proposal) -> tuple[int, datetime | None, datetime | None, datetime | None]:
    submitted = next((s.at for s in p.steps if s.to_stage == "submitted"), None)
    approved = next((s.at for s in reversed(p.steps) if s.to_stage == "approved"), None)
    obligated = next((s.at for s in p.steps if s.to_stage == "obligated"), None)
    return p.fiscal_year, submitted, approved, obligated
