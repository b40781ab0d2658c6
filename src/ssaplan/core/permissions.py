"""Who may do what, and where: roles held within scopes, actions declared by domains.

A user holds **role assignments** ``(role, scope)``; a scope is everything, an agency
(with its bureaus and offices, e.g. ``State/INL``), a regional bureau or other region
(``AF``: its member countries), or one partner country (``KEN``). Domains declare the
actions they add and which roles get them (:class:`ssaplan.core.spec.Action`); the
table is installed once at start-up from the domain list. Anything not granted is
denied, including every action of a table that was never installed.

Services ask :func:`restrict` for the scope in which an actor may take an action and
filter with it (``scope.allows(...)`` for one record, ``scope.where(...)`` as a query
filter) — the one place permission is decided.

Core knows agencies and regions only through the :class:`Directory` interface, which
the reference package implements; core never imports a domain.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy import false, or_, true
from sqlalchemy.sql.elements import ColumnElement

from ssaplan.core.errors import Forbidden
from ssaplan.core.spec import Action, Role

ScopeKind = Literal["all", "agency", "bureau", "country"]
SCOPE_KINDS: tuple[ScopeKind, ...] = ("all", "agency", "bureau", "country")


class Directory(Protocol):
    """What core needs to know about agencies and places (implemented by reference)."""

    def agency_family(self, agency_id: str) -> frozenset[str]:
        """The agency and every bureau or office below it."""
        ...

    def region_countries(self, code: str) -> frozenset[str]:
        """ISO3 codes of a region's member countries."""
        ...

    def resolve(self, kind: str, text: str) -> str:
        """The id of an agency, country or region given its id or name; raise ``LookupError``."""
        ...

    def name(self, kind: str, code: str) -> str:
        """The display name of an agency, country or region ('' if unknown)."""
        ...


@dataclass(frozen=True)
class Grant:
    """One role assignment: ``role`` within a scope (``kind`` and its ``scope`` id)."""

    role: str
    kind: ScopeKind = "all"
    scope: str = ""

    def label(self) -> str:
        return self.role if self.kind == "all" else f"{self.role} ({self.kind} {self.scope})"


class PermissionTable:
    """Roles and actions as the installed domains declare them."""

    def __init__(self, roles: Iterable[Role] = (), actions: Iterable[Action] = ()) -> None:
        self.roles: dict[str, Role] = {}
        self.actions: dict[str, Action] = {}
        for role in roles:
            if role.name in self.roles:
                raise ValueError(f"role {role.name!r} is declared twice")
            self.roles[role.name] = role
        for action in actions:
            if action.name in self.actions:
                raise ValueError(f"action {action.name!r} is declared twice")
            unknown = set(action.roles) - set(self.roles)
            if unknown:
                raise ValueError(f"action {action.name!r} names unknown roles {sorted(unknown)}")
            self.actions[action.name] = action
        self._by_role: dict[str, frozenset[str]] = {
            r: frozenset(a.name for a in self.actions.values() if r in a.roles) for r in self.roles
        }

    def role_actions(self, role: str) -> frozenset[str]:
        return self._by_role.get(role, frozenset())

    def rank(self, role: str) -> int:
        r = self.roles.get(role)
        return r.rank if r is not None else -1


_table = PermissionTable()
_directory: Directory | None = None


def install(table: PermissionTable, directory: Directory) -> None:
    """Make ``table`` and ``directory`` the ones every check uses (done at start-up)."""
    global _table, _directory
    _table, _directory = table, directory


def table() -> PermissionTable:
    return _table


def directory() -> Directory:
    if _directory is None:
        raise RuntimeError("no directory installed: call ssaplan.domains.install() at start-up")
    return _directory


@dataclass(frozen=True)
class Actor:
    """Who is acting: a logged-in user, or the local operator at the command line.

    ``assignments`` are the user's role assignments. Built without them (tests,
    loaders), an actor holds ``role`` in that role's default scope: everywhere, or,
    for a planner, within ``agency_id``.

    ``ceiling`` is the highest marking (a marking id of the reference catalog) the actor
    may read, ``None`` meaning every marking; ``audience`` the foreign partner or
    organization the actor reads for (an ISO3 code such as ``GBR``, or an organization
    such as ``NATO``), ``None`` meaning U.S. Government staff. What records they let the
    actor see is decided by the portfolio's visibility filter, not here.
    """

    username: str
    role: str = ""
    agency_id: str | None = None
    user_id: int | None = None
    assignments: tuple[Grant, ...] = field(default=())
    ceiling: str | None = None
    audience: str | None = None

    def __post_init__(self) -> None:
        if not self.role and self.assignments:
            object.__setattr__(self, "role", primary_role(self.assignments))

    @property
    def grants(self) -> tuple[Grant, ...]:
        if self.assignments:
            return self.assignments
        return (default_grant(self.role, self.agency_id),) if self.role else ()

    @classmethod
    def operator(cls) -> Actor:
        """Whoever runs the CLI on the database's machine: full rights, named in the audit."""
        import getpass

        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
        return cls(f"cli:{who}", "admin")

    def describe(self) -> str:
        return ", ".join(g.label() for g in self.grants) or "inactive"


