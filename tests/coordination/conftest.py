"""A small coordination world whose figures are worked out by hand in the tests.

Programs (every one from ``coordination.demo.program_create``: four budget lines,
FY2025-FY2028, $2,000,000 planned each year, disbursed $1.2M, $1.2M, $0.1M, $0.1M, so
**$2.6M disbursed** and $8M planned per program):

* SOM_A (DoD) and SOM_B (State/INL): one coast guard course written up by two agencies;
  border management, DAC 15210 (category 152);
* KEN_A (DOJ) and KEN_B (State/CT): a paraphrase across agencies; justice, 15130 (151);
* NGA_POLICE (State/INL, police, 15132: 151) and NGA_ARMY (DoD, armed forces, 15210:
  152): the same words for unrelated institutions (a hard negative);
* REGIONAL (KEN and SOM) and COLOMBIA: planned money only (nothing disbursed), so the
  regional view has a cross-border program and a second bureau while the donor figures
  below stay simple.

Donor activities (IATI-shaped rows), disbursements in dollars:

* DEMO-GB-DUP-0001 (UK): the Somalia coast guard course again; 15136 (151);
  $1.5M in FY2025 and $1.5M in FY2026;
* DEMO-DE-0001 (Germany): rule of law in Somalia, 15130 (151); $1.0M in FY2025;
* DEMO-DE-0002 (Germany): Kenya, 15210 (152), no description and no dates; $0.5M FY2025;
* DEMO-FR-0003 (France): French text, Senegal, no money;
* DEMO-XX-0004: no country and no region (the overlap run skips it), no money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from ssaplan.coordination.demo import (
    HARD_NEGATIVE,
    PLANTED,
    SOURCE,
    DonorActivityRows,
    activity_rows,
    program_create,
)
from ssaplan.coordination.service import CoordinationService
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store, utcnow
from ssaplan.portfolio.schemas import BudgetLineIn
from ssaplan.portfolio.service import PortfolioService
from ssaplan.reference.catalog import get_catalog

LOADER = Actor("test-loader", "admin")
GB = ("DEMO-GB", "United Kingdom (illustrative)")
DE = ("DEMO-DE", "Germany (illustrative)")
FR = ("DEMO-FR", "France (illustrative)")
XX = ("DEMO-XX", "Nowhere (illustrative)")
NGA_ARMY = (
    "NGA",
    "DoD/DSCA",
    "10USC333",
    "armed_forces",
    "Forensic evidence training for the Nigerian Army",
    "Courses on crime scene evidence, forensic laboratories and case files.",
)
REGIONAL = (
    "KEN",
    "State/PM",
    "PKO",
    "border_management",
    "Regional information sharing on piracy, Kenya and Somalia",
    "A regional centre where navies exchange reports on piracy and smuggling at sea.",
)
COLOMBIA = PLANTED[2][0]


@dataclass(frozen=True)
class World:
    """The program ids the portfolio gave the small world's programs."""

    som_a: str
    som_b: str
    ken_a: str
    ken_b: str
    nga_police: str
    nga_army: str
    regional: str
    colombia: str


def donor_rows() -> list[DonorActivityRows]:
    iso2 = {c.iso3: c.iso2 for c in get_catalog().countries.values()}
    return [
        activity_rows(
            "DEMO-GB-DUP-0001",
            GB,
            "Support to the Somali coast guard: boarding and patrol training",
            "Training courses for Somali coast guard officers in vessel boarding, "
            "patrol and search and rescue at sea.",
            [(iso2["SOM"], "SOM", None)],
            [("15136", None)],
            date(2025, 4, 1),
            date(2027, 3, 31),
            [(date(2025, 6, 1), 1_500_000), (date(2026, 6, 1), 1_500_000)],
        ),
        activity_rows(
            "DEMO-DE-0001",
            DE,
            "Rule of law programme, Somalia",
            "Support to courts, prosecutors and prisons in Somalia.",
            [(iso2["SOM"], "SOM", None)],
            [("15130", None)],
            date(2024, 10, 1),
            date(2026, 9, 30),
            [(date(2025, 3, 1), 1_000_000)],
        ),
        activity_rows(
            "DEMO-DE-0002",
            DE,
            "Security sector reform support, Kenya",
            None,
            [(iso2["KEN"], "KEN", None)],
            [("15210", None)],
            None,
            None,
            [(date(2025, 2, 1), 500_000)],
        ),
        activity_rows(
            "DEMO-FR-0003",
            FR,
            "Formation des garde-côtes sénégalais",
            "Formation des officiers des garde-côtes à l'arraisonnement et au sauvetage en mer.",
            [(iso2["SEN"], "SEN", None)],
            [("15210", None)],
            date(2024, 10, 1),
            date(2027, 9, 30),
            [],
            language="fr",
        ),
        activity_rows(
            "DEMO-XX-0004",
            XX,
            "Security sector reform, somewhere",
            "An activity that names no recipient at all.",
            [],
            [("15210", None)],
            date(2024, 10, 1),
            date(2027, 9, 30),
            [],
        ),
    ]


def build_world(store: Store) -> World:
    """Write the small world into ``store`` (programs, then donor activities)."""
    specs = [*PLANTED[0], *PLANTED[1], HARD_NEGATIVE[0], NGA_ARMY]
    programs = [
        program_create(spec, date(2025, 1, 1) + timedelta(days=120 * (k % 2)), 3)
        for k, spec in enumerate(specs)
    ]
    regional = program_create(REGIONAL, date(2025, 1, 1), 3).model_copy(
        update={
            "countries": ["KEN", "SOM"],
            "budget": [BudgetLineIn(fiscal_year=2026, planned=4_000_000, obligated=0, disbursed=0)],
        }
    )
    colombia = program_create(COLOMBIA, date(2025, 1, 1), 3).model_copy(
        update={
            "budget": [BudgetLineIn(fiscal_year=2026, planned=3_000_000, obligated=0, disbursed=0)]
        }
    )
    with store.transaction() as session:
        report = PortfolioService(session, LOADER).upsert_many(
            [*programs, regional, colombia], source="test"
        )
        service = CoordinationService(session, LOADER)
        service.begin_write()
        service.replace_activities(
            donor_rows(), source_file=SOURCE, version="2.03", imported_at=utcnow()
        )
    return World(*report.created)


@pytest.fixture
def world(store: Store) -> World:
    """The small world on a fresh database (both back ends)."""
    return build_world(store)


@pytest.fixture
def sqlite_world(templates: object, tmp_path: object) -> tuple[Store, World]:
    """The small world on SQLite only (for the interfaces)."""
    import shutil
    from pathlib import Path

    path = Path(str(tmp_path)) / "world.db"
    shutil.copy(templates.sqlite("empty"), path)  # type: ignore[attr-defined]
    store = Store(f"sqlite:///{path}")
    return store, build_world(store)
