"""Tables of the compliance domain: restrictions and waivers, the rules, security-force
units, vetting requests, credible information, and the legal facts of programs.

The pure core (``inputs``, ``rules``, ``vetting``, ``engine``) judges plain dataclasses;
the service builds them from these rows. Dates are inclusive and stored as dates; an
empty end date means open-ended.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssaplan.core.store import Base, UTCDateTime, utcnow
from ssaplan.portfolio import models as _portfolio  # noqa: F401  (tables our foreign keys name)
from ssaplan.reference import models as _reference  # noqa: F401  (tables our foreign keys name)
from ssaplan.reference.models import Marked

VETTING_STATUSES = ("pending", "approved", "suspended", "denied")
SUBJECT_KINDS = ("unit", "individual")
RECIPIENTS = ("government", "non_government")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ('" + "','".join(values) + "')"


class RestrictionType(Base):
    """A kind of statutory country restriction the rules know: a military coup (Sec.
    7008), the Child Soldiers Prevention Act list, Trafficking in Persons Tier 3, a
    State Sponsor of Terrorism designation. Loaded with the rules; admins may add one."""

    __tablename__ = "compliance_restriction_types"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class ComplianceRule(Base):
    """One statutory rule, as data: which accounts (and purposes) a restriction type
    blocks, for which recipients, with which exceptions, and who may waive it — with its
    legal citation and a plain-language summary. The shipped defaults
    (``data/default_rules.toml``) are loaded on first use; admins edit them, each edit
    checked against the whole rule set and versioned (a stale edit is refused)."""

    __tablename__ = "compliance_rules"
    __table_args__ = (
        CheckConstraint("recipients IN ('government','non_government','any')", "recipients_known"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    restriction_type: Mapped[str] = mapped_column(
        ForeignKey("compliance_restriction_types.id"), index=True
    )
    summary: Mapped[str] = mapped_column(Text)
    citation: Mapped[str] = mapped_column(Text)
    blocks_accounts: Mapped[list[str]] = mapped_column(JSON)
    blocks_purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    recipients: Mapped[str] = mapped_column(String(16))
    waivable: Mapped[bool] = mapped_column(Boolean)
    waiver: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # [{"id", "summary", "citation", "dac_codes": [...], "flags": [...], "accounts": [...]}]
    exceptions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class Restriction(Marked, Base):
    """A statutory restriction on assistance to one country over a period: e.g. Mali
    under the coup restriction from 2020-08-18 (open-ended), or Iran designated a State
    Sponsor of Terrorism since 1984-01-19, with its legal citation and the document it
    was recorded from. Periods of one country and type never overlap.

    Its marking and releasable-to list (its waivers inherit them) limit who may *read*
    the record; eligibility is judged on every restriction whoever asks (docs/markings.md)."""

    __tablename__ = "compliance_restrictions"
    __table_args__ = (
        UniqueConstraint("country", "type", "start_date", name="uq_compliance_restrictions_key"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    country: Mapped[str] = mapped_column(ForeignKey("countries.iso3"), index=True)
    type: Mapped[str] = mapped_column(ForeignKey("compliance_restriction_types.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    citation: Mapped[str] = mapped_column(Text)
    source_document: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    waivers: Mapped[list[Waiver]] = relationship(
        cascade="all, delete-orphan", order_by="(Waiver.start_date, Waiver.id)", lazy="selectin"
    )


class Waiver(Base):
    """A recorded waiver of a restriction for some funding accounts over a period (e.g. a
    Sec. 7008(b) national-security waiver for FMF and IMET), citing its determination."""

    __tablename__ = "compliance_waivers"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    restriction_id: Mapped[int] = mapped_column(
        ForeignKey("compliance_restrictions.id", ondelete="CASCADE"), index=True
    )
    accounts: Mapped[list[str]] = mapped_column(JSON)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    citation: Mapped[str] = mapped_column(Text, default="")


class SecurityUnit(Base):
    """A unit of a foreign security force that U.S. assistance may reach (a battalion, a
    police directorate, a coast-guard station), with the unit it belongs to. The Leahy
    laws vet units, and State keeps the list of the units assisted in each country."""

    __tablename__ = "compliance_units"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(ForeignKey("countries.iso3"), index=True)
    type: Mapped[str] = mapped_column(ForeignKey("institution_types.id"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("compliance_units.id"), nullable=True, index=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VettingRequest(Marked, Base):
    """A human-rights (Leahy) vetting request for a unit or an individual, made for the
    program that would assist them, and its decision: pending, approved (valid for
    ``validity_days`` from the decision day, default 12 months), suspended or denied.

    If the program is deleted the record stays, without its program (the law's record
    outlives the plan). Its marking and releasable-to list limit who may read it; the
    eligibility it feeds is judged on every record (docs/markings.md)."""

    __tablename__ = "compliance_vetting_requests"
    __table_args__ = (
        CheckConstraint(_in("status", VETTING_STATUSES), name="status_known"),
        CheckConstraint(_in("subject_kind", SUBJECT_KINDS), name="subject_kind_known"),
        CheckConstraint(
            "(subject_kind = 'unit' AND unit_id IS NOT NULL AND individual IS NULL) OR "
            "(subject_kind = 'individual' AND unit_id IS NULL AND individual IS NOT NULL)",
            name="one_subject",
        ),
        CheckConstraint(
            "(status = 'pending' AND decided IS NULL) OR "
            "(status <> 'pending' AND decided IS NOT NULL AND decided >= requested)",
            name="decision_dated",
        ),
        CheckConstraint("validity_days BETWEEN 1 AND 3650", name="validity_range"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("compliance_units.id"), nullable=True, index=True
    )
    individual: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    program_id: Mapped[int | None] = mapped_column(
        ForeignKey("programs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested: Mapped[date] = mapped_column(Date)
    decided: Mapped[date | None] = mapped_column(Date, nullable=True)
    validity_days: Mapped[int] = mapped_column(Integer, default=365)
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CredibleInformation(Base):
    """Credible information that a unit committed a gross violation of human rights. It
    bars assistance to the unit from the day it is reported until remediation — the
    government's effective (2378d) or corrective (362) steps — is recorded."""

    __tablename__ = "compliance_credible_information"
    __table_args__ = (
        CheckConstraint(
            "remediated_on IS NULL OR remediated_on >= reported", name="remediation_after_report"
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("compliance_units.id"), index=True)
    reported: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, default="")
    remediated_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    remediation: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProgramAssistance(Base):
    """A unit or an individual that a program assists (or would assist): the subjects its
    eligibility requires to be vetted, and the rows of the assisted-units list. A vetting
    request adds one; removing it leaves the vetting records in place."""

    __tablename__ = "compliance_program_assistance"
    __table_args__ = (
        UniqueConstraint("program_id", "unit_id", name="uq_compliance_program_assistance_unit"),
        UniqueConstraint(
            "program_id", "individual", name="uq_compliance_program_assistance_individual"
        ),
        CheckConstraint(_in("subject_kind", SUBJECT_KINDS), name="subject_kind_known"),
        CheckConstraint(
            "(subject_kind = 'unit' AND unit_id IS NOT NULL AND individual IS NULL) OR "
            "(subject_kind = 'individual' AND unit_id IS NULL AND individual IS NOT NULL)",
            name="one_subject",
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    subject_kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("compliance_units.id"), nullable=True, index=True
    )
    individual: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")


class ProgramCompliance(Base):
    """The legal facts about a program that no portfolio field records: whether its
    assistance goes to the partner government or to a non-government recipient, and
    flags such as ``democracy_assistance`` or ``cspa_certified_professionalization``
    (a certification covers it) that the rules' exceptions recognize."""

    __tablename__ = "compliance_program_facts"
    __table_args__ = (CheckConstraint(_in("recipient", RECIPIENTS), name="recipient_known"),)

    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True
    )
    recipient: Mapped[str] = mapped_column(String(16), default="government")
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
