"""Policy inputs of assessments: frameworks, priority tiers, objective relevance and
importance, and assessor judgments.

Frameworks and priorities are policy decisions: only admins (``assessment:policy``)
change them. Judgments are assessments: analysts (``analysis:run``) enter them, each
with a written rationale. Every change is audited with its before and after.

Each input has a version, as programs do: a country's tier, a country's relevance (set
as a whole), the objective importance (set as a whole), each judgment, and each
framework name (its latest saved version; 0 for the shipped default). A change may name
the version it was based on; if the input has changed since, :class:`StaleVersion`
(409) is raised and nothing changes. A change that changes nothing keeps the version.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ssaplan.assessment import framework as fwmod
from ssaplan.assessment.framework import Framework, FrameworkRow, measure_kind
from ssaplan.assessment.models import (
    FrameworkMeasure,
    FrameworkVersion,
    Judgment,
    ObjectiveImportance,
    ObjectiveImportanceSet,
    ObjectiveRelevance,
    ObjectiveRelevanceSet,
    PriorityTier,
)
from ssaplan.core import audit
from ssaplan.core.errors import Detail, Invalid, NotFound, StaleVersion
from ssaplan.core.permissions import Actor, require
from ssaplan.core.store import utcnow
from ssaplan.reference.catalog import Catalog, UnknownCode, get_catalog

IMPORTANCE_PATH = Path(__file__).parent / "data" / "objective_importance.csv"
FRAMEWORK_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
TIERS = (1, 2, 3, 4)
MAX_RELEVANCE = 3
JUDGMENT_RANGE = (0.0, 10.0)
MIN_RATIONALE = 10
MIN_YEAR, MAX_YEAR = 1900, 2100


def shipped_importance() -> dict[str, float]:
    """Objective importance as shipped (every objective 1: equal until policy says)."""
    with IMPORTANCE_PATH.open(encoding="utf-8", newline="") as fh:
        return {r["objective"]: float(r["importance"]) for r in csv.DictReader(fh)}


def leaf_objectives(catalog: Catalog) -> list[str]:
    """Objectives of the goal tree (G1.1 ... G4.3), without the goals themselves."""
    return [o.id for o in catalog.objectives.values() if o.goal]


def check_version(what: str, sent: int | None, current: int) -> None:
    """Refuse a change based on ``sent`` when ``what`` is now at ``current`` (None: no check)."""
    if sent is not None and sent != current:
        raise StaleVersion(
            f"{what} was changed by someone else (you sent version {sent}, it is now at "
            f"version {current}): reload and try again"
        )


class PolicyService:
    """Frameworks, priorities and judgments as one actor reads and changes them."""

    def __init__(self, session: Session, actor: Actor, catalog: Catalog | None = None) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()

    def country(
        self, code: str, loc: tuple[str | int, ...] = ("country",), *, in_url: bool = False
    ) -> str:
        """The ISO3 code of ``code``; if unknown, :class:`Invalid` naming close matches
        (:class:`NotFound` when the country names the thing read, ``in_url``)."""
        try:
            return self.catalog.resolve("country", code)
        except UnknownCode as exc:
            if in_url:
                raise NotFound(str(exc)) from exc
            raise Invalid("unknown country", [Detail(loc, str(exc))]) from exc

    # -- frameworks -----------------------------------------------------------------
    def framework_spec(self, spec: str) -> Framework:
        """A stored framework named ``name`` (latest version) or ``name@version``."""
        name, at, version = spec.strip().partition("@")
        if at and not version.isdigit():
            raise Invalid(
                "invalid framework",
                [Detail(("framework",), f"{spec!r}: use NAME or NAME@VERSION, e.g. default@2")],
            )
        return self.framework(name, int(version) if at else None)

    def framework(self, name: str = fwmod.DEFAULT_NAME, version: int | None = None) -> Framework:
        """A stored framework version (the latest by default); version 0 of ``default``
        is the shipped one, used while no version has been saved."""
        require(self.actor, "read")
        stmt = select(FrameworkVersion).where(FrameworkVersion.name == name)
        if version is not None:
            stmt = stmt.where(FrameworkVersion.version == version)
        row = self.session.execute(
            stmt.order_by(FrameworkVersion.version.desc()).limit(1)
        ).scalar_one_or_none()
        if row is not None:
            return _to_framework(row)
        if name == fwmod.DEFAULT_NAME and version in (None, 0):
            return fwmod.load_shipped()
        which = f"{name}@{version}" if version is not None else name
        raise NotFound(f"no framework {which!r}")

    def frameworks(self) -> list[dict[str, Any]]:
        """Every stored framework version, plus the shipped default."""
        require(self.actor, "read")
        shipped = fwmod.load_shipped()
        out = [
            {
                "name": shipped.name,
                "version": 0,
                "label": f"{shipped.label} (shipped)",
                "sha256": shipped.sha256,
                "measures": len(shipped.rows),
                "constructs": len(shipped.constructs),
                "created_by": "ssaplan",
                "created_at": None,
                "description": "the default framework shipped with ssaplan",
            }
        ]
        rows = self.session.execute(
            select(FrameworkVersion).order_by(FrameworkVersion.name, FrameworkVersion.version)
        ).scalars()
        for row in rows:
            fw = _to_framework(row)
            out.append(
                {
                    "name": row.name,
                    "version": row.version,
                    "label": fw.label,
                    "sha256": row.sha256,
                    "measures": len(fw.rows),
                    "constructs": len(fw.constructs),
                    "created_by": row.created_by,
                    "created_at": row.created_at,
                    "description": row.description,
                }
            )
        return out

    def save_framework(
        self, fw: Framework, *, description: str = "", base_version: int | None = None
    ) -> Framework:
        """Store ``fw`` as the next version of its name (admins only). Saving the same
        content as the latest version changes nothing and returns that version.

        ``base_version`` is the version the change was based on: if the latest stored
        version is another (0 when none is stored), :class:`StaleVersion` is raised."""
        require(self.actor, "assessment:policy")
        if not FRAMEWORK_NAME.match(fw.name):
            raise Invalid(
                "invalid framework name",
                [Detail(("name",), "use 1-100 lowercase letters, digits, '.', '_' or '-'")],
            )
        latest = self.session.execute(
            select(FrameworkVersion)
            .where(FrameworkVersion.name == fw.name)
            .order_by(FrameworkVersion.version.desc())
            .limit(1)
            .with_for_update()
        ).scalar_one_or_none()
        check_version(
            f"framework {fw.name!r}", base_version, latest.version if latest is not None else 0
        )
        if latest is not None and latest.sha256 == fw.sha256:
            return _to_framework(latest)
        version = (latest.version if latest is not None else 0) + 1
        row = FrameworkVersion(
            name=fw.name,
            version=version,
            description=description,
            sha256=fw.sha256,
            created_by=self.actor.username,
            created_at=utcnow(),
            rows=[
                FrameworkMeasure(
                    position=i,
                    measure=r.measure,
                    construct=r.construct,
                    direction=r.direction,
                    measure_weight=r.measure_weight,
                    construct_weight=r.construct_weight,
                )
                for i, r in enumerate(fw.rows)
            ],
        )
        self.session.add(row)
        self.session.flush()
        saved = _to_framework(row)
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "create",
                "assessment_framework",
                saved.label,
                None,
                {"description": description, **saved.as_dict()},
            ),
        )
        return saved

    # -- priorities -----------------------------------------------------------------
    def importance(self) -> dict[str, float]:
        """Importance of each objective: the stored value, else the shipped default."""
        out = {o: shipped_importance().get(o, 1.0) for o in leaf_objectives(self.catalog)}
        for oid, value in self.session.execute(
            select(ObjectiveImportance.objective_id, ObjectiveImportance.importance)
        ):
            out[oid] = value
        return out

    def importance_version(self) -> int:
        """The version of the objective importance set (0: never changed from the shipped)."""
        row = self.session.get(ObjectiveImportanceSet, 1)
        return row.version if row is not None else 0

    def set_importance(
        self, values: Mapping[str, float], *, version: int | None = None
    ) -> dict[str, float]:
        """Set the importance of objectives (admins only); returns all importances.

        ``version``: the version of the importance set the change was based on."""
        require(self.actor, "assessment:policy")
        problems: list[Detail] = []
        clean: dict[str, float] = {}
        leaves = set(leaf_objectives(self.catalog))
        for key, value in values.items():
            oid = self._objective(key, ("body", key), problems, leaves)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                problems.append(Detail(("body", key), "importance must be a number >= 0"))
            elif oid:
                clean[oid] = float(value)
        before = self.importance()
        after = {**before, **clean}
        if not problems and not any(v > 0 for v in after.values()):
            problems.append(Detail(("body",), "at least one objective must have importance > 0"))
        if problems:
            raise Invalid("invalid objective importance", problems)
        current = self.session.execute(
            select(ObjectiveImportanceSet).where(ObjectiveImportanceSet.id == 1).with_for_update()
        ).scalar_one_or_none()
        check_version("objective importance", version, current.version if current else 0)
        if after == before:
            return after
        if current is None:
            self.session.add(ObjectiveImportanceSet(id=1, version=1, set_by=self.actor.username))
        else:
            current.version += 1
            current.set_by, current.set_at = self.actor.username, utcnow()
        for oid, value in clean.items():
            row = self.session.get(ObjectiveImportance, oid)
            if row is None:
                self.session.add(
                    ObjectiveImportance(
                        objective_id=oid, importance=value, set_by=self.actor.username
                    )
                )
            else:
                row.importance, row.set_by, row.set_at = value, self.actor.username, utcnow()
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username, "update", "objective_importance", "all", before, after
            ),
        )
        return after

    def _objective(
        self, key: str, loc: tuple[str | int, ...], problems: list[Detail], leaves: set[str]
    ) -> str | None:
        try:
            oid = self.catalog.resolve("objective", key)
        except UnknownCode as exc:
            problems.append(Detail(loc, str(exc)))
            return None
        if oid not in leaves:
            problems.append(Detail(loc, f"{oid} is a goal; give its objectives (e.g. {oid}.1)"))
            return None
        return oid

    def tiers(self) -> dict[str, dict[str, Any]]:
        """The countries' tiers as set (cleared ones are left out), with their versions."""
        rows = self.session.execute(
            select(PriorityTier).where(PriorityTier.tier.is_not(None)).order_by(PriorityTier.iso3)
        ).scalars()
        return {
            r.iso3: {
                "tier": r.tier,
                "rationale": r.rationale,
                "set_by": r.set_by,
                "set_at": r.set_at,
                "version": r.version,
            }
            for r in rows
        }

    def tier(self, iso3: str) -> dict[str, Any] | None:
        """A country's tier and its rationale (None: no tier)."""
        row = self.session.get(PriorityTier, iso3)
        if row is None or row.tier is None:
            return None
        return {"tier": row.tier, "rationale": row.rationale}

    def tier_version(self, iso3: str) -> int:
        """The version of a country's tier (0: never set)."""
        row = self.session.get(PriorityTier, iso3)
        return row.version if row is not None else 0

    def set_tier(
        self, code: str, tier: int | None, rationale: str = "", *, version: int | None = None
    ) -> dict[str, Any] | None:
        """Set (or, with None, clear) a country's priority tier (admins only).

        ``version``: the version of the country's tier the change was based on."""
        require(self.actor, "assessment:policy")
        iso3 = self.country(code)
        if tier is not None and tier not in TIERS:
            raise Invalid("invalid tier", [Detail(("tier",), "must be 1 (highest) to 4 (lowest)")])
        row = self.session.execute(
            select(PriorityTier).where(PriorityTier.iso3 == iso3).with_for_update()
        ).scalar_one_or_none()
        check_version(f"the priority tier of {iso3}", version, row.version if row else 0)
        before = (
            {"tier": row.tier, "rationale": row.rationale}
            if row is not None and row.tier is not None
            else None
        )
        after = {"tier": tier, "rationale": rationale} if tier is not None else None
        if before == after:
            return after
        if row is None:
            row = PriorityTier(
                iso3=iso3, tier=tier, rationale=rationale, set_by=self.actor.username, version=1
            )
            self.session.add(row)
        else:
            # A cleared tier keeps its row (tier null) so that its version keeps counting.
            row.tier, row.rationale = tier, rationale
            row.set_by, row.set_at = self.actor.username, utcnow()
            row.version += 1
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(self.actor.username, "update", "priority_tier", iso3, before, after),
        )
        return after

    def relevance(self, iso3: str | None = None) -> dict[str, dict[str, int]]:
        stmt = select(ObjectiveRelevance)
        if iso3 is not None:
            stmt = stmt.where(ObjectiveRelevance.iso3 == iso3)
        out: dict[str, dict[str, int]] = {}
        for r in self.session.execute(stmt).scalars():
            out.setdefault(r.iso3, {})[r.objective_id] = r.relevance
        return out

    def relevance_version(self, iso3: str) -> int:
        """The version of a country's relevance set (0: never set)."""
        row = self.session.get(ObjectiveRelevanceSet, iso3)
        return row.version if row is not None else 0

    def versions(self) -> dict[str, Any]:
        """Every policy input's current version: ``tiers`` and ``relevance`` by country
        (cleared tiers and emptied relevance too), ``importance``."""
        tiers = select(PriorityTier.iso3, PriorityTier.version).order_by(PriorityTier.iso3)
        relevance = select(ObjectiveRelevanceSet.iso3, ObjectiveRelevanceSet.version).order_by(
            ObjectiveRelevanceSet.iso3
        )
        return {
            "tiers": {iso3: v for iso3, v in self.session.execute(tiers)},
            "relevance": {iso3: v for iso3, v in self.session.execute(relevance)},
            "importance": self.importance_version(),
        }

    def set_relevance(
        self, code: str, values: Mapping[str, int], *, version: int | None = None
    ) -> dict[str, int]:
        """Replace a country's relevance to the objectives (0-3; absent means 0).

        ``version``: the version of the country's relevance the change was based on."""
        require(self.actor, "assessment:policy")
        iso3 = self.country(code)
        problems: list[Detail] = []
        clean: dict[str, int] = {}
        leaves = set(leaf_objectives(self.catalog))
        for key, value in values.items():
            oid = self._objective(key, ("body", key), problems, leaves)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3:
                problems.append(Detail(("body", key), "relevance must be 0, 1, 2 or 3"))
            elif oid and value > 0:
                clean[oid] = value
        if problems:
            raise Invalid("invalid relevance", problems)
        current = self.session.execute(
            select(ObjectiveRelevanceSet)
            .where(ObjectiveRelevanceSet.iso3 == iso3)
            .with_for_update()
        ).scalar_one_or_none()
        check_version(f"the relevance of {iso3}", version, current.version if current else 0)
        before = self.relevance(iso3).get(iso3, {})
        if before == clean:
            return clean
        if current is None:
            self.session.add(
                ObjectiveRelevanceSet(iso3=iso3, version=1, set_by=self.actor.username)
            )
        else:
            current.version += 1
            current.set_by, current.set_at = self.actor.username, utcnow()
        self.session.execute(delete(ObjectiveRelevance).where(ObjectiveRelevance.iso3 == iso3))
        for oid, value in sorted(clean.items()):
            self.session.add(
                ObjectiveRelevance(
                    iso3=iso3, objective_id=oid, relevance=value, set_by=self.actor.username
                )
            )
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(self.actor.username, "update", "objective_relevance", iso3, before, clean),
        )
        return clean

    # -- judgments ------------------------------------------------------------------
    def set_judgment(
        self,
        code: str,
        year: int,
        measure: str,
        value: float,
        rationale: str,
        *,
        version: int | None = None,
    ) -> dict[str, Any]:
        """Record an assessor's judgment (analysts and admins), with its rationale.

        ``version``: the version of the judgment the change was based on (0: none yet)."""
        require(self.actor, "analysis:run")
        iso3 = self.country(code)
        measure = " ".join(measure.split())
        problems: list[Detail] = []
        if measure_kind(measure) != "judgment":
            problems.append(Detail(("measure",), "judgment measures are named 'judgment: ...'"))
        if len(measure) > 200:
            problems.append(Detail(("measure",), "is longer than 200 characters"))
        if not MIN_YEAR <= year <= MAX_YEAR:
            problems.append(Detail(("year",), f"must be {MIN_YEAR}-{MAX_YEAR}"))
        low, high = JUDGMENT_RANGE
        if not math.isfinite(value) or not low <= value <= high:
            problems.append(
                Detail(("value",), f"must be {low:g} (weakest) to {high:g} (strongest)")
            )
        if len(rationale.strip()) < MIN_RATIONALE:
            problems.append(
                Detail(("rationale",), f"write the reasons (at least {MIN_RATIONALE} characters)")
            )
        if problems:
            raise Invalid("invalid judgment", problems)
        row = self.session.execute(
            select(Judgment)
            .where(Judgment.iso3 == iso3, Judgment.year == year, Judgment.measure == measure)
            .with_for_update()
        ).scalar_one_or_none()
        check_version(
            f"the judgment {measure!r} of {iso3} in {year}", version, row.version if row else 0
        )
        before = judgment_record(row) if row is not None else None
        if row is None:
            row = Judgment(iso3=iso3, year=year, measure=measure, version=1)
            self.session.add(row)
        else:
            row.version += 1
        row.value, row.rationale = float(value), rationale.strip()
        row.assessed_by, row.assessed_at = self.actor.username, utcnow()
        self.session.flush()
        after = judgment_record(row)
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "create" if before is None else "update",
                "assessment_judgment",
                f"{iso3}/{year}/{measure}",
                before,
                after,
            ),
        )
        return after

    def judgments(
        self,
        code: str | None = None,
        *,
        first_year: int | None = None,
        last_year: int | None = None,
        measures: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        require(self.actor, "read")
        stmt = select(Judgment).order_by(Judgment.iso3, Judgment.measure, Judgment.year)
        if code is not None:
            stmt = stmt.where(Judgment.iso3 == self.country(code))
        if first_year is not None:
            stmt = stmt.where(Judgment.year >= first_year)
        if last_year is not None:
            stmt = stmt.where(Judgment.year <= last_year)
        if measures is not None:
            stmt = stmt.where(Judgment.measure.in_(sorted(set(measures))))
        return [judgment_record(j) for j in self.session.execute(stmt).scalars()]

    def counts(self) -> dict[str, int]:
        """How many policy inputs are set (for pages that explain an empty priority)."""
        return {
            "tiers": self.session.execute(
                select(func.count()).select_from(PriorityTier).where(PriorityTier.tier.is_not(None))
            ).scalar_one(),
            "judgments": self.session.execute(
                select(func.count()).select_from(Judgment)
            ).scalar_one(),
        }


def judgment_record(j: Judgment) -> dict[str, Any]:
    """An assessor judgment as plain values (for the API, the audit trail and run inputs)."""
    return {
        "iso3": j.iso3,
        "year": j.year,
        "measure": j.measure,
        "value": j.value,
        "rationale": j.rationale,
        "assessed_by": j.assessed_by,
        "assessed_at": j.assessed_at,
        "version": j.version,
    }


def _to_framework(row: FrameworkVersion) -> Framework:
    return Framework(
        row.name,
        row.version,
        tuple(
            FrameworkRow(r.measure, r.construct, r.direction, r.measure_weight, r.construct_weight)
            for r in row.rows
        ),
    )
