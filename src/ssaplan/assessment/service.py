"""Assessment workflows: gathering inputs, running, saving, reading and re-checking runs.

Running and saving need ``analysis:run``; reading saved assessments needs ``read``. A
saved assessment keeps the framework's rows, the settings and seed, every raw input
(value, year, source), the judgments with their rationale and the policy inputs, so
:meth:`AssessmentService.reproduce` can recompute it and compare number for number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, raiseload

from ssaplan.assessment import analyses, derived
from ssaplan.assessment.engine import Panel, latest_in_window
from ssaplan.assessment.framework import Framework, FrameworkRow
from ssaplan.assessment.indicators.service import IndicatorService
from ssaplan.assessment.models import Assessment, AssessmentCountry, Judgment
from ssaplan.assessment.policy import PolicyService, judgment_record, leaf_objectives
from ssaplan.assessment.run import (
    METHOD,
    AssessmentRun,
    Inputs,
    Settings,
    compute,
    validate_settings,
)
from ssaplan.core import audit
from ssaplan.core.errors import BadRequest, Detail, Invalid, NotFound
from ssaplan.core.permissions import Actor, require
from ssaplan.portfolio.filters import ProgramFilter
from ssaplan.portfolio.money import partner_money
from ssaplan.portfolio.visibility import (
    Audience,
    audience_from_json,
    audience_json,
    audience_of,
    covers,
    only_visible,
)
from ssaplan.reference.catalog import Catalog, UnknownCode, get_catalog

ROLLUP_KINDS = ("bureau", "combatant_command", "organization")


class AssessmentService:
    """Assessments as one actor runs and reads them, within one session."""

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
        # Whose programs a run's money comes from (the actor's own view by default), and
        # which saved runs the reader may read (docs/markings.md).
        self.audience = audience or audience_of(actor, self.catalog)
        self._readable: dict[Audience, bool] = {}
        self.policy = PolicyService(session, actor, self.catalog)
        self.indicators = IndicatorService(session, actor)

    # -- running --------------------------------------------------------------------
    def run(
        self,
        *,
        year: int | None = None,
        framework: Framework | None = None,
        settings: Settings | None = None,
    ) -> AssessmentRun:
        """Assess every country with data for ``year`` under ``framework``.

        The year defaults to the latest year whose window covers the most of the
        framework's indicators; the framework to the current ``default``."""
        require(self.actor, "analysis:run")
        settings = settings or Settings()
        problems = [Detail(("settings",), p) for p in validate_settings(settings)]
        if problems:
            raise Invalid("invalid assessment settings", problems)
        fw = framework or self.policy.framework()
        indicator_measures = fw.measures_of("indicator")
        unknown = self.indicators.unknown_measures(indicator_measures)
        if unknown:
            raise Invalid(
                f"{len(unknown)} measure(s) of framework {fw.label} have no imported indicator",
                [
                    Detail(
                        ("framework", m),
                        "no indicator of this name has been imported"
                        + (f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "")
                        + " (import it with `ssaplan import indicators FILE`)",
                    )
                    for m, close in unknown.items()
                ],
            )
        if year is None:
            year = (
                self.indicators.best_year(indicator_measures, settings.window)
                if indicator_measures
                else None
            )
            if year is None:
                raise BadRequest("the framework has no indicator data: give the year (--year)")
        if not 1900 <= year <= 2100:
            raise Invalid("invalid year", [Detail(("year",), "must be 1900-2100")])
        return compute(fw, settings, self.gather(fw, settings, year))

    def gather(self, fw: Framework, settings: Settings, year: int) -> Inputs:
        """Read every input of a run from the database."""
        first = year - 1 - settings.window
        obs = self.indicators.observations(fw.measures_of("indicator"), first, year)
        judgment_rows = self._judgments(fw.measures_of("judgment"), first, year)
        money = self._money(year - settings.lookback, year)
        panel, chosen = _panel(fw, settings, year, obs, judgment_rows, money)
        previous, _ = _panel(fw, settings, year - 1, obs, judgment_rows, money)
        countries = panel.countries
        judgments: dict[str, dict[str, Any]] = {}
        for (iso3, measure), j in chosen.items():
            judgments.setdefault(iso3, {})[measure] = j
        tiers_set = self.policy.tiers()
        relevance_set = self.policy.relevance()
        importance_set = self.policy.importance()
        objectives = tuple(leaf_objectives(self.catalog))
        money_countries, fys, planned, _, _ = money
        row_of = {c: i for i, c in enumerate(money_countries)}
        fy_col = fys.index(year) if year in fys else None
        funding = np.array(
            [
                planned[row_of[c], fy_col] if c in row_of and fy_col is not None else 0.0
                for c in countries
            ]
        )
        return Inputs(
            year=year,
            panel=panel,
            previous=previous if previous.countries else None,
            funding=funding,
            tiers=np.array(
                [float(tiers_set[c]["tier"]) if c in tiers_set else np.nan for c in countries]
            ),
            relevance=np.array(
                [[float(relevance_set.get(c, {}).get(o, 0)) for o in objectives] for c in countries]
            ).reshape(len(countries), len(objectives)),
            objectives=objectives,
            importance=np.array([importance_set.get(o, 1.0) for o in objectives]),
            judgments=judgments,
            regions=self._regions(),
            names={c: self.catalog.countries[c].name for c in countries},
        )

    def _regions(self) -> dict[str, tuple[str, str, frozenset[str]]]:
        return {
            r.code: (r.name, r.kind, r.members)
            for r in self.catalog.regions.values()
            if r.kind in ROLLUP_KINDS
        }

    def _judgments(self, measures: Sequence[str], first: int, last: int) -> list[dict[str, Any]]:
        if not measures:
            return []
        rows = self.session.execute(
            select(Judgment)
            .where(Judgment.measure.in_(sorted(measures)), Judgment.year.between(first, last))
            .order_by(Judgment.id)
        ).scalars()
        # Run inputs are stored as JSON: the timestamp as ISO text.
        return [audit.jsonable(judgment_record(j)) for j in rows]

    def _money(
        self, first_fy: int, last_fy: int
    ) -> tuple[list[str], list[int], np.ndarray, np.ndarray, np.ndarray]:
        """Planned, obligated and disbursed dollars by country and fiscal year.

        From the portfolio's money by partner (``ssaplan.portfolio.money``): a program's
        money splits among its partners by their shares, to the dollar, so the countries'
        money adds up to the portfolio's. A regional partner's share (a region or
        organization as a whole) is not counted for any one country.
        """
        fys = list(range(first_fy, last_fy + 1))
        # Only the programs the reader may see: a hidden program's dollars are in no
        # funding figure or portfolio measure they get.
        visible = only_visible(
            ProgramFilter().program_ids(self.catalog), self.audience, self.catalog
        )
        rows = [
            r
            for r in partner_money(
                self.session, self.catalog, program_ids=visible, first_fy=first_fy, last_fy=last_fy
            )
            if r.kind == "country" and r.partner
        ]
        countries = sorted({r.partner for r in rows})
        row = {c: i for i, c in enumerate(countries)}
        shape = (len(countries), len(fys))
        planned, obligated, disbursed = np.zeros(shape), np.zeros(shape), np.zeros(shape)
        for r in rows:
            i, j = row[r.partner], r.fiscal_year - first_fy
            planned[i, j] += r.money.planned
            obligated[i, j] += r.money.obligated
            disbursed[i, j] += r.money.disbursed
        return countries, fys, planned, obligated, disbursed

    # -- saving and reading ------------------------------------------------------------
    def save(self, run: AssessmentRun, *, note: str = "") -> int:
        """Keep a run as a record; returns its id."""
        require(self.actor, "analysis:run")
        inputs = run.inputs
        settings = {
            **run.settings.as_dict(),
            "objectives": list(inputs.objectives),
            "importance": [float(v) for v in inputs.importance],
            # The audience whose programs the money came from: a reader who may not see
            # all of them cannot read the run (see readable()).
            "computed_for": audience_json(self.audience),
        }
        analyses_json = run.analyses_dict()
        analyses_json["funding"] = {
            c: float(v) for c, v in zip(inputs.countries, inputs.funding, strict=True) if v
        }
        record = Assessment(
            year=run.year,
            method=METHOD,
            framework_name=run.framework.name,
            framework_version=run.framework.version,
            framework_sha256=run.framework.sha256,
            framework_rows=[r.as_dict() for r in run.framework.rows],
            settings=settings,
            analyses=analyses_json,
            countries_assessed=int((run.propensity.rank > 0).sum()),
            note=note.strip(),
            created_by=self.actor.username,
        )
        panel = inputs.panel
        rows = {r["iso3"]: r for r in run.country_rows()}
        for i, iso3 in enumerate(inputs.countries):
            r = rows[iso3]
            used = {
                m: [float(panel.values[i, j]), int(panel.years[i, j]), str(panel.sources[i, j])]
                for j, m in enumerate(panel.measures)
                if math.isfinite(panel.values[i, j])
            }
            tier = inputs.tiers[i]
            record.countries.append(
                AssessmentCountry(
                    iso3=iso3,
                    propensity=r["propensity"],
                    priority=r["priority"],
                    completeness=r["completeness"],
                    flagged=r["flagged"],
                    rank=r["rank"],
                    rank_p05=r["rank_p05"],
                    rank_p95=r["rank_p95"],
                    p_top=r["p_top"],
                    quadrant=r["quadrant"],
                    constructs=r["constructs"],
                    inputs=used,
                    judgments=dict(inputs.judgments.get(iso3, {})),
                    policy={
                        "tier": int(tier) if math.isfinite(tier) else None,
                        "relevance": {
                            o: int(v)
                            for o, v in zip(inputs.objectives, inputs.relevance[i], strict=True)
                            if v
                        },
                    },
                )
            )
        self.session.add(record)
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "create",
                "assessment",
                str(record.id),
                None,
                {
                    "year": record.year,
                    "framework": run.framework.label,
                    "framework_sha256": record.framework_sha256,
                    "countries": record.countries_assessed,
                    "settings": settings,
                    "note": record.note,
                },
                summary=f"assessment {record.year}: {record.countries_assessed} countries",
            ),
        )
        return record.id

    def runs(
        self, *, year: int | None = None, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Saved assessments, newest first (their records only: countries are not loaded)."""
        require(self.actor, "read")
        ids = self._readable_ids(year)[offset : offset + limit]
        if not ids:
            return []
        stmt = (
            select(Assessment)
            .options(raiseload(Assessment.countries))
            .where(Assessment.id.in_(ids))
            .order_by(Assessment.id.desc())
        )
        return [_meta(a) for a in self.session.execute(stmt).scalars()]

    def count_runs(self, *, year: int | None = None) -> int:
        """How many saved assessments (of ``year``, if given) the reader may read."""
        require(self.actor, "read")
        return len(self._readable_ids(year))

    def latest_id(self, year: int | None = None) -> int | None:
        """The newest saved assessment the reader may read."""
        require(self.actor, "read")
        ids = self._readable_ids(year)
        return ids[0] if ids else None

    def readable(self, computed_for: Audience) -> bool:
        """Whether the reader may read a run computed for ``computed_for``: a run is
        one shared record, its funding figures and portfolio measures summed over the
        programs its runner could see; a reader who may not see one of those programs
        (one query per distinct audience) would read its dollars, so cannot read it."""
        if computed_for not in self._readable:
            self._readable[computed_for] = covers(
                self.session, self.catalog, self.audience, computed_for
            )
        return self._readable[computed_for]

    def _readable_ids(self, year: int | None = None) -> list[int]:
        """Ids of the saved runs (of ``year``) the reader may read, newest first."""
        stmt = select(Assessment.id, Assessment.settings).order_by(Assessment.id.desc())
        if year is not None:
            stmt = stmt.where(Assessment.year == year)
        rows = self.session.execute(stmt).all()
        return [pk for pk, settings in rows if self.readable(_audience_from(settings))]

    def _load(self, assessment_id: int) -> Assessment:
        """The saved run; one the reader may not read is unknown, like a missing id."""
        record = self.session.get(Assessment, assessment_id)
        if record is None or not self.readable(_audience_from(record.settings)):
            raise NotFound(f"no assessment {assessment_id}")
        return record

    def get(self, assessment_id: int) -> dict[str, Any]:
        """A saved assessment in the shape of ``ssaplan assess --json``, with its record."""
        require(self.actor, "read")
        a = self._load(assessment_id)
        funding = a.analyses.get("funding", {})
        countries = [
            {
                "iso3": c.iso3,
                "name": self.catalog.countries[c.iso3].name,
                "propensity": c.propensity,
                "priority": c.priority,
                "completeness": c.completeness,
                "flagged": c.flagged,
                "constructs": c.constructs,
                "rank": c.rank,
                "rank_p05": c.rank_p05,
                "rank_p95": c.rank_p95,
                "p_top": c.p_top,
                "quadrant": c.quadrant,
                "funding": funding.get(c.iso3, 0.0),
            }
            for c in a.countries
        ]
        countries.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["iso3"]))
        return {
            **_meta(a),
            "countries": countries,
            "analyses": a.analyses,
            "warnings": a.analyses.get("warnings", []),
        }

    def stored_inputs(self, a: Assessment) -> tuple[Framework, Settings, Inputs]:
        """The framework, settings and inputs a saved assessment kept."""
        fw = Framework(
            a.framework_name,
            a.framework_version,
            tuple(FrameworkRow(**r) for r in a.framework_rows),
        )
        known = set(Settings.__dataclass_fields__)
        settings = Settings(**{k: v for k, v in a.settings.items() if k in known})
        countries = tuple(c.iso3 for c in a.countries)
        measures = fw.measures
        col = {m: j for j, m in enumerate(measures)}
        panel = Panel.empty(countries, measures)
        values, years, sources = (
            np.array(panel.values),
            np.array(panel.years),
            np.array(panel.sources),
        )
        for i, c in enumerate(a.countries):
            for m, (value, year, source) in c.inputs.items():
                if m in col:
                    values[i, col[m]], years[i, col[m]], sources[i, col[m]] = value, year, source
        objectives = tuple(a.settings.get("objectives", []))
        funding = a.analyses.get("funding", {})
        inputs = Inputs(
            year=a.year,
            panel=Panel(countries, measures, values, years, sources),
            previous=None,
            funding=np.array([float(funding.get(c, 0.0)) for c in countries]),
            tiers=np.array(
                [
                    np.nan if c.policy.get("tier") is None else float(c.policy["tier"])
                    for c in a.countries
                ]
            ),
            relevance=np.array(
                [
                    [float(c.policy.get("relevance", {}).get(o, 0)) for o in objectives]
                    for c in a.countries
                ]
            ).reshape(len(countries), len(objectives)),
            objectives=objectives,
            importance=np.array(a.settings.get("importance", []), dtype=float),
            judgments={c.iso3: c.judgments for c in a.countries},
            regions=self._regions(),
            names={c: self.catalog.countries[c].name for c in countries},
        )
        return fw, settings, inputs

    def reproduce(self, assessment_id: int) -> dict[str, Any]:
        """Recompute a saved assessment from its stored inputs and compare every number."""
        require(self.actor, "analysis:run")
        a = self._load(assessment_id)
        fw, settings, inputs = self.stored_inputs(a)
        if fw.sha256 != a.framework_sha256:
            return {"identical": False, "differences": ["the stored framework rows were changed"]}
        again = {r["iso3"]: r for r in compute(fw, settings, inputs).country_rows()}
        differences = []
        for c in a.countries:
            r = again[c.iso3]
            for key in ("propensity", "priority", "completeness", "p_top"):
                stored, now = getattr(c, key), r[key]
                if (stored is None) != (now is None) or (
                    stored is not None and now is not None and abs(stored - now) > 1e-9
                ):
                    differences.append(f"{c.iso3} {key}: stored {stored}, recomputed {now}")
            for key in ("rank", "rank_p05", "rank_p95", "flagged", "constructs"):
                if getattr(c, key) != r[key]:
                    differences.append(
                        f"{c.iso3} {key}: stored {getattr(c, key)}, recomputed {r[key]}"
                    )
        return {
            "assessment": assessment_id,
            "identical": not differences,
            "countries": len(a.countries),
            "differences": differences[:50],
        }

    def country(self, assessment_id: int, code: str) -> dict[str, Any]:
        """One country in a saved assessment, explained down to each measure."""
        require(self.actor, "read")
        try:
            iso3 = self.catalog.resolve("country", code)
        except UnknownCode as exc:
            raise NotFound(str(exc)) from exc
        a = self._load(assessment_id)
        row = next((c for c in a.countries if c.iso3 == iso3), None)
        if row is None:
            raise NotFound(
                f"{self.catalog.countries[iso3].name} ({iso3}) has no data in assessment "
                f"{assessment_id} ({a.year})"
            )
        fw, settings, inputs = self.stored_inputs(a)
        scored = compute(fw, Settings(**{**settings.as_dict(), "draws": 0}), inputs).propensity
        detail = analyses.breakdown(scored, iso3)
        change = next((c for c in a.analyses.get("changes", []) if c["iso3"] == iso3), None)
        return {
            **detail,
            "assessment": _meta(a),
            "name": self.catalog.countries[iso3].name,
            "priority": row.priority,
            "rank_p05": row.rank_p05,
            "rank_p95": row.rank_p95,
            "p_top": row.p_top,
            "quadrant": row.quadrant,
            "policy": row.policy,
            "judgments": row.judgments,
            "funding": a.analyses.get("funding", {}).get(iso3, 0.0),
            "change": change,
            "scored_countries": a.countries_assessed,
        }


def latest_readable_id(session: Session, catalog: Catalog, audience: Audience) -> int | None:
    """The newest saved assessment ``audience`` may read (see
    :meth:`AssessmentService.readable`), for analyses that build on it (allocation)."""
    reader = AssessmentService(session, Actor("assessment-reader"), catalog, audience=audience)
    ids = reader._readable_ids()
    return ids[0] if ids else None


def _audience_from(settings: dict[str, Any] | None) -> Audience:
    """The audience a run was computed for (runs saved before markings: U.S. Government
    staff without a ceiling, who saw every program)."""
    return audience_from_json((settings or {}).get("computed_for"))


def _meta(a: Assessment) -> dict[str, Any]:
    label = (
        f"{a.framework_name}@{a.framework_version}"
        if a.framework_version is not None
        else f"{a.framework_name} (file)"
    )
    return {
        "id": a.id,
        "year": a.year,
        "framework": label,
        "framework_sha256": a.framework_sha256,
        "method": a.method,
        "settings": a.settings,
        "countries_assessed": a.countries_assessed,
        "note": a.note,
        "created_by": a.created_by,
        "created_at": a.created_at,
    }


def _panel(
    fw: Framework,
    settings: Settings,
    year: int,
    obs: Sequence[tuple[str, int, str, str, float, Any]],
    judgments: Sequence[dict[str, Any]],
    money: tuple[list[str], list[int], np.ndarray, np.ndarray, np.ndarray],
) -> tuple[Panel, dict[tuple[str, str], dict[str, Any]]]:
    """The panel for ``year``: every country with at least one value in the window.

    Returns the panel and, for each (country, judgment measure) used, the judgment.
    """
    first = year - settings.window
    countries_m, fys, planned, obligated, disbursed = money
    derived_values = derived.portfolio_measures(
        planned, obligated, disbursed, fys, year, lookback=settings.lookback
    )
    portfolio_source = f"portfolio FY{year - settings.lookback + 1}-FY{year}"
    measures = fw.measures
    col = {m: j for j, m in enumerate(measures)}
    # (iso3, measure, year, value, source, preference, judgment)
    cells: list[tuple[str, str, int, float, str, tuple[Any, int], dict[str, Any] | None]] = []
    for pos, (iso3, y, measure, source, value, imported_at) in enumerate(obs):
        if first <= y <= year:
            cells.append((iso3, measure, y, value, source, (imported_at, pos), None))
    for pos, j in enumerate(judgments):
        if first <= j["year"] <= year:
            cells.append(
                (
                    j["iso3"],
                    j["measure"],
                    j["year"],
                    j["value"],
                    f"assessor {j['assessed_by']}",
                    (j["assessed_at"], pos),
                    j,
                )
            )
    for measure, values in derived_values.items():
        if measure not in col:
            continue
        for iso3, v in zip(countries_m, values, strict=True):
            if math.isfinite(v):
                cells.append((iso3, measure, year, float(v), portfolio_source, ("", 0), None))
    countries = tuple(sorted({c[0] for c in cells}))
    if not cells:
        return Panel.empty((), measures), {}
    row = {c: i for i, c in enumerate(countries)}
    order = sorted(range(len(cells)), key=lambda k: (str(cells[k][5][0]), cells[k][5][1]))
    preference = np.empty(len(cells), dtype=np.int64)
    preference[order] = np.arange(len(cells))
    values, years, picked = latest_in_window(
        np.array([row[c[0]] for c in cells], dtype=np.int64),
        np.array([col[c[1]] for c in cells], dtype=np.int64),
        np.array([c[2] for c in cells], dtype=np.int64),
        np.array([c[3] for c in cells], dtype=float),
        shape=(len(countries), len(measures)),
        assess_year=year,
        window=settings.window,
        preference=preference,
    )
    sources = np.full(values.shape, "", dtype=object)
    chosen: dict[tuple[str, str], dict[str, Any]] = {}
    for i, j in zip(*np.nonzero(picked >= 0), strict=True):
        cell = cells[picked[i, j]]
        sources[i, j] = cell[4]
        if cell[6] is not None:
            chosen[(countries[i], measures[j])] = {
                k: cell[6][k] for k in ("value", "year", "rationale", "assessed_by", "assessed_at")
            }
    return Panel(countries, measures, values, years, sources), chosen