def default_grant(role: str, agency_id: str | None) -> Grant:
    """The assignment a role gets when none is given (planners: within their agency)."""
    spec = _table.roles.get(role)
    if spec is not None and spec.default_scope == "agency":
        return Grant(role, "agency", agency_id or "")
    return Grant(role, "all", "")


def primary_role(grants: Sequence[Grant]) -> str:
    """The highest-ranked role among ``grants`` (shown as the user's role)."""
    if not grants:
        return ""
    return max(grants, key=lambda g: _table.rank(g.role)).role


@dataclass(frozen=True)
class Scope:
    """Where an action is allowed: everywhere, for some agencies, for some countries."""

    everything: bool = False
    agencies: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.agencies or self.countries)

    def allows(self, agency: str | None = None, countries: Collection[str] = ()) -> bool:
        """Whether a record of ``agency`` with partner ``countries`` is inside the scope.

        Country and bureau scopes cover a record only when every partner country is in
        them (a planner for Africa does not edit a program that also covers Asia).
        """
        if self.everything:
            return True
        if agency is not None and agency in self.agencies:
            return True
        return bool(countries) and self.countries.issuperset(countries)

    def where(
        self,
        agency_column: Any,
        outside_countries: Callable[[frozenset[str]], ColumnElement[bool]] | None = None,
        has_countries: ColumnElement[bool] | None = None,
    ) -> ColumnElement[bool]:
        """The scope as a query filter.

        ``outside_countries(codes)`` must be true for records with a partner outside
        ``codes``; ``has_countries`` true for records with at least one partner.
        """
        if self.everything:
            return true()
        clauses: list[ColumnElement[bool]] = []
        if self.agencies:
            clauses.append(agency_column.in_(sorted(self.agencies)))
        if self.countries and outside_countries is not None and has_countries is not None:
            clauses.append(has_countries & ~outside_countries(self.countries))
        return or_(*clauses) if clauses else false()


def _expand(grant: Grant) -> Scope:
    if grant.kind == "all":
        return Scope(everything=True)
    d = directory()
    if grant.kind == "agency":
        return Scope(agencies=d.agency_family(grant.scope))
    if grant.kind == "bureau":
        return Scope(countries=d.region_countries(grant.scope))
    return Scope(countries=frozenset({grant.scope}))


def restrict(actor: Actor, action: str) -> Scope:
    """The scope in which ``actor`` may take ``action`` (empty when nowhere)."""
    spec = _table.actions.get(action)
    if spec is None:
        return Scope()
    everything = False
    agencies: set[str] = set()
    countries: set[str] = set()
    for grant in actor.grants:
        if grant.role not in spec.roles:
            continue
        if not spec.scoped or grant.kind == "all":
            everything = True
            break
        s = _expand(grant)
        agencies |= s.agencies
        countries |= s.countries
    if everything:
        return Scope(everything=True)
    return Scope(agencies=frozenset(agencies), countries=frozenset(countries))


def can(actor: Actor, action: str) -> bool:
    """Whether ``actor`` may take ``action`` anywhere."""
    spec = _table.actions.get(action)
    return spec is not None and any(g.role in spec.roles for g in actor.grants)


def require(actor: Actor, action: str) -> None:
    """Raise :class:`Forbidden` unless some assignment of the actor grants ``action``."""
    if not can(actor, action):
        raise Forbidden(f"your role ({actor.describe()}) does not allow {action}")


def permissions_of(actor: Actor) -> list[str]:
    """Every action the actor may take somewhere, sorted."""
    return sorted(a for a in _table.actions if can(actor, a))


__all__ = [
    "SCOPE_KINDS",
    "Actor",
    "Directory",
    "Grant",
    "PermissionTable",
    "Scope",
    "can",
    "default_grant",
    "directory",
    "install",
    "permissions_of",
    "primary_role",
    "require",
    "restrict",
    "table",
]
