"""Reference tables, filled from the data files by :func:`ssaplan.reference.service.sync`.

They exist in the database so that every program's codes are checked by foreign keys.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ssaplan.core.store import Base


class Country(Base):
    """A country or territory of ISO 3166-1 (plus Kosovo, XKX) with its regional homes."""

    __tablename__ = "countries"

    iso3: Mapped[str] = mapped_column(String(3), primary_key=True)
    iso2: Mapped[str] = mapped_column(String(2), default="")
    numeric: Mapped[str] = mapped_column(String(3), default="")
    name: Mapped[str] = mapped_column(String(120))
    official_name: Mapped[str] = mapped_column(String(200), default="")
    bureau: Mapped[str | None] = mapped_column(String(16), nullable=True)
    combatant_command: Mapped[str | None] = mapped_column(String(16), nullable=True)
    un_region: Mapped[str | None] = mapped_column(String(64), nullable=True)
    un_subregion: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    sovereign_iso3: Mapped[str | None] = mapped_column(String(3), nullable=True)


class Region(Base):
    """A grouping of countries: a State regional bureau, a combatant command, a UN
    region or sub-region, or a regional organization or alliance."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(Text, default="")


class CountryRegion(Base):
    """Membership of a country in a region (any kind), for region filters and roll-ups."""

    __tablename__ = "country_regions"

    iso3: Mapped[str] = mapped_column(ForeignKey("countries.iso3"), primary_key=True)
    region_code: Mapped[str] = mapped_column(
        ForeignKey("regions.code"), primary_key=True, index=True
    )


class Agency(Base):
    """A U.S. government agency, or one of its bureaus or offices (``parent_id`` set)."""

    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))


class Account(Base):
    """A funding account or legal authority from which assistance is paid (FMF, 10 U.S.C. 333)."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    authority: Mapped[str] = mapped_column(Text, default="")
    availability_years: Mapped[int] = mapped_column(Integer, default=1)


class InstitutionType(Base):
    """A kind of security sector institution the policy names (armed forces, police, ...)."""

    __tablename__ = "institution_types"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class Level(Base):
    """The level at which an institution operates: international to sub-national."""

    __tablename__ = "levels"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class Purpose(Base):
    """One of the policy's three purposes of security sector assistance."""

    __tablename__ = "purposes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Objective(Base):
    """A node of the goal tree: a goal (``G1``) or one of its objectives (``G1.1``)."""

    __tablename__ = "objectives"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    goal_id: Mapped[str | None] = mapped_column(ForeignKey("objectives.id"), nullable=True)
    name: Mapped[str] = mapped_column(Text)


class DacCode(Base):
    """An OECD DAC 5-digit purpose code (IATI Sector codelist, vocabulary 1)."""

    __tablename__ = "dac_codes"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Marking(Base):
    """A classification or control marking, and whether it may be released publicly."""

    __tablename__ = "markings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    releasable: Mapped[bool] = mapped_column(Boolean, default=False)
    # A marking's rank (U < SBU < CUI) lives in markings.csv and the catalog only: the
    # visibility filter turns a ceiling into the list of marking ids at or below it.


class Marked:
    """Columns for a record that carries its own marking and releasable-to list (the
    rule is in :mod:`ssaplan.portfolio.visibility`; a record's children inherit it).

    Mix it into a mapped class; its migration adds the two columns with the same server
    defaults (``U`` and ``""``) so existing rows read as unmarked.
    """

    marking: Mapped[str] = mapped_column(ForeignKey("markings.id"), default="U", server_default="U")
    # Stored ";GBR;NATO;" ("" for none): see visibility.encode.
    releasable_to: Mapped[str] = mapped_column(String(400), default="", server_default="")
