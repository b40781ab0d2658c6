"""Overlap review: running overlap detection over the stored world, keeping the run,
and reviewers' marks on its pairs.

* :meth:`OverlapService.run` reads every program and donor activity
  (:mod:`.inputs`), passes the stored marks to the engine (marked pairs are always
  reported, dismissed ones never likely), and stores the run with its pairs, so the
  review queue reads them instead of recomputing (a run over 100,000 activities takes
  minutes). Older runs keep their figures; only the latest keeps its pairs.
* A run is **stale** when programs or donor activities changed after it (its
  ``inputs`` differ from :func:`.inputs.fingerprint`); the queue says so and offers a
  re-run. Marks made after a run apply to it at once (they are joined when read).
* Markings (docs/markings.md): a run reads every record, whoever runs it, but a reader
  sees its figures over what they may see. The queue lists a pair only when the reader
  may see both sides; the run's ``pairs`` and ``likely`` are recounted over those pairs
  (the latest run) and ``withheld`` counts the others; ``activities`` and ``skipped``
  come from counts the run keeps by marking and releasable-to list (``stats["marked"]``),
  which also give an older run's pair counts. The engine's own work counts, the world's
  size (``inputs``) and orphan marks are not shown to a restricted reader. A mark is
  shown (listed, read, changed) only when the reader may see both sides it names, and a
  pair with a side the writer may not see cannot be marked (its id is "not found").
* Marks (:class:`~ssaplan.coordination.models.OverlapMark`) are written with
  ``coordination:review`` inside the actor's scope: an agency's reviewer may mark a
  pair when one of its programs is the agency's (or in the reviewer's countries);
  pairs of two donor activities need a reviewer for everything. Every write is
  audited with the mark before and after; an update carrying an old version is
  refused (409).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from ssaplan.coordination.engine import OverlapConfig, OverlapResult, find_overlaps, pair_key
from ssaplan.coordination.inputs import fingerprint as world_fingerprint
from ssaplan.coordination.inputs import (
    load_donor_activities,
    load_programs,
    overlap_activities,
    regions_of,
)
from ssaplan.coordination.models import (
    DonorActivity,
    DonorRecipientCountry,
    OverlapMark,
    OverlapPair,
    OverlapRun,
)
from ssaplan.coordination.schemas import (
    MarkCreate,
    MarkList,
    MarkPublic,
    MarkUpdate,
    PairPage,
    PairPublic,
    RunPublic,
)
from ssaplan.core import audit
from ssaplan.core.errors import Conflict, Detail, Forbidden, Invalid, NotFound, StaleVersion
from ssaplan.core.permissions import Actor, require, restrict
from ssaplan.core.store import utcnow
from ssaplan.portfolio import visibility
from ssaplan.portfolio.models import Program, ProgramCountry, ProgramRegion
from ssaplan.reference.catalog import Catalog, UnknownCode, get_catalog

INSERT_BATCH = 5_000
MARK_REASON = "reviewer marked:"
SKIPPED_KEPT = 5_000  # skipped records kept with a run (the count is always kept)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RunOutcome:
    """A stored run (as its runner may see it) and the engine's full result (what
    ``ssaplan deconflict`` prints); ``skipped_shown`` the skipped and set-aside
    activities the runner may see."""

    run: RunPublic
    result: OverlapResult
    titles: dict[str, tuple[str, str]]  # id -> (title, owner name)
    set_aside: list[dict[str, str]]
    skipped_shown: list[dict[str, str]] = field(default_factory=list)


# A record's marking and releasable-to list as stored: ("CUI", ";NATO;").
Marking = tuple[str, str]


@dataclass(frozen=True)
class _Side:
    """One side of a pair, resolved from an id."""

    ref: str
    code: str
    is_program: bool
    agency: str | None = None
    countries: frozenset[str] = frozenset()


def _ordered(x: _Side, y: _Side) -> tuple[_Side, _Side]:
    """A program before a donor activity, else by id (the engine's order)."""
    return (x, y) if (not x.is_program, x.code) <= (not y.is_program, y.code) else (y, x)


class OverlapService:
    """Overlap runs and marks as one actor sees and changes them, within one session."""

    def __init__(self, session: Session, actor: Actor, catalog: Catalog | None = None) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()

    # -- runs ----------------------------------------------------------------------
    def run(
        self,
        *,
        within_agency: bool = False,
        donor_pairs: bool = False,
        config: OverlapConfig | None = None,
        progress: Progress | None = None,
    ) -> RunOutcome:
        """Detect overlaps over every stored program and donor activity, store the run
        and its pairs (the previous run's pairs are dropped), audit it."""
        require(self.actor, "coordination:run")
        started = time.perf_counter()
        kinds = {"program-program", "program-donor"} | ({"donor-donor"} if donor_pairs else set())
        cfg = config or OverlapConfig.load(same_owner=within_agency, pair_kinds=frozenset(kinds))
        inputs_now = world_fingerprint(self.session)
        programs = load_programs(self.session, self.catalog)
        donors = load_donor_activities(self.session, self.catalog)
        world = overlap_activities(programs, donors, self.catalog)
        if progress is not None:
            progress("read", len(world.activities), len(world.activities))
        codes = {side.ref: code for code, side in world.sides.items()}
        marks: dict[tuple[str, str], str] = {}
        orphans: list[list[str]] = []
        for m in self.session.execute(select(OverlapMark)).scalars():
            a, b = codes.get(m.first_ref), codes.get(m.second_ref)
            if a is None or b is None:
                orphans.append([m.first_code, m.second_code])
            else:
                marks[pair_key(a, b)] = m.mark
        result = find_overlaps(
            world.activities,
            regions_of=regions_of(self.catalog),
            marks=marks,
            config=cfg,
            country_names={
                **{c.iso3: c.name for c in self.catalog.countries.values()},
                **{k: v.name for k, v in self.catalog.institution_types.items()},
                **{k: v.name for k, v in self.catalog.purposes.items()},
            },
            progress=progress,
        )
        skipped = [s.as_dict() for s in result.skipped] + world.set_aside
        marked = self._markings()
        record = OverlapRun(
            created_at=utcnow(),
            created_by=self.actor.username,
            settings={
                "likely": cfg.likely,
                "report": cfg.report,
                "within_agency": within_agency,
                "pair_kinds": sorted(cfg.pair_kinds),
                "vectorizer": str(result.stats.get("vectorizer", "")),
            },
            inputs=inputs_now,
            stats={
                k: v
                for k, v in result.stats.items()
                if isinstance(v, int | float | str) or v is None
            }
            | {"skipped": len(skipped), "marked": _tallies(world, result, marked)},
            skipped=skipped[:SKIPPED_KEPT],
            orphan_marks=orphans + [list(m) for m in result.orphan_marks],
            activities=len(world.activities) - len(result.skipped),
            pairs=len(result.pairs),
            likely=len(result.likely),
            seconds=0.0,
            pairs_kept=True,
        )
        self.session.execute(
            delete(OverlapPair).where(
                OverlapPair.run_id.in_(select(OverlapRun.id).where(OverlapRun.pairs_kept))
            )
        )
        self.session.execute(
            update(OverlapRun).where(OverlapRun.pairs_kept).values(pairs_kept=False)
        )
        self.session.add(record)
        self.session.flush()
        self._store_pairs(record.id, result, world.sides, cfg, progress)
        record.seconds = round(time.perf_counter() - started, 3)
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "run",
                "overlap_run",
                str(record.id),
                None,
                {
                    "settings": record.settings,
                    "inputs": record.inputs,
                    "activities": record.activities,
                    "pairs": record.pairs,
                    "likely": record.likely,
                    "skipped": len(skipped),
                },
                summary=f"overlap detection: {record.pairs} pairs, {record.likely} likely, "
                f"over {record.activities} activities",
                entity_ref=f"overlap_run:{record.id}",
            ),
        )
        titles = {code: (side.title, side.owner_name) for code, side in world.sides.items()}
        audience = self._audience()
        # An engine-skipped activity by its side; a set-aside one is the donor activity
        # (its identifier is a program's id: the program stands for it).
        refs = [world.sides[s.id].ref for s in result.skipped]
        refs += [f"donor:{s['id']}" for s in world.set_aside]
        shown = [
            s
            for s, ref in zip(skipped, refs, strict=True)
            if self._shows(audience, marked.get(ref))
        ]
        return RunOutcome(
            self._run_public(record, inputs_now), result, titles, world.set_aside, shown
        )

    def _markings(self) -> dict[str, Marking]:
        """Every program's and donor activity's marking, by its side's reference (two
        reads, whatever the size of the world)."""
        out: dict[str, Marking] = {
            f"program:{pk}": (m, r)
            for pk, m, r in self.session.execute(
                select(Program.id, Program.marking, Program.releasable_to)
            )
        }
        for identifier, m, r in self.session.execute(
            select(DonorActivity.identifier, DonorActivity.marking, DonorActivity.releasable_to)
        ):
            out[f"donor:{identifier}"] = (m, r)
        return out

    def _audience(self) -> visibility.Audience:
        return visibility.audience_of(self.actor, self.catalog)

    def _shows(self, audience: visibility.Audience, marking: Marking | None) -> bool:
        """Whether ``audience`` may see a record so marked (``None``: a record not found,
        shown only to readers without limits)."""
        if audience.unrestricted:
            return True
        if marking is None:
            return False
        return (
            visibility.verdict(audience, self.catalog, marking[0], visibility.decode(marking[1]))
            is None
        )

    def _store_pairs(
        self,
        run_id: int,
        result: OverlapResult,
        sides: dict[str, Any],
        cfg: OverlapConfig,
        progress: Progress | None,
    ) -> None:
        batch: list[dict[str, Any]] = []
        total = len(result.pairs)
        for seq, p in enumerate(result.pairs):
            sa, sb = sides[p.a], sides[p.b]
            first, second = sorted((sa.ref, sb.ref))
            batch.append(
                {
                    "run_id": run_id,
                    "seq": seq,
                    "a": p.a,
                    "b": p.b,
                    "first_ref": first,
                    "second_ref": second,
                    "a_first": first == sa.ref,
                    "kind": p.kind,
                    "score": round(p.score, 4),
                    # the score's verdict; a dismissal (then or later) overrides it when read
                    "above": p.score >= cfg.likely,
                    "reasons": [r for r in p.reasons if not r.startswith(MARK_REASON)],
                    "components": dict(p.components),
                    "flags": list(p.flags),
                    "a_title": sa.title[:500],
                    "b_title": sb.title[:500],
                    "a_owner": sa.owner_name[:200],
                    "b_owner": sb.owner_name[:200],
                    "partners": " " + " ".join(sorted({*sa.partners, *sb.partners})) + " ",
                }
            )
            if len(batch) >= INSERT_BATCH:
                self.session.execute(insert(OverlapPair), batch)
                batch = []
                if progress is not None:
                    progress("saving pairs", seq + 1, total)
        if batch:
            self.session.execute(insert(OverlapPair), batch)
        if progress is not None:
            progress("saving pairs", total, total)

    def latest_run(self) -> RunPublic | None:
        """The run whose pairs are kept (the latest), or None before the first run; its
        figures as the reader may see them."""
        require(self.actor, "read")
        record = self.session.execute(
            select(OverlapRun).where(OverlapRun.pairs_kept).order_by(OverlapRun.id.desc()).limit(1)
        ).scalar_one_or_none()
        return self._run_public(record) if record is not None else None

    def runs(self, limit: int = 20) -> list[RunPublic]:
        """Stored runs, newest first; their figures as the reader may see them."""
        require(self.actor, "read")
        now = world_fingerprint(self.session)
        rows = self.session.execute(
            select(OverlapRun).order_by(OverlapRun.id.desc()).limit(limit)
        ).scalars()
        return [self._run_public(r, now) for r in rows]

    def skipped(self, run_id: int) -> list[dict[str, str]]:
        """The activities a run skipped (or set aside) that the reader may see now."""
        require(self.actor, "read")
        record = self.session.get(OverlapRun, run_id)
        if record is None:
            raise NotFound(f"no overlap run {run_id}")
        items = list(record.skipped)
        audience = self._audience()
        if audience.unrestricted:
            return items
        ids = sorted({s["id"] for s in items})
        seen: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            seen |= set(
                self.session.execute(
                    visibility.only_visible(
                        select(Program.code).where(Program.code.in_(chunk)), audience, self.catalog
                    )
                ).scalars()
            )
            seen |= set(
                self.session.execute(
                    visibility.only_visible(
                        select(DonorActivity.identifier).where(DonorActivity.identifier.in_(chunk)),
                        audience,
                        self.catalog,
                        marked=DonorActivity,
                    )
                ).scalars()
            )
        return [s for s in items if s["id"] in seen]

    def _run_public(self, r: OverlapRun, now: dict[str, Any] | None = None) -> RunPublic:
        now = now if now is not None else world_fingerprint(self.session)
        audience = self._audience()
        stale = r.inputs != now
        if audience.unrestricted:
            return RunPublic(
                id=r.id,
                created_at=r.created_at,
                created_by=r.created_by,
                settings=r.settings,
                inputs=r.inputs,
                stats={
                    k: v
                    for k, v in r.stats.items()
                    if isinstance(v, int | float | str) or v is None
                },
                activities=r.activities,
                pairs=r.pairs,
                likely=r.likely,
                seconds=r.seconds,
                skipped=int(r.stats.get("skipped", len(r.skipped))),
                orphan_marks=r.orphan_marks,
                pairs_kept=r.pairs_kept,
                stale=stale,
                withheld=0,
            )
        # A restricted reader: every figure over what they may see (docs/markings.md).
        tallies = r.stats.get("marked")
        activities = skipped = pairs = likely = None
        if isinstance(tallies, dict):
            activities = sum(
                n for m, rel, n in tallies.get("activities", []) if self._shows(audience, (m, rel))
            )
            skipped = sum(
                n for m, rel, n in tallies.get("skipped", []) if self._shows(audience, (m, rel))
            )
            pairs = likely = 0
            for ma, ra, mb, rb, n, n_likely in tallies.get("pairs", []):
                if self._shows(audience, (ma, ra)) and self._shows(audience, (mb, rb)):
                    pairs += n
                    likely += n_likely
        if r.pairs_kept:
            # The latest run: recounted over the very pairs the reader's queue lists.
            pairs, likely = self._visible_pair_counts(r.id, audience)
        stats: dict[str, float | int | str | None] = {
            "activities": activities,
            "skipped": skipped,
            "pairs": pairs,
            "likely": likely,
        }
        if "vectorizer" in r.stats:
            stats["vectorizer"] = str(r.stats["vectorizer"])
        return RunPublic(
            id=r.id,
            created_at=r.created_at,
            created_by=r.created_by,
            settings=r.settings,
            inputs={},
            stats=stats,
            activities=activities,
            pairs=pairs,
            likely=likely,
            seconds=r.seconds,
            skipped=skipped,
            orphan_marks=[],
            pairs_kept=r.pairs_kept,
            stale=stale,
            withheld=None if pairs is None else r.pairs - pairs,
        )

    def _visible_pair_counts(self, run_id: int, audience: visibility.Audience) -> tuple[int, int]:
        """How many of a kept run's pairs ``audience`` may see (both sides), and how many
        of those are likely as the queue shows them (a dismissal since counts)."""
        joined = and_(
            OverlapMark.first_ref == OverlapPair.first_ref,
            OverlapMark.second_ref == OverlapPair.second_ref,
        )
        likely = and_(
            OverlapPair.above, or_(OverlapMark.id.is_(None), OverlapMark.mark != "dismissed")
        )
        row = self.session.execute(
            select(func.count(), func.coalesce(func.sum(case((likely, 1), else_=0)), 0))
            .select_from(OverlapPair)
            .outerjoin(OverlapMark, joined)
            .where(
                OverlapPair.run_id == run_id,
                self._side_visible(OverlapPair.first_ref, audience),
                self._side_visible(OverlapPair.second_ref, audience),
            )
        ).one()
        return int(row[0]), int(row[1])

    # -- the review queue ------------------------------------------------------------
    def pairs(
        self,
        *,
        likely: bool | None = None,
        mark: str | None = None,
        kind: str | None = None,
        partner: str | None = None,
        owner: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> PairPage:
        """Pairs of the latest run, best first. ``mark`` is a mark value or
        ``unmarked``; ``partner`` an ISO3 or region code either side serves; ``owner``
        an agency id or donor ref of either side."""
        require(self.actor, "read")
        run = self.latest_run()
        if run is None:
            return PairPage(run=None, items=[], total=0, limit=limit, offset=offset)
        joined = and_(
            OverlapMark.first_ref == OverlapPair.first_ref,
            OverlapMark.second_ref == OverlapPair.second_ref,
        )
        stmt = (
            select(OverlapPair, OverlapMark)
            .outerjoin(OverlapMark, joined)
            .where(OverlapPair.run_id == run.id)
        )
        not_dismissed = or_(OverlapMark.id.is_(None), OverlapMark.mark != "dismissed")
        if likely is True:
            stmt = stmt.where(OverlapPair.above, not_dismissed)
        elif likely is False:
            stmt = stmt.where(or_(~OverlapPair.above, ~not_dismissed))
        if mark == "unmarked":
            stmt = stmt.where(OverlapMark.id.is_(None))
        elif mark:
            if mark not in ("confirmed", "complementary", "dismissed"):
                raise Invalid(
                    "unknown mark",
                    [Detail(("query", "mark"), "confirmed, complementary, dismissed or unmarked")],
                )
            stmt = stmt.where(OverlapMark.mark == mark)
        if kind:
            stmt = stmt.where(OverlapPair.kind == kind)
        if partner:
            code = self._partner_code(partner)
            stmt = stmt.where(OverlapPair.partners.like(f"% {code} %"))
        if owner:
            stmt = stmt.where(self._owner_clause(owner))
        audience = self._audience()
        if not audience.unrestricted:
            # A pair shows only when the reader may see both sides (docs/markings.md).
            stmt = stmt.where(
                self._side_visible(OverlapPair.first_ref, audience),
                self._side_visible(OverlapPair.second_ref, audience),
            )
        total = self.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = self.session.execute(
            stmt.order_by(OverlapPair.seq).limit(limit).offset(offset)
        ).all()
        codes = self._current_codes([ref for p, _ in rows for ref in (p.first_ref, p.second_ref)])
        items = [self._pair_public(p, m, codes) for p, m in rows]
        return PairPage(run=run, items=items, total=total, limit=limit, offset=offset)

    def _side_visible(self, ref: Any, audience: visibility.Audience) -> Any:
        """True for a pair side (``program:<id>`` or ``donor:<identifier>``) ``audience``
        may see."""
        programs = visibility.only_visible(
            select(literal("program:") + cast(Program.id, String)), audience, self.catalog
        )
        donors = visibility.only_visible(
            select(literal("donor:") + DonorActivity.identifier),
            audience,
            self.catalog,
            marked=DonorActivity,
        )
        return or_(ref.in_(programs), ref.in_(donors))

    def _mark_visible(self, audience: visibility.Audience) -> Any:
        """True for a mark whose two sides ``audience`` may see (a mark of a deleted
        program or a removed activity only for readers without limits)."""
        if audience.unrestricted:
            return true()
        return and_(
            self._side_visible(OverlapMark.first_ref, audience),
            self._side_visible(OverlapMark.second_ref, audience),
        )

    def _partner_code(self, text: str) -> str:
        code = text.strip()
        for kind in ("country", "region"):
            try:
                return self.catalog.resolve(kind, code)
            except UnknownCode:
                continue
        return code.upper()

    def _owner_clause(self, owner: str) -> Any:
        """Either side owned by ``owner``: an agency (id or name) or a donor (ref)."""
        try:
            agency = self.catalog.resolve("agency", owner)
            top = self.catalog.top_agency(agency)
            name = self.catalog.agencies[top].name
        except UnknownCode:
            name = None
        donor_names = select(DonorActivity.reporting_org_name).where(
            DonorActivity.reporting_org_ref == owner.strip()
        )
        names = [n for n in self.session.execute(donor_names.distinct()).scalars() if n]
        wanted = [n for n in [name, *names, owner.strip()] if n]
        return or_(OverlapPair.a_owner.in_(wanted), OverlapPair.b_owner.in_(wanted))

    def _current_codes(self, refs: Sequence[str]) -> dict[str, str]:
        """Programs' codes now (they may have been renamed since the run)."""
        pks = sorted({int(r.split(":", 1)[1]) for r in refs if r.startswith("program:")})
        out: dict[str, str] = {}
        for start in range(0, len(pks), 500):
            for pk, code in self.session.execute(
                select(Program.id, Program.code).where(Program.id.in_(pks[start : start + 500]))
            ):
                out[f"program:{pk}"] = code
        return out

    def _pair_public(
        self, p: OverlapPair, m: OverlapMark | None, codes: dict[str, str]
    ) -> PairPublic:
        a_ref, b_ref = (p.first_ref, p.second_ref) if p.a_first else (p.second_ref, p.first_ref)
        reasons = list(p.reasons)
        mark = None
        if m is not None:
            mark = self._mark_public(m, codes)
            reasons.append(f"{MARK_REASON} {m.mark} ({m.marked_by}, {m.marked_at:%Y-%m-%d})")
        return PairPublic(
            a=codes.get(a_ref, p.a),
            b=codes.get(b_ref, p.b),
            score=p.score,
            likely=bool(p.above and (m is None or m.mark != "dismissed")),
            reasons=reasons,
            kind=p.kind,
            components=p.components,
            flags=p.flags,
            a_title=p.a_title,
            b_title=p.b_title,
            a_owner=p.a_owner,
            b_owner=p.b_owner,
            a_ref=a_ref,
            b_ref=b_ref,
            mark=mark,
        )

    # -- marks -------------------------------------------------------------------------
    def marks(self, *, limit: int = 50, offset: int = 0) -> MarkList:
        """Reviewers' marks the reader may see (both sides), newest first; ``withheld``
        counts the others."""
        require(self.actor, "read")
        visible = self._mark_visible(self._audience())
        stmt = select(OverlapMark).where(visible)
        total = self.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        every = self.session.execute(select(func.count()).select_from(OverlapMark)).scalar_one()
        rows = list(
            self.session.execute(
                stmt.order_by(OverlapMark.marked_at.desc(), OverlapMark.id.desc())
                .limit(limit)
                .offset(offset)
            ).scalars()
        )
        codes = self._current_codes([r for m in rows for r in (m.first_ref, m.second_ref)])
        return MarkList(
            items=[self._mark_public(m, codes) for m in rows],
            total=total,
            limit=limit,
            offset=offset,
            withheld=every - total,
        )

    def get_mark(self, mark_id: int) -> MarkPublic:
        """One mark; 404 when the reader may not see a side it names, as for a missing id."""
        require(self.actor, "read")
        m = self._load_mark(mark_id)
        return self._mark_public(m, self._current_codes([m.first_ref, m.second_ref]))

    def create_mark(self, data: MarkCreate) -> MarkPublic:
        """Mark a pair (409 if it already has a mark: change that one instead)."""
        require(self.actor, "coordination:review")
        x, y = self._resolve(data.a, ("body", "a")), self._resolve(data.b, ("body", "b"))
        if x.ref == y.ref:
            raise Invalid(
                "a pair needs two different efforts", [Detail(("body", "b"), "same as a")]
            )
        self._check_scope(x, y)
        first, second = sorted((x, y), key=lambda s: s.ref)
        existing = self.session.execute(
            select(OverlapMark).where(
                OverlapMark.first_ref == first.ref, OverlapMark.second_ref == second.ref
            )
        ).scalar_one_or_none()
        if existing is not None:
            raise Conflict(
                f"{data.a} and {data.b} are already marked {existing.mark} (mark "
                f"{existing.id}, version {existing.version}): change that mark instead"
            )
        now = utcnow()
        m = OverlapMark(
            first_ref=first.ref,
            second_ref=second.ref,
            first_code=first.code,
            second_code=second.code,
            mark=data.mark,
            note=data.note.strip(),
            marked_by=self.actor.username,
            marked_at=now,
            version=1,
        )
        self.session.add(m)
        self.session.flush()
        self._audit("create", m, None)
        return self._mark_public(m, self._current_codes([m.first_ref, m.second_ref]))

    def update_mark(self, mark_id: int, data: MarkUpdate) -> MarkPublic:
        require(self.actor, "coordination:review")
        m = self._load_mark(mark_id, lock=True)
        self._check_scope(
            self._side_of(m.first_ref, m.first_code), self._side_of(m.second_ref, m.second_code)
        )
        if data.version != m.version:
            raise StaleVersion(
                f"mark {mark_id} was changed by someone else (you sent version {data.version}, "
                f"it is now at version {m.version}): reload and try again"
            )
        before = _snapshot(m)
        if data.mark is not None:
            m.mark = data.mark
        if data.note is not None:
            m.note = data.note.strip()
        if _snapshot(m) == before:
            return self.get_mark(mark_id)
        m.version += 1
        m.marked_by = self.actor.username
        m.marked_at = utcnow()
        self.session.flush()
        self._audit("update", m, before)
        return self._mark_public(m, self._current_codes([m.first_ref, m.second_ref]))

    def delete_mark(self, mark_id: int, version: int | None = None) -> None:
        require(self.actor, "coordination:review")
        m = self._load_mark(mark_id, lock=True)
        self._check_scope(
            self._side_of(m.first_ref, m.first_code), self._side_of(m.second_ref, m.second_code)
        )
        if version is not None and version != m.version:
            raise StaleVersion(
                f"mark {mark_id} is at version {m.version}, not {version}: reload and try again"
            )
        before = _snapshot(m)
        self.session.delete(m)
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "delete",
                "overlap_mark",
                _entity_id(before),
                before,
                None,
                entity_ref=f"overlap_mark:{mark_id}",
            ),
        )

    def may_review(self, a_ref: str, b_ref: str) -> bool:
        """Whether the actor may mark this pair (for pages that offer the form)."""
        if restrict(self.actor, "coordination:review").everything:
            return True  # no need to read either side (three statements each, per pair)
        try:
            self._check_scope(self._side_of(a_ref, ""), self._side_of(b_ref, ""))
        except (Forbidden, NotFound):
            return False
        return True

    def _audit(self, action: str, m: OverlapMark, before: dict[str, Any] | None) -> None:
        after = _snapshot(m)
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                action,
                "overlap_mark",
                _entity_id(after),
                before,
                after,
                summary=f"{after['a']} / {after['b']}: {m.mark}",
                entity_ref=f"overlap_mark:{m.id}",
            ),
        )

    def _load_mark(self, mark_id: int, lock: bool = False) -> OverlapMark:
        """A mark the actor may see (both sides), else 404 as for an id never used."""
        stmt = select(OverlapMark).where(
            OverlapMark.id == mark_id, self._mark_visible(self._audience())
        )
        if lock:
            stmt = stmt.with_for_update()
        m = self.session.execute(stmt).scalar_one_or_none()
        if m is None:
            raise NotFound(f"no overlap mark {mark_id}")
        return m

    def _mark_public(self, m: OverlapMark, codes: dict[str, str]) -> MarkPublic:
        first = _Side(m.first_ref, codes.get(m.first_ref, m.first_code), _is_program(m.first_ref))
        second = _Side(
            m.second_ref, codes.get(m.second_ref, m.second_code), _is_program(m.second_ref)
        )
        a, b = _ordered(first, second)
        return MarkPublic(
            id=m.id,
            a=a.code,
            b=b.code,
            a_ref=a.ref,
            b_ref=b.ref,
            mark=m.mark,
            note=m.note,
            marked_by=m.marked_by,
            marked_at=m.marked_at,
            version=m.version,
        )

    def _resolve(self, code: str, loc: tuple[str | int, ...]) -> _Side:
        """A program by its id, else a donor activity by its IATI identifier; one the
        actor may not see is not found, as an id never used."""
        code = code.strip()
        audience = self._audience()
        pk = self.session.execute(
            visibility.only_visible(
                select(Program.id).where(Program.code == code), audience, self.catalog
            )
        ).scalar_one_or_none()
        if pk is not None:
            return self._side_of(f"program:{pk}", code)
        found = self.session.execute(
            visibility.only_visible(
                select(DonorActivity.identifier).where(DonorActivity.identifier == code),
                audience,
                self.catalog,
                marked=DonorActivity,
            )
        ).scalar_one_or_none()
        if found is not None:
            return _Side(f"donor:{code}", code, False)
        raise NotFound(f"no program or donor activity with id {code!r}", [Detail(loc, "not found")])

    def _side_of(self, ref: str, code: str) -> _Side:
        """A side from its stable reference, with a program's agency and partners."""
        kind, _, key = ref.partition(":")
        if kind != "program":
            return _Side(ref, code or key, False)
        pk = int(key)
        row = self.session.execute(
            select(Program.code, Program.agency_id).where(Program.id == pk)
        ).one_or_none()
        if row is None:  # the program was deleted: only a reviewer for everything decides
            return _Side(ref, code, True, None, frozenset())
        countries = set(
            self.session.execute(
                select(ProgramCountry.iso3).where(ProgramCountry.program_id == pk)
            ).scalars()
        )
        for region in self.session.execute(
            select(ProgramRegion.region_code).where(ProgramRegion.program_id == pk)
        ).scalars():
            countries |= set(self.catalog.region_members(region))
        return _Side(ref, row.code, True, row.agency_id, frozenset(countries))

    def _check_scope(self, x: _Side, y: _Side) -> None:
        scope = restrict(self.actor, "coordination:review")
        if scope.everything:
            return
        for side in (x, y):
            if side.is_program and side.agency and scope.allows(side.agency, side.countries):
                return
        raise Forbidden(
            f"{self.actor.username} ({self.actor.describe()}) may not mark {x.code} / {y.code}: "
            "neither is a program inside your scope"
        )

    # -- for other pages ---------------------------------------------------------------
    def donor_countries(self, identifiers: Sequence[str]) -> dict[str, list[str]]:
        """Recipient countries of some donor activities (for pages)."""
        out: dict[str, list[str]] = {}
        for start in range(0, len(identifiers), 500):
            for aid, iso3 in self.session.execute(
                select(DonorRecipientCountry.activity_id, DonorRecipientCountry.iso3).where(
                    DonorRecipientCountry.activity_id.in_(identifiers[start : start + 500])
                )
            ):
                if iso3:
                    out.setdefault(aid, []).append(iso3)
        return out


