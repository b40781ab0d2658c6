"""Shapes of reference data as the API shows them: one ``XPublic`` per kind of entry.

Each entry model refuses keys it does not declare (``extra="forbid"``): a list of one
kind is typed as the union of all kinds, and forbidding extras makes exactly one member
of the union match each entry, so no entry loses a field to a smaller lookalike.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ssaplan.core.schemas import Page


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReferenceTermPublic(_Entry):
    """An entry of a small controlled vocabulary (institution type, level, purpose)."""

    id: str
    name: str
    aliases: list[str]
    description: str


class ReferenceCountryPublic(_Entry):
    """A country or territory with the regions it belongs to and the names it goes by."""

    iso3: str
    iso2: str
    numeric: str
    name: str
    official_name: str
    bureau: str | None
    combatant_command: str | None
    un_region: str | None
    un_subregion: str | None
    status: str
    sovereign_iso3: str | None
    organizations: list[str]
    aliases: list[str]


class ReferenceRegionPublic(_Entry):
    """A region: a regional bureau, combatant command, UN region or organization."""

    code: str
    name: str
    kind: str
    description: str
    source_url: str
    members: list[str]


class ReferenceAgencyPublic(_Entry):
    """A U.S. agency, bureau or office (``parent`` is the one above it)."""

    id: str
    name: str
    parent: str | None
    kind: str
    description: str
    aliases: list[str]


class ReferenceAccountPublic(_Entry):
    """A funding account (appropriation or authority) and the agency that manages it."""

    id: str
    name: str
    agency: str
    authority: str
    availability_years: int
    title: str
    description: str
    source_url: str
    aliases: list[str]


class ReferenceObjectivePublic(_Entry):
    """A goal (``goal`` null) or an objective of the goal tree."""

    id: str
    goal: str | None
    name: str
    policy_text: str


class ReferenceDacCodePublic(_Entry):
    """An OECD DAC purpose code and its category."""

    code: str
    name: str
    category: str
    category_name: str
    active: bool


class ReferenceMarkingPublic(_Entry):
    """A handling marking, whether programs under it may be published, and its rank
    (a reader cleared up to a marking reads every marking of that rank or below)."""

    id: str
    name: str
    releasable: bool
    description: str
    rank: int = 0


ReferenceEntry = (
    ReferenceTermPublic
    | ReferenceCountryPublic
    | ReferenceRegionPublic
    | ReferenceAgencyPublic
    | ReferenceAccountPublic
    | ReferenceObjectivePublic
    | ReferenceDacCodePublic
    | ReferenceMarkingPublic
)


class ReferenceKindPublic(BaseModel):
    """One kind of reference data, how many entries it has and where to list them."""

    kind: str
    count: int
    url: str


class ReferenceIndexPublic(BaseModel):
    """The kinds of reference data."""

    kinds: list[ReferenceKindPublic]


class ReferenceListPublic(Page[ReferenceEntry]):
    """Every entry of one kind."""

    kind: str
