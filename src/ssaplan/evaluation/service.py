"""The evaluation registry's workflows: list, read, create, change and delete evaluations.

Every write checks the ``evaluation:write`` permission inside the actor's scope (the
evaluation's agency and its program's partner countries), validates every field
against the catalog and the portfolio (reporting all problems at once), and leaves an
audit record with the evaluation before and after, in the caller's transaction. A
refused write changes nothing.

Every evaluation carries a marking and a releasable-to list (:mod:`ssaplan.portfolio.
visibility`, ``marked=Evaluation``). Every read shows only the evaluations the service's
audience may see (by default the actor's own view); a hidden one is "not found", the same
answer as an id that names nothing, and lists count what they withheld.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ssaplan.core import audit
from ssaplan.core.errors import Detail, Forbidden, Invalid, NotFound, StaleVersion
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor, require, restrict
from ssaplan.core.store import utcnow
from ssaplan.evaluation.models import (
    EffectEstimate,
    Evaluation,
    EvaluationDocument,
    Recommendation,
)
from ssaplan.evaluation.schemas import (
    MAX_ANALYSIS_CHARS,
    DocumentIn,
    DocumentPublic,
    EstimateIn,
    EstimatePublic,
    EvaluationCreate,
    EvaluationList,
    EvaluationPublic,
    EvaluationSummary,
    EvaluationUpdate,
    RecommendationIn,
    RecommendationPublic,
)
from ssaplan.portfolio.models import Program
from ssaplan.portfolio.schemas import Withheld
from ssaplan.portfolio.visibility import (
    Audience,
    audience_of,
    decode,
    marking_fields,
    only_visible,
    withheld,
)
from ssaplan.reference.catalog import Catalog, UnknownCode, get_catalog

WRITE = "evaluation:write"
_CODE = re.compile(r"^EV-(\d{1,12})$")
Loc = tuple[str | int, ...]


def code_of(evaluation_id: int) -> str:
    """The evaluation's id as people and files write it: ``EV-00042``."""
    return f"EV-{evaluation_id:05d}"


def standardized(e: EffectEstimate | EstimateIn) -> tuple[float | None, float | None]:
    """The estimate and its SE as improvement in SDs of the outcome (None without an SD).

    Without a standard error, the one a normal interval implies at its level.
    """
    from ssaplan.evaluation.engine.evidence import standard_error_from_interval

    if e.outcome_sd is None:
        return None, None
    se = e.std_error
    if se is None and e.ci_low is not None and e.ci_high is not None:
        se = standard_error_from_interval(e.ci_low, e.ci_high, e.ci_level)
    value = e.direction * e.estimate / e.outcome_sd
    return value, (se / e.outcome_sd if se is not None else None)


def primary_estimate(evaluation: Evaluation) -> EffectEstimate | None:
    """The estimate that speaks for the evaluation: the one marked primary, else the only one."""
    marked = [e for e in evaluation.estimates if e.primary]
    if marked:
        return marked[0]
    return evaluation.estimates[0] if len(evaluation.estimates) == 1 else None


