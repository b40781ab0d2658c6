"""What the portfolio's pages share: the options of the filter and program forms (names
shown, codes sent), the money a program shows under a filter, history rows."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ssaplan.portfolio.engine import STATUS_ORDER
from ssaplan.portfolio.filters import ProgramFilter
from ssaplan.portfolio.schemas import ProgramPublic
from ssaplan.reference.catalog import get_catalog
from ssaplan.ui.money import dollars, money
from ssaplan.ui.names import name

Option = tuple[str, str]  # (value sent, text shown)
FISCAL_YEARS = range(2025, 2031)


@lru_cache(maxsize=1)
def options() -> dict[str, Any]:
    """Every select of the filter and program forms, as (code, name) pairs, by name."""
    c = get_catalog()

    def by_name(pairs: Any) -> list[Option]:
        return sorted(pairs, key=lambda kv: kv[1].casefold())

    regions: dict[str, list[Option]] = {}
    for label, kind in (
        ("Regional bureaus", "bureau"),
        ("Combatant commands", "combatant_command"),
        ("Regional organizations", "organization"),
        ("UN regions", "un_region"),
        ("UN sub-regions", "un_subregion"),
    ):
        regions[label] = by_name(
            (r.code, f"{r.name} ({r.code})" if r.code != r.name else r.name)
            for r in c.regions.values()
            if r.kind == kind
        )
    agencies: list[Option] = []
    for top in sorted((a for a in c.agencies.values() if not a.parent), key=lambda a: a.name):
        agencies.append((top.id, f"{top.name} ({top.id}, all)"))
        for sub in sorted(
            (a for a in c.agencies.values() if a.parent == top.id), key=lambda a: a.name
        ):
            agencies.append((sub.id, f"— {sub.name} ({sub.id})"))
    objectives: list[Option] = []
    for o in sorted(c.objectives.values(), key=lambda o: [int(x) for x in o.id[1:].split(".")]):
        objectives.append((o.id, f"{o.id} {o.name}" if o.goal else f"{o.id} {o.name} (whole goal)"))
    return {
        "region": regions,
        "country": by_name((k, v.name) for k, v in c.countries.items()),
        "agency": agencies,
        "account": by_name((a.id, f"{a.name} ({a.id})") for a in c.accounts.values()),
        "fiscal_year": [(str(y), f"FY{y}") for y in FISCAL_YEARS],
        "status": [(s, s) for s in STATUS_ORDER],
        "objective": objectives,
        "institution_type": by_name((t.id, t.name) for t in c.institution_types.values()),
        "purpose": [(t.id, t.name) for t in c.purposes.values()],
        "level": [(t.id, t.name) for t in c.levels.values()],
        "marking": [(m.id, m.name) for m in c.markings.values()],
        "dac_code": sorted(
            ((d.code, f"{d.code} {d.name}") for d in c.dac_codes.values() if d.active),
            key=lambda kv: kv[0],
        ),
    }


def resolved(flt: ProgramFilter) -> dict[str, str]:
    """The filter's values as the codes the selects use (a typed name selects its code)."""
    c = get_catalog()
    out: dict[str, str] = {}
    for field, kind in (
        ("country", "country"),
        ("region", "region"),
        ("agency", "agency"),
        ("account", "account"),
        ("objective", "objective"),
        ("institution_type", "institution_type"),
        ("purpose", "purpose"),
    ):
        value = getattr(flt, field)
        if value:
            out[field] = c.resolve(kind, value)  # type: ignore[arg-type]
    if flt.fiscal_year is not None:
        out["fiscal_year"] = str(flt.fiscal_year)
    if flt.status:
        out["status"] = flt.status.lower()
    if flt.q:
        out["q"] = flt.q
    return out


def shown_money(p: ProgramPublic, fy: int | None, account: str | None) -> dict[str, int]:
    """The money the list shows for a program: the lines a fiscal-year or account filter
    counts (the same the list is sorted by), else its whole life."""
    lines = [
        b
        for b in p.budget
        if (fy is None or b.fiscal_year == fy) and (account is None or b.account == account)
    ]
    return {
        "planned": sum(b.planned for b in lines),
        "obligated": sum(b.obligated for b in lines),
        "disbursed": sum(b.disbursed for b in lines),
    }


def describe_value(key: str, value: Any) -> str:
    """A snapshot value of the audit trail for people to read."""
    if value is None or value == "" or value == []:
        return "—"
    if key == "budget" and isinstance(value, list):
        planned = sum(int(b.get("planned") or 0) for b in value if isinstance(b, Mapping))
        return f"{len(value)} line(s), {money(planned)} planned"
    if key == "milestones" and isinstance(value, list):
        delivered = sum(1 for m in value if isinstance(m, Mapping) and m.get("delivered_on"))
        return f"{len(value)} deliver{'y' if len(value) == 1 else 'ies'}, {delivered} delivered"
    if key == "shares" and isinstance(value, Mapping):
        return ", ".join(f"{k} {int(v) / 100:g}%" for k, v in value.items())
    kinds = {
        "agency": "agency",
        "account": "account",
        "institution_type": "institution_type",
        "purpose": "purpose",
        "level": "level",
        "marking": "marking",
    }
    if key in kinds:
        return f"{name(value, kinds[key])} ({value})" if name(value, kinds[key]) != value else value
    if key in ("countries", "regions", "objectives", "accounts") and isinstance(value, list):
        kind = {"countries": "country", "regions": "region", "objectives": "objective"}.get(key)
        return ", ".join(name(v, kind) if kind else str(v) for v in value)
    return str(value)


def history_row(record: Any) -> dict[str, Any]:
    """An audit record with the fields that changed, described for people."""
    before, after = record.before or {}, record.after or {}
    changed = []
    for k in sorted(set(before) | set(after)):
        if k in ("version", "accounts"):
            continue
        if before.get(k) != after.get(k):
            changed.append((k, describe_value(k, before.get(k)), describe_value(k, after.get(k))))
    return {
        "at": record.at,
        "actor": record.actor,
        "action": record.action,
        "summary": record.summary,
        "version": after.get("version"),
        "changed": changed if record.action in ("update", "rename") else [],
    }


__all__ = ["describe_value", "dollars", "history_row", "options", "resolved", "shown_money"]
