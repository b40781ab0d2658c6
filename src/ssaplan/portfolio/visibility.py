"""Markings and releasability: which programs a reader or an export's audience may see.

Every program carries a **marking** (``U`` < ``SBU`` < ``CUI``, ordered by the catalog's
``rank``) and an optional **releasable-to** list of partner countries (ISO3) and
organizations (``NATO``, ``EU``, ...). A reader is described by a :class:`View`:

- ``us``: U.S. Government staff. They see every program up to their ceiling; the
  releasable-to list does not limit them (it limits *foreign* disclosure).
- ``public``: the public (IATI, published briefs). Only programs under a releasable
  marking (``U``) and without a releasable-to list (a list limits dissemination to the
  partners named).
- ``foreign``: a partner or donor liaison reading for ``audience`` (``GBR``, ``KEN``,
  ``NATO``). They see what the public sees, plus programs whose list names their
  audience or an organization their country belongs to (``REL TO NATO`` reaches the
  United Kingdom), up to their ceiling.

A program a view does not show is **withheld** for one of two reasons, counted apart:
``above_ceiling`` (its marking ranks above the reader's ceiling) or ``not_releasable``
(it is not releasable to the reader's audience). An :class:`Audience` is one or more
views that must all show a program: an export for ``public`` requested by a reader
cleared to SBU shows what both show, so nobody exports more than they may read.

:func:`visible_clause` is the one query filter; :class:`~ssaplan.portfolio.service.
PortfolioService` applies it to every read, list and roll-up it serves, and
:func:`verdict` is the same rule in Python (for pages and tests).

The rule is not only for programs. Any record that carries its own marking (a mapped
class with the :class:`~ssaplan.reference.models.Marked` columns ``marking`` and
``releasable_to``: a vetting request, an evaluation, a strategy, a donor's activity)
passes it as ``marked=`` to :func:`visible_clause`, :func:`only_visible` and
:func:`withheld`; ``Program`` is the default.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy import Select, and_, case, false, func, not_, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ssaplan.core.errors import Detail, Invalid
from ssaplan.core.permissions import Actor
from ssaplan.portfolio.models import Program
from ssaplan.reference.catalog import Catalog, UnknownCode
from ssaplan.reference.models import Marked

_Stmt = TypeVar("_Stmt", bound="Select[*tuple[Any, ...]]")
ViewKind = Literal["us", "public", "foreign"]
Reason = Literal["above_ceiling", "not_releasable"]
REASONS: tuple[Reason, ...] = ("above_ceiling", "not_releasable")
PUBLIC = "public"
US_GOVERNMENT = "us-government"
MAX_RELEASABLE_TO = 40  # codes on one program's list: a handful in practice
SEP = ";"


@dataclass(frozen=True)
class View:
    """One reader's limits: a marking ceiling (a rank; ``None`` for every marking) and
    whom they read for (``kind``; ``codes`` the audience and the organizations it
    belongs to, for ``foreign``)."""

    kind: ViewKind = "us"
    ceiling: int | None = None
    codes: frozenset[str] = frozenset()
    label: str = US_GOVERNMENT


@dataclass(frozen=True)
class Audience:
    """Who will see a result: every view must show a program for it to be shown."""

    views: tuple[View, ...] = (View(),)

    @property
    def label(self) -> str:
        """The audience as people name it (the most restrictive view's name)."""
        for kind in ("public", "foreign"):
            for v in self.views:
                if v.kind == kind:
                    return v.label
        return self.views[-1].label if self.views else US_GOVERNMENT

    @property
    def unrestricted(self) -> bool:
        return all(v.kind == "us" and v.ceiling is None for v in self.views)

    def narrowed(self, other: Audience) -> Audience:
        return Audience(self.views + other.views)


# -- the releasable-to list as stored ---------------------------------------------------
def encode(codes: Iterable[str]) -> str:
    """``["NATO", "GBR"]`` as stored: ``";GBR;NATO;"`` ("" for none), so one LIKE finds
    a code without matching part of another."""
    items = sorted(set(codes))
    return f"{SEP}{SEP.join(items)}{SEP}" if items else ""


def decode(stored: str | None) -> list[str]:
    return [c for c in (stored or "").split(SEP) if c]


def resolve_codes(
    values: Sequence[str], loc: tuple[str | int, ...], catalog: Catalog, problems: list[Detail]
) -> list[str]:
    """A releasable-to list as codes: partner countries (ISO3, ISO2 or name) and
    organizations (regions of kind ``organization``, e.g. NATO, EU, AU)."""
    if len(values) > MAX_RELEASABLE_TO:
        problems.append(Detail(loc, f"at most {MAX_RELEASABLE_TO} codes (got {len(values)})"))
        return []
    out: list[str] = []
    for i, value in enumerate(values):
        code = audience_code(catalog, value)
        if code is None:
            problems.append(
                Detail(
                    (*loc, i),
                    f"unknown partner or organization {value!r}: give a country (ISO3, e.g. "
                    "GBR) or an organization (e.g. NATO, EU)",
                )
            )
        elif code not in out:
            out.append(code)
    return sorted(out)


def audience_code(catalog: Catalog, value: str) -> str | None:
    """A country's ISO3 code or an organization's code for ``value`` (None if neither)."""
    text = value.strip()
    if not text:
        return None
    try:
        return catalog.resolve("country", text)
    except UnknownCode:
        pass
    try:
        code = catalog.resolve("region", text)
    except UnknownCode:
        return None
    return code if catalog.regions[code].kind == "organization" else None


def marking_fields(
    actor: Actor,
    catalog: Catalog,
    marking: str | None,
    releasable_to: Sequence[str] | None,
    loc: tuple[str | int, ...],
    problems: list[Detail],
) -> dict[str, str]:
    """A write's ``marking`` and ``releasable_to`` as stored, checked the way a program's
    are: a known marking (a code or its name), not above the writer's own ceiling (they
    could not read the record afterwards), and a releasable-to list of known partners and
    organizations. Only the fields given are returned; problems are appended."""
    out: dict[str, str] = {}
    if marking is not None:
        text = marking.strip()
        found = next(
            (
                m.id
                for m in catalog.markings.values()
                if text.upper() in (m.id.upper(), m.name.upper())
            ),
            None,
        )
        if found is None:
            problems.append(
                Detail(
                    (*loc, "marking"),
                    f"unknown marking {marking!r}: give one of "
                    + ", ".join(sorted(catalog.markings)),
                )
            )
        elif (ceiling := view_of(actor, catalog).ceiling) is not None and rank_of(
            catalog, found
        ) > ceiling:
            problems.append(
                Detail(
                    (*loc, "marking"),
                    f"{found} is above your marking ceiling ({actor.ceiling}): ask someone "
                    "cleared for it",
                )
            )
        else:
            out["marking"] = found
    if releasable_to is not None:
        out["releasable_to"] = encode(
            resolve_codes(list(releasable_to), (*loc, "releasable_to"), catalog, problems)
        )
    return out


# -- views of readers and audiences -----------------------------------------------------
def rank_of(catalog: Catalog, marking: str | None) -> int:
    """A marking's rank; an unknown marking ranks above every known one (withheld)."""
    m = catalog.markings.get(marking or "U")
    if m is None:
        return max((x.rank for x in catalog.markings.values()), default=0) + 1
    return m.rank


def _foreign(catalog: Catalog, code: str, ceiling: int | None) -> View:
    codes = {code}
    if code in catalog.countries:
        codes |= {
            r.code
            for r in catalog.regions.values()
            if r.kind == "organization" and code in r.members
        }
    return View("foreign", ceiling, frozenset(codes), code)


def view_of(actor: Actor, catalog: Catalog) -> View:
    """What ``actor`` may read: their ceiling and, for a foreign liaison, their audience."""
    ceiling = None
    if actor.ceiling:
        # A ceiling naming a marking the catalog lost reads U only (fail closed).
        m = catalog.markings.get(actor.ceiling)
        ceiling = m.rank if m is not None else rank_of(catalog, "U")
    if actor.audience:
        return _foreign(catalog, actor.audience, ceiling)
    return View("us", ceiling, frozenset(), US_GOVERNMENT)


def audience_of(actor: Actor, catalog: Catalog) -> Audience:
    """The reader's own view (what every page, list and API read shows them)."""
    return Audience((view_of(actor, catalog),))


def audience_named(name: str | None, actor: Actor, catalog: Catalog) -> Audience:
    """An export's audience: ``public``, ``us-government`` or a partner or organization
    code, never wider than what ``actor`` may read. ``None`` is the actor's own view."""
    own = audience_of(actor, catalog)
    if name is None or not name.strip():
        return own
    text = name.strip()
    if text.lower() == PUBLIC:
        return own.narrowed(Audience((View("public", None, frozenset(), PUBLIC),)))
    if text.lower() in (US_GOVERNMENT, "usg"):
        return own
    code = audience_code(catalog, text)
    if code is None:
        raise Invalid(
            f"unknown audience {name!r}",
            [
                Detail(
                    ("query", "audience"),
                    f"give {PUBLIC}, {US_GOVERNMENT}, a partner country (ISO3, e.g. KEN) or "
                    "an organization (e.g. NATO, EU)",
                )
            ],
        )
    return own.narrowed(Audience((_foreign(catalog, code, None),)))


# -- the rule, as a query filter and in Python ------------------------------------------
def _ranked(catalog: Catalog, ceiling: int) -> list[str]:
    return sorted(m.id for m in catalog.markings.values() if m.rank <= ceiling)


def _releasable(catalog: Catalog) -> list[str]:
    return sorted(m.id for m in catalog.markings.values() if m.releasable)


def _under_ceiling(view: View, catalog: Catalog, marked: type[Any]) -> ColumnElement[bool]:
    if view.ceiling is None:
        return true()
    ids = _ranked(catalog, view.ceiling)
    return marked.marking.in_(ids) if ids else false()


def _released(view: View, catalog: Catalog, marked: type[Any]) -> ColumnElement[bool]:
    if view.kind == "us":
        return true()
    public = and_(marked.marking.in_(_releasable(catalog)), marked.releasable_to == "")
    if view.kind == "public":
        return public
    named = [marked.releasable_to.like(f"%{SEP}{code}{SEP}%") for code in sorted(view.codes)]
    return or_(public, *named)


def ceiling_clause(
    audience: Audience, catalog: Catalog, marked: type[Any] = Program
) -> ColumnElement[bool]:
    """True for records no view's ceiling withholds."""
    return and_(true(), *(_under_ceiling(v, catalog, marked) for v in audience.views))


def released_clause(
    audience: Audience, catalog: Catalog, marked: type[Any] = Program
) -> ColumnElement[bool]:
    """True for records releasable to every view's audience."""
    return and_(true(), *(_released(v, catalog, marked) for v in audience.views))


def visible_clause(
    audience: Audience, catalog: Catalog, marked: type[Any] = Program
) -> ColumnElement[bool]:
    """The one filter: true for the records of ``marked`` (programs by default) that
    ``audience`` may see."""
    if audience.unrestricted:
        return true()
    return and_(
        ceiling_clause(audience, catalog, marked), released_clause(audience, catalog, marked)
    )


def only_visible(
    stmt: _Stmt, audience: Audience, catalog: Catalog, marked: type[Any] = Program
) -> _Stmt:
    """Narrow a select of programs (or program ids; or of any ``marked`` record) to what
    ``audience`` may see."""
    if audience.unrestricted:
        return stmt
    return stmt.where(visible_clause(audience, catalog, marked))


def withheld(
    session: Session,
    ids: Select[tuple[int]],
    audience: Audience,
    catalog: Catalog,
    marked: type[Any] = Program,
) -> dict[str, int]:
    """How many of ``ids`` (a filter's records of ``marked``, before visibility)
    ``audience`` may not see, by reason: ``above_ceiling`` first, then
    ``not_releasable``. Counts only: never which records."""
    if audience.unrestricted:
        return {r: 0 for r in REASONS}
    over = not_(ceiling_clause(audience, catalog, marked))
    unreleased = and_(
        ceiling_clause(audience, catalog, marked),
        not_(released_clause(audience, catalog, marked)),
    )
    row = session.execute(
        select(
            func.coalesce(func.sum(case((over, 1), else_=0)), 0),
            func.coalesce(func.sum(case((unreleased, 1), else_=0)), 0),
        ).where(marked.id.in_(ids))
    ).one()
    return {"above_ceiling": int(row[0]), "not_releasable": int(row[1])}


def verdict(
    audience: Audience, catalog: Catalog, marking: str, releasable_to: Iterable[str]
) -> Reason | None:
    """Why ``audience`` may not see a program so marked (``None``: it may)."""
    rank = rank_of(catalog, marking)
    if any(v.ceiling is not None and rank > v.ceiling for v in audience.views):
        return "above_ceiling"
    listed = set(releasable_to)
    m = catalog.markings.get(marking)
    public = m is not None and m.releasable and not listed
    for v in audience.views:
        if v.kind == "public" and not public:
            return "not_releasable"
        if v.kind == "foreign" and not public and not (listed & v.codes):
            return "not_releasable"
    return None


def audience_json(audience: Audience) -> dict[str, Any]:
    """An audience as stored with what was computed for it (``computed_for``)."""
    return {
        "label": audience.label,
        "views": [
            {"kind": v.kind, "ceiling": v.ceiling, "codes": sorted(v.codes), "label": v.label}
            for v in audience.views
        ],
    }


def audience_from_json(stored: dict[str, Any] | None) -> Audience:
    """The audience :func:`audience_json` stored (nothing stored: U.S. Government staff
    without a ceiling, who saw every program)."""
    if not stored:
        return Audience()
    return Audience(
        tuple(
            View(v["kind"], v["ceiling"], frozenset(v["codes"]), v["label"])
            for v in stored["views"]
        )
    )


def covers(session: Session, catalog: Catalog, reader: Audience, computed_for: Audience) -> bool:
    """Whether ``reader`` may read a figure computed over the programs ``computed_for``
    could see: only if no such program is hidden from ``reader`` (one count query).
    A saved assessment or allocation scenario is one shared record whose dollars sum its
    maker's programs; a narrower reader would read a hidden program's money in them."""
    if reader.unrestricted or computed_for == reader:
        return True
    wider = session.execute(
        select(func.count())
        .select_from(Program)
        .where(visible_clause(computed_for, catalog), ~visible_clause(reader, catalog))
    ).scalar_one()
    return int(wider) == 0


def withheld_headers(summary: dict[str, Any]) -> dict[str, str]:
    """The HTTP headers a download carries about what it withheld, from an export's
    summary (``audience``, ``withheld``, ``withheld_by``)."""
    by = summary.get("withheld_by", {})
    return {
        "X-Audience": str(summary.get("audience", "")),
        "X-Withheld": str(summary.get("withheld", 0)),
        "X-Withheld-By": ", ".join(f"{k}={v}" for k, v in by.items()),
    }


def withheld_sentence(counts: dict[str, int], audience: Audience, what: str = "program") -> str:
    """The withheld statement an export carries, e.g. "3 program(s) withheld for public:
    2 marked above the audience's ceiling, 1 not releasable to public" (``what`` names
    the records: ``restriction`` for the restrictions CSV)."""
    total = sum(counts.values())
    if not total:
        return f"No {what}s withheld for {audience.label}."
    return (
        f"{total} {what}(s) withheld for {audience.label}: {counts.get('above_ceiling', 0)} "
        f"marked above the reader's marking ceiling, {counts.get('not_releasable', 0)} not "
        f"releasable to {audience.label}."
    )


__all__ = [
    "PUBLIC",
    "REASONS",
    "US_GOVERNMENT",
    "Audience",
    "Marked",
    "View",
    "audience_from_json",
    "audience_json",
    "audience_named",
    "audience_of",
    "covers",
    "decode",
    "encode",
    "marking_fields",
    "only_visible",
    "resolve_codes",
    "verdict",
    "view_of",
    "visible_clause",
    "withheld",
    "withheld_headers",
    "withheld_sentence",
]