class EvaluationService:
    """The evaluation registry as one actor sees and changes it, within one session.

    ``audience`` (by default the actor's own view) decides which evaluations every read
    shows."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        catalog: Catalog | None = None,
        *,
        audience: Audience | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        self.audience = audience or audience_of(actor, self.catalog)

    def _visible(self, stmt: Any) -> Any:
        """``stmt`` (a select over evaluations) narrowed to those the audience may see."""
        return only_visible(stmt, self.audience, self.catalog, marked=Evaluation)

    # -- reads ----------------------------------------------------------------------
    def get(self, code: str) -> EvaluationPublic:
        require(self.actor, "read")
        return self.public(self._load(code))

    def list_evaluations(
        self,
        *,
        evaluation_type: str | None = None,
        status: str | None = None,
        program: str | None = None,
        agency: str | None = None,
        q: str | None = None,
        limit: int | None = 50,
        offset: int = 0,
    ) -> EvaluationList:
        """A page of the registry, newest first, the count of every match the audience may
        see and of those it may not (``withheld``, by reason)."""
        require(self.actor, "read")
        where: list[Any] = []
        if evaluation_type:
            where.append(Evaluation.evaluation_type == evaluation_type)
        if status:
            where.append(Evaluation.status == status)
        if agency:
            try:
                top = self.catalog.resolve("agency", agency)
            except UnknownCode as exc:
                raise Invalid("unknown agency", [Detail(("query", "agency"), str(exc))]) from exc
            where.append(Evaluation.agency_id.in_(self.catalog.agency_descendants(top)))
        if program:
            where.append(
                Evaluation.program_id.in_(select(Program.id).where(Program.code == program))
            )
        if q:
            like = f"%{q.strip().lower()}%"
            where.append(
                or_(
                    func.lower(Evaluation.title).like(like),
                    func.lower(Evaluation.evaluator).like(like),
                    func.lower(Evaluation.findings).like(like),
                )
            )
        matched: Any = select(Evaluation.id).where(*where)  # the filter's ids
        hidden = withheld(
            self.session,
            matched,
            self.audience,
            self.catalog,
            marked=Evaluation,
        )
        total = self.session.execute(
            self._visible(select(func.count()).select_from(Evaluation).where(*where))
        ).scalar_one()
        stmt = self._visible(
            select(Evaluation).where(*where).order_by(Evaluation.id.desc()).offset(offset)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = list(self.session.execute(stmt).scalars())
        titles = self._program_titles({e.program_id for e in rows if e.program_id is not None})
        return EvaluationList(
            items=[self._summary(e, titles) for e in rows],
            total=total,
            limit=limit,
            offset=offset,
            withheld=Withheld(**hidden),
        )

    def history(self, code: str) -> list[AuditRecord]:
        """The evaluation's audit records, newest first (also after it was deleted)."""
        require(self.actor, "read")
        number = self._number(code)
        if not self.audience.unrestricted:
            # The history names the marking: a hidden evaluation's is as missing as the
            # evaluation, and a deleted one's is read only by readers without limits.
            self._load(code)
        records = audit.history(self.session, "evaluation", code, entity_ref=f"evaluation:{number}")
        if not records:
            raise NotFound(f"no evaluation with id {code!r}")
        return records

    # -- writes -----------------------------------------------------------------------
    def create(self, data: EvaluationCreate) -> EvaluationPublic:
        require(self.actor, WRITE)
        loc: Loc = ("body",)
        values = self._resolve(data.model_dump(exclude_unset=False), loc, None)
        evaluation = Evaluation(
            code=f"new-{uuid.uuid4().hex}",  # replaced by EV-nnnnn once the id is known
            created_by=self.actor.username,
            marking="U",
            releasable_to="",
            version=1,
        )
        self._apply(evaluation, values)
        self._check_scope(evaluation, loc)
        self.session.add(evaluation)
        self.session.flush()
        evaluation.code = code_of(evaluation.id)
        self.session.flush()
        public = self.public(evaluation)
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "create",
                "evaluation",
                evaluation.code,
                None,
                _snapshot(public),
                summary=evaluation.title[:200],
                entity_ref=f"evaluation:{evaluation.id}",
            ),
        )
        return public

    def update(self, code: str, data: EvaluationUpdate) -> EvaluationPublic:
        """Change an evaluation (``data.version`` must be the stored version)."""
        require(self.actor, WRITE)
        evaluation = self._load(code, lock=True)
        self._check_scope(evaluation, ("path", "id"))
        if data.version != evaluation.version:
            raise StaleVersion(
                f"evaluation {code!r} was changed by someone else (you sent version "
                f"{data.version}, it is now at version {evaluation.version}): reload and try again"
            )
        before = _snapshot(self.public(evaluation))
        given = data.model_dump(exclude_unset=True, exclude={"version"})
        merged = {**self._current(evaluation), **given}
        values = self._resolve(merged, ("body",), evaluation, given=set(given))
        self._apply(evaluation, values)
        self._check_scope(evaluation, ("body", "agency"))
        after_public = self.public(evaluation)
        if _snapshot(after_public) == before:  # nothing changed: no new version, no record
            return after_public
        evaluation.version += 1
        evaluation.updated_at = utcnow()
        self.session.flush()
        public = self.public(evaluation)
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "update",
                "evaluation",
                evaluation.code,
                before,
                _snapshot(public),
                entity_ref=f"evaluation:{evaluation.id}",
            ),
        )
        return public

    def add_estimate(self, code: str, estimate: EstimateIn) -> EvaluationPublic:
        """Append one estimate (e.g. one ssaplan just computed) to an evaluation."""
        require(self.actor, WRITE)
        evaluation = self._load(code)
        current = self._current(evaluation)
        return self.update(
            code,
            EvaluationUpdate(
                version=evaluation.version,
                estimates=[*current["estimates"], estimate.model_dump()],
            ),
        )

    def delete(self, code: str, version: int | None = None) -> None:
        require(self.actor, WRITE)
        evaluation = self._load(code, lock=True)
        self._check_scope(evaluation, ("path", "id"))
        if version is not None and version != evaluation.version:
            raise StaleVersion(
                f"evaluation {code!r} is at version {evaluation.version}, not {version}: "
                "reload and try again"
            )
        before = _snapshot(self.public(evaluation))
        ref = f"evaluation:{evaluation.id}"
        self.session.delete(evaluation)
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username, "delete", "evaluation", code, before, None, entity_ref=ref
            ),
        )

    # -- shapes -------------------------------------------------------------------------
    def public(self, e: Evaluation) -> EvaluationPublic:
        program_code = program_title = None
        if e.program_id is not None:
            # A program the reader may not see is not named (its evaluation may be).
            program_code, program_title = self._program_titles({e.program_id}).get(
                e.program_id, (None, None)
            )
        c = self.catalog
        return EvaluationPublic(
            id=e.code,
            title=e.title,
            evaluation_type=e.evaluation_type,
            status=e.status,
            program=program_code,
            program_title=program_title,
            objective=e.objective_id,
            objective_name=c.objectives[e.objective_id].name if e.objective_id else None,
            agency=e.agency_id,
            agency_name=_name(c.agencies, e.agency_id) or e.agency_id,
            institution_type=e.institution_type_id,
            institution_type_name=_name(c.institution_types, e.institution_type_id),
            purpose=e.purpose_id,
            purpose_name=_name(c.purposes, e.purpose_id),
            questions=list(e.questions or []),
            design=e.design,
            evaluator=e.evaluator,
            independence=e.independence,
            start_date=e.start_date,
            end_date=e.end_date,
            report_date=e.report_date,
            findings=e.findings,
            management_response=e.management_response,
            estimates=[estimate_public(x) for x in e.estimates],
            recommendations=[
                RecommendationPublic(
                    text=r.text,
                    response=r.response,
                    response_text=r.response_text,
                    action=r.action,
                    due_date=r.due_date,
                )
                for r in e.recommendations
            ],
            documents=[
                DocumentPublic(
                    title=d.title,
                    url=d.url,
                    filename=d.filename,
                    media_type=d.media_type,
                    size_bytes=d.size_bytes,
                    sha256=d.sha256,
                )
                for d in e.documents
            ],
            marking=e.marking,
            releasable_to=decode(e.releasable_to),
            version=e.version,
            created_by=e.created_by,
            created_at=e.created_at,
            updated_at=e.updated_at,
        )

    def _summary(self, e: Evaluation, titles: dict[int, tuple[str, str]]) -> EvaluationSummary:
        c = self.catalog
        program = titles.get(e.program_id) if e.program_id is not None else None
        primary = primary_estimate(e)
        return EvaluationSummary(
            id=e.code,
            title=e.title,
            evaluation_type=e.evaluation_type,
            status=e.status,
            program=program[0] if program else None,
            program_title=program[1] if program else None,
            agency=e.agency_id,
            agency_name=_name(c.agencies, e.agency_id) or e.agency_id,
            institution_type=e.institution_type_id,
            institution_type_name=_name(c.institution_types, e.institution_type_id),
            purpose=e.purpose_id,
            purpose_name=_name(c.purposes, e.purpose_id),
            evaluator=e.evaluator,
            independence=e.independence,
            end_date=e.end_date,
            report_date=e.report_date,
            primary_estimate=estimate_public(primary, with_analysis=False) if primary else None,
            recommendations=len(e.recommendations),
            recommendations_open=sum(r.response == "pending" for r in e.recommendations),
            marking=e.marking,
            releasable_to=decode(e.releasable_to),
            version=e.version,
        )

    # -- helpers ------------------------------------------------------------------------
    def _number(self, code: str) -> int:
        match = _CODE.match(code.strip())
        if match is None:
            raise NotFound(f"no evaluation with id {code!r}: ids look like EV-00042")
        return int(match.group(1))

    def _load(self, code: str, *, lock: bool = False) -> Evaluation:
        """The evaluation if the audience may see it; else "not found", the same answer
        as for an id that names nothing."""
        stmt = self._visible(select(Evaluation).where(Evaluation.id == self._number(code)))
        if lock:
            stmt = stmt.with_for_update()
        found = self.session.execute(stmt).scalar_one_or_none()
        if found is None:
            raise NotFound(f"no evaluation with id {code!r}")
        return found

    def _program_titles(self, ids: set[int]) -> dict[int, tuple[str, str]]:
        if not ids:
            return {}
        return {
            pid: (code, title)
            for pid, code, title in self.session.execute(
                only_visible(
                    select(Program.id, Program.code, Program.title).where(Program.id.in_(ids)),
                    self.audience,
                    self.catalog,
                )
            )
        }

    def _current(self, e: Evaluation) -> dict[str, Any]:
        """The stored evaluation in the shape of :class:`EvaluationCreate`."""
        program = self.session.get(Program, e.program_id) if e.program_id is not None else None
        return {
            "title": e.title,
            "evaluation_type": e.evaluation_type,
            "status": e.status,
            "program": program.code if program is not None else None,
            "objective": e.objective_id,
            "agency": e.agency_id,
            "institution_type": e.institution_type_id,
            "purpose": e.purpose_id,
            "questions": list(e.questions or []),
            "design": e.design,
            "evaluator": e.evaluator,
            "independence": e.independence,
            "start_date": e.start_date,
            "end_date": e.end_date,
            "report_date": e.report_date,
            "findings": e.findings,
            "management_response": e.management_response,
            "estimates": [_estimate_in(x) for x in e.estimates],
            "recommendations": [
                {
                    "text": r.text,
                    "response": r.response,
                    "response_text": r.response_text,
                    "action": r.action,
                    "due_date": r.due_date,
                }
                for r in e.recommendations
            ],
            "documents": [
                {
                    "title": d.title,
                    "url": d.url,
                    "filename": d.filename,
                    "media_type": d.media_type,
                    "size_bytes": d.size_bytes,
                    "sha256": d.sha256,
                }
                for d in e.documents
            ],
            "marking": e.marking,
            "releasable_to": decode(e.releasable_to),
        }

    def _resolve(
        self,
        data: dict[str, Any],
        loc: Loc,
        existing: Evaluation | None,
        *,
        given: set[str] | None = None,
    ) -> dict[str, Any]:
        """Check everything that needs the catalog or the database; every problem at once."""
        problems: list[Detail] = []
        values = dict(data)
        program: Program | None = None
        if data.get("program") is not None:
            lookup = select(Program).where(Program.code == data["program"])
            if given is None or "program" in given:  # one named now must be one they see
                lookup = only_visible(lookup, self.audience, self.catalog)
            program = self.session.execute(lookup).scalar_one_or_none()
            if program is None:
                problems.append(
                    Detail((*loc, "program"), f"no program with id {data['program']!r}")
                )
        values["program_row"] = program
        for field, kind in (
            ("objective", "objective"),
            ("agency", "agency"),
            ("institution_type", "institution_type"),
            ("purpose", "purpose"),
        ):
            if data.get(field) is None:
                continue
            try:
                values[field] = self.catalog.resolve(kind, data[field])  # type: ignore[arg-type]
            except UnknownCode as exc:
                problems.append(Detail((*loc, field), str(exc)))
        # The program's agency and kind, unless given (on create) or kept (on update).
        relinked = given is None or "program" in given
        if program is not None and relinked:
            if data.get("agency") is None or (given is not None and "agency" not in given):
                values["agency"] = program.agency_id
            for field, column in (
                ("institution_type", "institution_type_id"),
                ("purpose", "purpose_id"),
            ):
                if data.get(field) is None or (given is not None and field not in given):
                    values[field] = getattr(program, column)
        if values.get("agency") is None:
            problems.append(
                Detail(
                    (*loc, "agency"),
                    "an evaluation needs an agency: give agency, or a program to take it from",
                )
            )
        if data.get("program") is None and data.get("objective") is None:
            problems.append(
                Detail(
                    (*loc, "program"),
                    "an evaluation evaluates a program or an objective: give program or objective",
                )
            )
        start, end, report = data.get("start_date"), data.get("end_date"), data.get("report_date")
        if start and end and end < start:
            problems.append(
                Detail((*loc, "end_date"), f"end_date {end} is before start_date {start}")
            )
        if start and report and report < start:
            problems.append(
                Detail((*loc, "report_date"), f"report_date {report} is before start_date {start}")
            )
        estimates = [
            e if isinstance(e, EstimateIn) else EstimateIn.model_validate(e)
            for e in data.get("estimates") or []
        ]
        values["estimates"] = estimates
        status = data.get("status")
        if status == "planned" and (estimates or data.get("findings")):
            problems.append(
                Detail(
                    (*loc, "status"),
                    "a planned evaluation has no findings or estimates yet: set status to "
                    "ongoing or completed to record them",
                )
            )
        if status == "completed":
            if not (data.get("findings") or "").strip():
                problems.append(
                    Detail((*loc, "findings"), "a completed evaluation records its findings")
                )
            if report is None:
                problems.append(
                    Detail((*loc, "report_date"), "a completed evaluation has a report date")
                )
        primaries = [i for i, e in enumerate(estimates) if e.primary]
        if len(primaries) > 1:
            problems.append(
                Detail(
                    (*loc, "estimates", primaries[1], "primary"),
                    f"estimates {primaries} are all marked primary: one estimate speaks for an "
                    "evaluation in the evidence base (its estimates are not independent)",
                )
            )
        for i, e in enumerate(estimates):
            if e.analysis is not None and len(json.dumps(e.analysis)) > MAX_ANALYSIS_CHARS:
                problems.append(
                    Detail(
                        (*loc, "estimates", i, "analysis"),
                        f"the stored analysis is limited to {MAX_ANALYSIS_CHARS:,} characters "
                        "of JSON: leave out placebo paths",
                    )
                )
        # On update only the marking fields given are checked (the stored ones stand).
        values["marks"] = marking_fields(
            self.actor,
            self.catalog,
            data.get("marking") if given is None or "marking" in given else None,
            data.get("releasable_to") if given is None or "releasable_to" in given else None,
            loc,
            problems,
        )
        if problems:
            raise Invalid("the evaluation cannot be saved", problems)
        return values

    def _apply(self, e: Evaluation, v: dict[str, Any]) -> None:
        program: Program | None = v["program_row"]
        e.title = v["title"]
        e.evaluation_type = v["evaluation_type"]
        e.status = v["status"]
        e.program_id = program.id if program is not None else None
        e.objective_id = v.get("objective")
        e.agency_id = v["agency"]
        e.institution_type_id = v.get("institution_type")
        e.purpose_id = v.get("purpose")
        e.questions = [q.strip() for q in v.get("questions") or []]
        e.design = v.get("design") or ""
        e.evaluator = v.get("evaluator") or ""
        e.independence = v.get("independence") or "internal"
        e.start_date = v.get("start_date")
        e.end_date = v.get("end_date")
        e.report_date = v.get("report_date")
        e.findings = v.get("findings") or ""
        e.management_response = v.get("management_response") or ""
        e.estimates = [_estimate_row(i, x) for i, x in enumerate(v["estimates"])]
        e.recommendations = [
            _recommendation_row(i, RecommendationIn.model_validate(r))
            for i, r in enumerate(v.get("recommendations") or [])
        ]
        e.documents = [
            _document_row(i, DocumentIn.model_validate(d))
            for i, d in enumerate(v.get("documents") or [])
        ]
        for field, stored in v["marks"].items():
            setattr(e, field, stored)

    def _check_scope(self, e: Evaluation, loc: Loc) -> None:
        countries: Sequence[str] = ()
        if e.program_id is not None:
            program = self.session.get(Program, e.program_id)
            if program is not None:
                countries = [c.iso3 for c in program.countries]
        if not restrict(self.actor, WRITE).allows(e.agency_id, countries):
            where = ".".join(str(p) for p in loc)
            raise Forbidden(
                f"your role ({self.actor.describe()}) does not allow {WRITE} for an evaluation "
                f"of {e.agency_id}"
                + (f" in {', '.join(countries)}" if countries else "")
                + f" ({where})"
            )


