"""The ILLUSTRATIVE demo world: demo users, then one step per domain (``ssaplan.domains``).

Each domain that has demo data declares a step (``Domain.demo``) taking a
:class:`~ssaplan.core.spec.DemoContext` and returning its figures; steps run in
``demo_order``, each in its own transaction, so later steps read what earlier ones
saved (the assessment reads the portfolio). Same seed, same world.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from ssaplan import domains
from ssaplan.clikit import info
from ssaplan.core.errors import Conflict
from ssaplan.core.models import AppSetting, User
from ssaplan.core.permissions import Actor
from ssaplan.core.spec import DemoContext, load
from ssaplan.core.store import Store
from ssaplan.core.users import add_user

FIRST_FY, LAST_FY = 2025, 2029
# The world is generated as of this day (start of FY2027), not the clock, so it is reproducible.
AS_OF = date(2026, 10, 1)
MARKER = "demo_seed"

DEMO_USERS = (
    ("admin", "admin-demo-pass", "admin", "State", "Demo Administrator"),
    ("planner", "planner-demo-pass", "planner", "State", "Demo Planner (State)"),
    ("dod-planner", "dodplanner-demo-pass", "planner", "DoD", "Demo Planner (DoD)"),
    ("analyst", "analyst-demo-pass", "analyst", "USAID", "Demo Analyst"),
    ("viewer", "viewer-demo-pass", "viewer", "DOJ", "Demo Viewer"),
)


@dataclass
class DemoResult:
    """What the demo loaded: every step's figures, merged, plus the demo users."""

    first_fy: int = FIRST_FY
    last_fy: int = LAST_FY
    users: list[dict[str, str]] = field(default_factory=list)
    skipped: bool = False
    illustrative: bool = True
    figures: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        figures = self.__dict__.get("figures", {})
        if name in figures:
            return figures[name]
        raise AttributeError(name)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.figures,
            "first_fy": self.first_fy,
            "last_fy": self.last_fy,
            "users": self.users,
            "skipped": self.skipped,
            "illustrative": self.illustrative,
        }


def load_demo(store: Store, *, seed: int = 2013, if_empty: bool = False) -> DemoResult:
    """Load the demo users and every domain's demo step into an initialized database."""
    domains.install()
    with store.transaction() as session:
        marker = session.get(AppSetting, MARKER)
        if marker is not None:
            if if_empty:
                return DemoResult(skipped=True, figures={"seed": int(marker.value)})
            raise Conflict(
                f"the database already holds the demo world (seed {marker.value}): load it into "
                "a new database (--db sqlite:///demo.db) or use --if-empty"
            )
        actor = Actor("demo-loader", "admin")
        users = []
        for username, password, role, agency, full_name in DEMO_USERS:
            if (
                session.execute(select(User).where(User.username == username)).scalar_one_or_none()
                is None
            ):
                add_user(
                    session,
                    actor,
                    username=username,
                    password=password,
                    role=role,
                    agency=agency,
                    full_name=full_name,
                    demo=True,
                )
            users.append(
                {"username": username, "password": password, "role": role, "agency": agency}
            )
    ctx = DemoContext(store, seed, AS_OF, FIRST_FY, LAST_FY, info)
    figures: dict[str, Any] = {}
    for name, target in domains.demo_steps():
        info(f"demo: {name}...")
        step = load(target)(ctx)
        clash = set(step) & set(figures)
        if clash:
            raise RuntimeError(
                f"demo step {name!r} reports figures already reported: {sorted(clash)}"
            )
        figures.update(step)
        ctx.figures[name] = step
    with store.transaction() as session:
        session.add(AppSetting(key=MARKER, value=str(seed)))
    return DemoResult(users=users, figures=figures)