def _tallies(
    world: Any, result: OverlapResult, marked: dict[str, Marking]
) -> dict[str, list[list[Any]]]:
    """A run's counts by marking and releasable-to list, kept with it so each reader's
    figures can be summed over what they may see: activities compared and skipped as
    ``[marking, releasable_to, n]``, pairs as ``[marking_a, list_a, marking_b, list_b,
    pairs, likely]``. A record without a marking (none found) counts as above every
    ceiling."""
    unknown: Marking = ("", "")

    def of(ref: str) -> Marking:
        return marked.get(ref, unknown)

    everyone = Counter(of(world.sides[a.id].ref) for a in world.activities)
    engine_skipped = Counter(of(world.sides[s.id].ref) for s in result.skipped)
    set_aside = Counter(of(f"donor:{s['id']}") for s in world.set_aside)
    compared = everyone - engine_skipped
    pairs: Counter[tuple[str, str, str, str]] = Counter()
    likely: Counter[tuple[str, str, str, str]] = Counter()
    for p in result.pairs:
        a, b = sorted((of(world.sides[p.a].ref), of(world.sides[p.b].ref)))
        key = (*a, *b)
        pairs[key] += 1
        likely[key] += int(p.likely)
    return {
        "activities": [[m, r, n] for (m, r), n in sorted(compared.items())],
        "skipped": [[m, r, n] for (m, r), n in sorted((engine_skipped + set_aside).items())],
        "pairs": [[*key, n, likely[key]] for key, n in sorted(pairs.items())],
    }


def _entity_id(snapshot: dict[str, Any]) -> str:
    """The audit trail's id of a mark: its two ids (cut to the column's 200 characters;
    ``entity_ref`` is the mark's stable reference)."""
    return f"{snapshot['a']}|{snapshot['b']}"[:200]


def _is_program(ref: str) -> bool:
    return ref.startswith("program:")


def _snapshot(m: OverlapMark) -> dict[str, Any]:
    first = _Side(m.first_ref, m.first_code, _is_program(m.first_ref))
    second = _Side(m.second_ref, m.second_code, _is_program(m.second_ref))
    a, b = _ordered(first, second)
    return {
        "a": a.code,
        "b": b.code,
        "a_ref": a.ref,
        "b_ref": b.ref,
        "mark": m.mark,
        "note": m.note,
        "version": m.version,
    }