def estimate_public(e: EffectEstimate, *, with_analysis: bool = True) -> EstimatePublic:
    value, se = standardized(e)
    return EstimatePublic(
        outcome=e.outcome,
        unit=e.unit,
        method=e.method,
        estimate=e.estimate,
        std_error=e.std_error,
        ci_low=e.ci_low,
        ci_high=e.ci_high,
        ci_level=e.ci_level,
        outcome_sd=e.outcome_sd,
        direction=e.direction,
        primary=e.primary,
        n_treated=e.n_treated,
        n_control=e.n_control,
        note=e.note,
        standardized=value,
        standardized_se=se,
        analysis=e.analysis if with_analysis else None,
    )


def _estimate_in(e: EffectEstimate) -> dict[str, Any]:
    return {
        "outcome": e.outcome,
        "unit": e.unit,
        "method": e.method,
        "estimate": e.estimate,
        "std_error": e.std_error,
        "ci_low": e.ci_low,
        "ci_high": e.ci_high,
        "ci_level": e.ci_level,
        "outcome_sd": e.outcome_sd,
        "direction": e.direction,
        "primary": e.primary,
        "n_treated": e.n_treated,
        "n_control": e.n_control,
        "note": e.note,
        "analysis": e.analysis,
    }


def _estimate_row(position: int, x: EstimateIn) -> EffectEstimate:
    return EffectEstimate(position=position, **x.model_dump())


def _recommendation_row(position: int, r: RecommendationIn) -> Recommendation:
    return Recommendation(position=position, **r.model_dump())


def _document_row(position: int, d: DocumentIn) -> EvaluationDocument:
    return EvaluationDocument(position=position, **d.model_dump())


def _name(table: Any, key: str | None) -> str | None:
    if key is None:
        return None
    item = table.get(key)
    return item.name if item is not None else None


def _snapshot(public: EvaluationPublic) -> dict[str, Any]:
    """What the audit trail keeps of an evaluation: everything but timestamps and the
    stored analyses (which can be large; their presence is kept)."""
    data = public.model_dump(mode="json", exclude={"created_at", "updated_at", "version"})
    for est in data["estimates"]:
        est["analysis"] = "stored" if est.get("analysis") is not None else None
    return data
