"""What a domain declares about itself, so the house can assemble it from one list.

Each domain package (``portfolio``, ``assessment``, ...) has a ``domain.py`` holding one
:class:`Domain`. ``ssaplan.domains`` lists those packages; the app factory, the command
line, templating, the navigation, the permission table, the model registry and the demo
iterate that list. Adding a domain is a new folder plus one line there
(docs/architecture.md).

Everything a declaration points at is named as ``"module:attribute"`` and imported only
when needed, so reading the list stays cheap (the command line starts without loading
the web app, and a command loads only its own domain).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ssaplan.core.store import Store


def load(target: str) -> Any:
    """The object a ``"package.module:attribute"`` reference names."""
    module, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Role:
    """A role a user can hold within a scope (see :mod:`ssaplan.core.permissions`).

    ``rank`` orders roles for display (the highest a user holds is shown as theirs).
    """

    name: str
    description: str
    rank: int = 0
    # The scope the role gets when a user is added with an agency and no explicit scope.
    default_scope: str = "all"


@dataclass(frozen=True)
class Action:
    """Something a user may be allowed to do, and which roles may do it by default.

    A *scoped* action is granted only inside the scope of the assignment that grants it
    (a planner for State/INL writes INL's programs); an unscoped one is granted
    everywhere by any assignment of a listed role (reading, running analyses).
    """

    name: str
    roles: tuple[str, ...]
    description: str
    scoped: bool = True


@dataclass(frozen=True)
class Nav:
    """An entry of the workbench's top navigation, shown to those allowed ``action``."""

    label: str
    path: str
    order: int
    action: str = "read"
    match: str = ""  # path prefix that marks the entry current (default: ``path``)

    @property
    def prefix(self) -> str:
        return self.match or self.path


@dataclass(frozen=True)
class Command:
    """A piece of the ``ssaplan`` command line.

    ``path`` is where it mounts: ``("programs",)`` for a top-level group or command,
    ``("import", "indicators")`` for a command added to another domain's group.
    ``target`` names a ``typer.Typer`` (a group) or a function (one command); its help
    text is the group's or the function's own.
    """

    path: tuple[str, ...]
    target: str


@dataclass(frozen=True)
class DemoContext:
    """What every demo step shares: the store, the seed, the day the world is as of."""

    store: Store
    seed: int
    as_of: date
    first_fy: int
    last_fy: int
    log: Callable[[str], None]
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Domain:
    """One domain's parts. Only ``name`` and ``package`` are required."""

    name: str
    package: str
    title: str = ""
    uses: tuple[str, ...] = ()  # domains this one builds on (imports from)
    models: tuple[str, ...] = ()  # modules that define tables
    api: tuple[str, ...] = ()  # "module:router" of JSON routes
    views: tuple[str, ...] = ()  # "module:router" of pages
    templates: bool = False  # has <package>/templates/<name>/
    nav: tuple[Nav, ...] = ()
    commands: tuple[Command, ...] = ()
    roles: tuple[Role, ...] = ()
    actions: tuple[Action, ...] = ()
    demo: str = ""  # "module:function" taking a DemoContext, returning a dict of figures
    demo_order: int = 100
