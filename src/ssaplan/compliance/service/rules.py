"""The rules as data in the database: loaded from the shipped defaults on first use,
edited by admins, every edit checked against the whole rule set, versioned and audited.

Until the first write the shipped ``data/default_rules.toml`` is in force as it is (read
from the file, not stored); the first write of any compliance record stores it (one
audit record, ``load``), so admins' edits apply to a copy that a new release of the
defaults never overwrites.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import func, select

from ssaplan.compliance.models import ComplianceRule, Restriction, RestrictionType
from ssaplan.compliance.rules import (
    DEFAULT_RULES_PATH,
    Rule,
    RuleSet,
    check_rules_data,
    dump_rules,
    exception_as_data,
    load_rules,
    parse_rules,
    rule_as_data,
    type_as_data,
)
from ssaplan.compliance.rules import RestrictionType as TypeSpec
from ssaplan.compliance.schemas import (
    RestrictionTypeCreate,
    RestrictionTypePublic,
    RestrictionTypeUpdate,
    RuleCreate,
    RuleExceptionPublic,
    RulePublic,
    RulesImportPublic,
    RuleUpdate,
)
from ssaplan.compliance.service.common import SETTING_RULES, Context
from ssaplan.core.errors import Conflict, Detail, NotFound, StaleVersion
from ssaplan.core.models import AppSetting
from ssaplan.core.store import utcnow
from ssaplan.reference.catalog import Catalog, get_catalog

RULES_NAME = "the compliance rules"


@lru_cache(maxsize=1)
def shipped_rules() -> RuleSet:
    """The shipped default rules, checked against the reference catalog (read once)."""
    catalog = get_catalog()
    return load_rules(
        DEFAULT_RULES_PATH,
        known_accounts=catalog.accounts,
        known_purposes=catalog.purposes,
        known_dac_codes=catalog.dac_codes,
    )


def _check(data: dict[str, Any], catalog: Catalog, name: str = RULES_NAME) -> RuleSet:
    return check_rules_data(
        data,
        name=name,
        known_accounts=catalog.accounts,
        known_purposes=catalog.purposes,
        known_dac_codes=catalog.dac_codes,
    )


def _rule_data(row: ComplianceRule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "restriction_type": row.restriction_type,
        "summary": row.summary,
        "citation": row.citation,
        "blocks_accounts": list(row.blocks_accounts),
        "recipients": row.recipients,
        "waivable": row.waivable,
    }
    if row.blocks_purposes:
        out["blocks_purposes"] = list(row.blocks_purposes)
    if row.waiver:
        out["waiver"] = row.waiver
    if row.note:
        out["note"] = row.note
    if row.exceptions:
        out["exceptions"] = [dict(e) for e in row.exceptions]
    return out


def _type_data(row: RestrictionType) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.id, "name": row.name}
    if row.description:
        out["description"] = row.description
    return out


def _snapshot_rule(row: ComplianceRule) -> dict[str, Any]:
    return {**_rule_data(row), "position": row.position, "version": row.version}


class RuleService:
    """The rules in force, as one actor reads and (if an admin) changes them."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._ruleset: RuleSet | None = None

    # -- reads -----------------------------------------------------------------------
    def loaded(self) -> bool:
        """Whether the rules are stored (else the shipped defaults are in force as is)."""
        return self.ctx.session.get(AppSetting, SETTING_RULES) is not None

    def ruleset(self) -> RuleSet:
        """The rules in force, as the engine takes them."""
        if self._ruleset is None:
            if not self.loaded():
                self._ruleset = shipped_rules()
            else:
                self._ruleset = _check(self._stored_data(), self.ctx.catalog)
        return self._ruleset

    def _type_rows(self) -> list[RestrictionType]:
        return list(
            self.ctx.session.execute(
                select(RestrictionType).order_by(RestrictionType.position, RestrictionType.id)
            ).scalars()
        )

    def _rule_rows(self) -> list[ComplianceRule]:
        return list(
            self.ctx.session.execute(
                select(ComplianceRule).order_by(ComplianceRule.position, ComplianceRule.id)
            ).scalars()
        )

    def _stored_data(
        self,
        types: list[dict[str, Any]] | None = None,
        rules: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "restriction_type": types
            if types is not None
            else [_type_data(t) for t in self._type_rows()],
            "rule": rules if rules is not None else [_rule_data(r) for r in self._rule_rows()],
        }

    def list_rules(self) -> list[RulePublic]:
        self.ctx.require("read")
        if not self.loaded():
            ruleset = shipped_rules()
            return [self._public_spec(r, i, ruleset) for i, r in enumerate(ruleset.rules)]
        return [self._public(r) for r in self._rule_rows()]

    def get_rule(self, rule_id: str) -> RulePublic:
        self.ctx.require("read")
        if not self.loaded():
            ruleset = shipped_rules()
            for i, r in enumerate(ruleset.rules):
                if r.id == rule_id:
                    return self._public_spec(r, i, ruleset)
            raise NotFound(f"no compliance rule {rule_id!r}")
        return self._public(self._load_rule(rule_id))

    def list_types(self) -> list[RestrictionTypePublic]:
        self.ctx.require("read")
        ruleset = self.ruleset()
        if not self.loaded():
            return [
                RestrictionTypePublic(
                    id=t.id,
                    name=t.name,
                    description=t.description,
                    rules=[r.id for r in ruleset.for_type(t.id)],
                    version=1,
                )
                for t in ruleset.restriction_types.values()
            ]
        return [self._type_public(t, ruleset) for t in self._type_rows()]

    def get_type(self, type_id: str) -> RestrictionTypePublic:
        for t in self.list_types():
            if t.id == type_id:
                return t
        raise NotFound(f"no restriction type {type_id!r}")

    def export_toml(self) -> str:
        """The rules in force as a rules file (edit it with counsel, then import it)."""
        self.ctx.require("read")
        source = "the shipped defaults" if not self.loaded() else "the rules stored in ssaplan"
        return dump_rules(
            self.ruleset(),
            header=(
                f"Compliance rules exported from {source} on {self.ctx.today.isoformat()}.\n"
                "A STARTING POINT TO BE REVIEWED BY COUNSEL: see docs/compliance.md.\n"
                "Import the edited file with: ssaplan comply rules import FILE.toml"
            ),
        )

    # -- writes ----------------------------------------------------------------------
    def ensure_loaded(self) -> None:
        """Store the shipped defaults if the rules are not stored yet (the first write)."""
        if self.loaded():
            return
        ruleset = shipped_rules()
        now = utcnow()
        for i, t in enumerate(ruleset.restriction_types.values()):
            self.ctx.session.add(
                RestrictionType(
                    id=t.id,
                    name=t.name,
                    description=t.description,
                    position=i,
                    version=1,
                    updated_at=now,
                    updated_by=self.ctx.actor.username,
                )
            )
        self.ctx.session.flush()
        for i, r in enumerate(ruleset.rules):
            self.ctx.session.add(self._row_from_spec(r, i, now))
        self.ctx.session.add(
            AppSetting(key=SETTING_RULES, value=(ruleset.as_of or self.ctx.today).isoformat())
        )
        self.ctx.session.flush()
        self.ctx.audit(
            "load",
            "compliance_rules",
            "default",
            None,
            {
                "restriction_types": [type_as_data(t) for t in ruleset.restriction_types.values()],
                "rules": [rule_as_data(r) for r in ruleset.rules],
            },
            summary=f"the shipped default rules ({DEFAULT_RULES_PATH.name}, as of "
            f"{ruleset.as_of}) stored on first use",
        )
        self._ruleset = None

    def _row_from_spec(self, r: Rule, position: int, now: Any) -> ComplianceRule:
        return ComplianceRule(
            id=r.id,
            restriction_type=r.restriction_type,
            summary=r.summary,
            citation=r.citation,
            blocks_accounts=sorted(r.blocks_accounts),
            blocks_purposes=sorted(r.blocks_purposes),
            recipients=r.recipients,
            waivable=r.waivable,
            waiver=r.waiver,
            note=r.note,
            exceptions=[exception_as_data(e) for e in r.exceptions],
            position=position,
            version=1,
            updated_at=now,
            updated_by=self.ctx.actor.username,
        )

    def create_rule(self, data: RuleCreate) -> RulePublic:
        self.ctx.require("compliance:manage")
        self.ensure_loaded()
        if self.ctx.session.get(ComplianceRule, data.id) is not None:
            raise Conflict(
                f"compliance rule {data.id!r} already exists: change it with its version",
                [Detail(("body", "id"), "is taken")],
            )
        new = _rule_from_input(data.model_dump())
        rules = [_rule_data(r) for r in self._rule_rows()] + [new]
        spec = _check(self._stored_data(rules=rules), self.ctx.catalog).rule(data.id)
        position = (
            self.ctx.session.execute(select(func.max(ComplianceRule.position))).scalar() or 0
        ) + 1
        row = self._row_from_spec(spec, position, utcnow())
        self.ctx.session.add(row)
        self.ctx.session.flush()
        self.ctx.audit("create", "compliance_rule", row.id, None, _snapshot_rule(row))
        self._ruleset = None
        return self._public(row)

    def update_rule(self, rule_id: str, data: RuleUpdate) -> RulePublic:
        self.ctx.require("compliance:manage")
        self.ensure_loaded()
        row = self._load_rule(rule_id, lock=True)
        if data.version != row.version:
            raise StaleVersion(
                f"compliance rule {rule_id!r} was changed by someone else (you sent version "
                f"{data.version}, it is now at version {row.version}): reload and try again"
            )
        changes = data.model_dump(exclude_unset=True, exclude={"version"})
        current = _rule_data(row)
        merged = _rule_from_input({**current, **changes})
        rules = [merged if r.id == rule_id else _rule_data(r) for r in self._rule_rows()]
        ruleset = _check(self._stored_data(rules=rules), self.ctx.catalog)
        spec = ruleset.rule(rule_id)
        before = _snapshot_rule(row)
        fresh = self._row_from_spec(spec, row.position, row.updated_at)
        for column in (
            "restriction_type",
            "summary",
            "citation",
            "blocks_accounts",
            "blocks_purposes",
            "recipients",
            "waivable",
            "waiver",
            "note",
            "exceptions",
        ):
            setattr(row, column, getattr(fresh, column))
        after = _snapshot_rule(row)
        if {**after, "version": 0} == {**before, "version": 0}:
            return self._public(row)
        row.version += 1
        row.updated_at = utcnow()
        row.updated_by = self.ctx.actor.username
        self.ctx.session.flush()
        self.ctx.audit("update", "compliance_rule", row.id, before, _snapshot_rule(row))
        self._ruleset = None
        return self._public(row)

    def delete_rule(self, rule_id: str, version: int | None = None) -> None:
        self.ctx.require("compliance:manage")
        self.ensure_loaded()
        row = self._load_rule(rule_id, lock=True)
        if version is not None and version != row.version:
            raise StaleVersion(
                f"compliance rule {rule_id!r} is at version {row.version}, not {version}: "
                "reload and try again"
            )
        before = _snapshot_rule(row)
        self.ctx.session.delete(row)
        self.ctx.session.flush()
        self.ctx.audit(
            "delete",
            "compliance_rule",
            rule_id,
            before,
            None,
            summary=f"restrictions of type {before['restriction_type']} no longer blocked by it",
        )
        self._ruleset = None

    def create_type(self, data: RestrictionTypeCreate) -> RestrictionTypePublic:
        self.ctx.require("compliance:manage")
        self.ensure_loaded()
        if self.ctx.session.get(RestrictionType, data.id) is not None:
            raise Conflict(
                f"restriction type {data.id!r} already exists",
                [Detail(("body", "id"), "is taken")],
            )
        types = [_type_data(t) for t in self._type_rows()]
        new: dict[str, Any] = {"id": data.id, "name": data.name}
        if data.description:
            new["description"] = data.description
        types.append(new)
        _check(self._stored_data(types=types), self.ctx.catalog)
        position = (
            self.ctx.session.execute(select(func.max(RestrictionType.position))).scalar() or 0
        ) + 1
        row = RestrictionType(
            id=data.id,
            name=data.name,
            description=data.description,
            position=position,
            version=1,
            updated_at=utcnow(),
            updated_by=self.ctx.actor.username,
        )
        self.ctx.session.add(row)
        self.ctx.session.flush()
        self.ctx.audit(
            "create", "restriction_type", row.id, None, {**_type_data(row), "version": 1}
        )
        self._ruleset = None
        return self._type_public(row, self.ruleset())

    def update_type(self, type_id: str, data: RestrictionTypeUpdate) -> RestrictionTypePublic:
        self.ctx.require("compliance:manage")
        self.ensure_loaded()
        row = self._load_type(type_id)
        if data.version != row.version:
            raise StaleVersion(
                f"restriction type {type_id!r} was changed by someone else (you sent version "
                f"{data.version}, it is now at version {row.version}): reload and try again"
            )
        before = {**_type_data(row), "version": row.version}
        if data.name is not None:
            row.name = data.name
        if data.description is not None:
            row.description = data.description
        if {**_type_data(row), "version": row.version} != before:
            row.version += 1
            row.updated_at = utcnow()
            row.updated_by = self.ctx.actor.username
            self.ctx.session.flush()
            self.ctx.audit(
                "update",
                "restriction_type",
                row.id,
                before,
                {**_type_data(row), "version": row.version},
            )
        self._ruleset = None
        return self._type_public(row, self.ruleset())

    def delete_type(self, type_id: str, version: int | None = None) -> None:
        self.ctx.require("compliance:manage")
        self.ensure_loaded()
        row = self._load_type(type_id)
        if version is not None and version != row.version:
            raise StaleVersion(f"restriction type {type_id!r} is at version {row.version}")
        used = self.ctx.session.execute(
            select(func.count()).select_from(Restriction).where(Restriction.type == type_id)
        ).scalar_one()
        rules = [r.id for r in self._rule_rows() if r.restriction_type == type_id]
        if used or rules:
            raise Conflict(
                f"restriction type {type_id!r} is in use ({used} restrictions, rules "
                f"{', '.join(rules) or 'none'}): remove those first"
            )
        before = {**_type_data(row), "version": row.version}
        self.ctx.session.delete(row)
        self.ctx.session.flush()
        self.ctx.audit("delete", "restriction_type", type_id, before, None)
        self._ruleset = None

    def import_toml(self, text: str, *, name: str) -> RulesImportPublic:
        """Replace the rules with a rules file, all or nothing (checked like any edit).

        Rules and types keep their versions when unchanged; a changed one is a new
        version; those not in the file are deleted (a type still used by restrictions
        cannot be).
        """
        self.ctx.require("compliance:manage")
        catalog = self.ctx.catalog
        ruleset = parse_rules(
            text,
            name=name,
            known_accounts=catalog.accounts,
            known_purposes=catalog.purposes,
            known_dac_codes=catalog.dac_codes,
        )
        self.ensure_loaded()
        now = utcnow()
        type_rows = {t.id: t for t in self._type_rows()}
        for i, tspec in enumerate(ruleset.restriction_types.values()):
            self._apply_type(type_rows.get(tspec.id), tspec, i, now)
        rule_rows = {r.id: r for r in self._rule_rows()}
        created: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        for i, spec in enumerate(ruleset.rules):
            row = rule_rows.get(spec.id)
            if row is None:
                new = self._row_from_spec(spec, i, now)
                self.ctx.session.add(new)
                self.ctx.session.flush()
                self.ctx.audit(
                    "create", "compliance_rule", spec.id, None, _snapshot_rule(new), summary=name
                )
                created.append(spec.id)
                continue
            before = _snapshot_rule(row)
            fresh = self._row_from_spec(spec, i, now)
            for column in (
                "restriction_type",
                "summary",
                "citation",
                "blocks_accounts",
                "blocks_purposes",
                "recipients",
                "waivable",
                "waiver",
                "note",
                "exceptions",
                "position",
            ):
                setattr(row, column, getattr(fresh, column))
            if {**_snapshot_rule(row), "version": 0} == {**before, "version": 0}:
                unchanged.append(spec.id)
                continue
            row.version += 1
            row.updated_at = now
            row.updated_by = self.ctx.actor.username
            self.ctx.session.flush()
            self.ctx.audit(
                "update", "compliance_rule", spec.id, before, _snapshot_rule(row), summary=name
            )
            updated.append(spec.id)
        deleted = sorted(set(rule_rows) - {r.id for r in ruleset.rules})
        for rule_id in deleted:
            row = rule_rows[rule_id]
            before = _snapshot_rule(row)
            self.ctx.session.delete(row)
            self.ctx.session.flush()
            self.ctx.audit("delete", "compliance_rule", rule_id, before, None, summary=name)
        for type_id in sorted(set(type_rows) - set(ruleset.restriction_types)):
            used = self.ctx.session.execute(
                select(func.count()).select_from(Restriction).where(Restriction.type == type_id)
            ).scalar_one()
            if used:
                raise Conflict(
                    f"{name}: restriction type {type_id!r} is missing from the file but "
                    f"{used} stored restrictions use it; nothing was imported",
                    [Detail((name, "restriction_type"), f"{type_id} is still in use")],
                )
            trow = type_rows[type_id]
            self.ctx.audit(
                "delete",
                "restriction_type",
                type_id,
                {**_type_data(trow), "version": trow.version},
                None,
                summary=name,
            )
            self.ctx.session.delete(trow)
            self.ctx.session.flush()
        self._ruleset = None
        return RulesImportPublic(
            file=name, created=created, updated=updated, unchanged=unchanged, deleted=deleted
        )

    def _apply_type(
        self, row: RestrictionType | None, spec: TypeSpec, position: int, now: Any
    ) -> None:
        if row is None:
            row = RestrictionType(
                id=spec.id,
                name=spec.name,
                description=spec.description,
                position=position,
                version=1,
                updated_at=now,
                updated_by=self.ctx.actor.username,
            )
            self.ctx.session.add(row)
            self.ctx.session.flush()
            self.ctx.audit("create", "restriction_type", spec.id, None, type_as_data(spec))
            return
        before = (row.name, row.description, row.position)
        row.name, row.description, row.position = spec.name, spec.description, position
        if (row.name, row.description, row.position) != before:
            row.version += 1
            row.updated_at = now
            row.updated_by = self.ctx.actor.username
            self.ctx.session.flush()
            self.ctx.audit(
                "update",
                "restriction_type",
                spec.id,
                {"name": before[0], "description": before[1]},
                type_as_data(spec),
            )

    # -- internals -------------------------------------------------------------------
    def _load_rule(self, rule_id: str, lock: bool = False) -> ComplianceRule:
        stmt = select(ComplianceRule).where(ComplianceRule.id == rule_id)
        if lock:
            stmt = stmt.with_for_update()
        row = self.ctx.session.execute(stmt).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no compliance rule {rule_id!r}")
        return row

    def _load_type(self, type_id: str) -> RestrictionType:
        row = self.ctx.session.get(RestrictionType, type_id)
        if row is None:
            raise NotFound(f"no restriction type {type_id!r}")
        return row

    def _type_name(self, type_id: str) -> str:
        t = self.ruleset().restriction_types.get(type_id)
        return t.name if t is not None else type_id

    def _public(self, row: ComplianceRule) -> RulePublic:
        return RulePublic(
            id=row.id,
            restriction_type=row.restriction_type,
            restriction_type_name=self._type_name(row.restriction_type),
            summary=row.summary,
            citation=row.citation,
            blocks_accounts=list(row.blocks_accounts),
            blocks_purposes=list(row.blocks_purposes or []),
            recipients=row.recipients,
            waivable=row.waivable,
            waiver=row.waiver,
            note=row.note,
            exceptions=[_exception_public(e) for e in row.exceptions or []],
            position=row.position,
            version=row.version,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )

    def _public_spec(self, r: Rule, position: int, ruleset: RuleSet) -> RulePublic:
        t = ruleset.restriction_types.get(r.restriction_type)
        return RulePublic(
            id=r.id,
            restriction_type=r.restriction_type,
            restriction_type_name=t.name if t else r.restriction_type,
            summary=r.summary,
            citation=r.citation,
            blocks_accounts=sorted(r.blocks_accounts),
            blocks_purposes=sorted(r.blocks_purposes),
            recipients=r.recipients,
            waivable=r.waivable,
            waiver=r.waiver,
            note=r.note,
            exceptions=[_exception_public(exception_as_data(e)) for e in r.exceptions],
            position=position,
            version=1,
            updated_at=None,
            updated_by="",
        )

    def _type_public(self, row: RestrictionType, ruleset: RuleSet) -> RestrictionTypePublic:
        return RestrictionTypePublic(
            id=row.id,
            name=row.name,
            description=row.description,
            rules=[r.id for r in ruleset.for_type(row.id)],
            version=row.version,
        )


def _exception_public(data: dict[str, Any]) -> RuleExceptionPublic:
    return RuleExceptionPublic(
        id=data["id"],
        summary=data["summary"],
        citation=data["citation"],
        dac_codes=list(data.get("dac_codes", [])),
        flags=list(data.get("flags", [])),
        accounts=list(data.get("accounts", [])),
    )


def _rule_from_input(data: dict[str, Any]) -> dict[str, Any]:
    """An API rule (create or merged update) as the table a ``[[rule]]`` holds."""
    out = {k: v for k, v in data.items() if k not in ("version",)}
    for key in ("waiver", "note"):
        if key in out and not out[key]:
            del out[key]
    if "blocks_purposes" in out and not out["blocks_purposes"]:
        del out["blocks_purposes"]
    if "exceptions" in out:
        exceptions = []
        for e in out["exceptions"]:
            item = {k: v for k, v in dict(e).items() if v not in ([], "", None)}
            exceptions.append(item)
        if exceptions:
            out["exceptions"] = exceptions
        else:
            del out["exceptions"]
    if not out.get("waivable"):
        out.pop("waiver", None)
    return out


__all__ = ["RuleService", "shipped_rules"]
