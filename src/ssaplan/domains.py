"""The one list of domains. Everything that assembles the house iterates it.

Adding a domain: create ``ssaplan/<name>/`` with a ``domain.py`` declaring its
:class:`~ssaplan.core.spec.Domain`, and add one line below (docs/architecture.md).
The app factory mounts its routers, templating finds its templates, the navigation
shows its entries, the command line mounts its commands, the permission table takes
its roles and actions, Alembic and create-all see its models, the demo runs its step.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from functools import lru_cache

from ssaplan.core.spec import Command, Domain, Nav

# Order matters only for display; dependencies between domains are declared in ``uses``.
PACKAGES: tuple[str, ...] = (
    "ssaplan.core",
    "ssaplan.reference",
    "ssaplan.admin",
    "ssaplan.portfolio",
    "ssaplan.coordination",
    "ssaplan.ingest",
    "ssaplan.assessment",
    "ssaplan.compliance",
    "ssaplan.evaluation",
    "ssaplan.allocation",
    "ssaplan.strategy",
    "ssaplan.monitoring",
    "ssaplan.cycle",
)


@lru_cache(maxsize=1)
def domains() -> tuple[Domain, ...]:
    """Every registered domain's declaration (cheap: imports only the ``domain`` modules)."""
    found: list[Domain] = []
    for package in PACKAGES:
        spec = importlib.import_module(f"{package}.domain").DOMAIN
        if not isinstance(spec, Domain) or spec.package != package:
            raise TypeError(f"{package}.domain.DOMAIN must be a Domain for {package}")
        found.append(spec)
    names = [d.name for d in found]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"domain names declared twice: {sorted(dupes)}")
    for d in found:
        unknown = set(d.uses) - set(names)
        if unknown:
            raise ValueError(f"domain {d.name!r} uses unknown domains {sorted(unknown)}")
    return tuple(found)


@lru_cache(maxsize=1)
def install() -> None:
    """Install the permission table and the reference directory (once per process)."""
    from ssaplan.core.permissions import PermissionTable
    from ssaplan.core.permissions import install as install_permissions
    from ssaplan.reference.directory import CatalogDirectory

    table = PermissionTable(
        roles=[r for d in domains() for r in d.roles],
        actions=[a for d in domains() for a in d.actions],
    )
    install_permissions(table, CatalogDirectory())


def import_models() -> None:
    """Import every domain's table modules so they are all on ``Base.metadata``."""
    for d in domains():
        for module in d.models:
            importlib.import_module(module)


def routers(kind: str) -> Iterator[str]:
    """``"module:router"`` targets of every domain, ``kind`` being ``api`` or ``views``."""
    for d in domains():
        yield from getattr(d, kind)


def template_packages() -> list[str]:
    return [d.package for d in domains() if d.templates]


def navigation() -> list[Nav]:
    return sorted((n for d in domains() for n in d.nav), key=lambda n: (n.order, n.label))


def commands() -> list[Command]:
    return [c for d in domains() for c in d.commands]


def demo_steps() -> list[tuple[str, str]]:
    """``(domain, "module:function")`` of every demo step, in order."""
    steps = sorted((d.demo_order, d.name, d.demo) for d in domains() if d.demo)
    return [(name, target) for _, name, target in steps]
