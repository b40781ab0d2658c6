"""Other donors' activities as they publish them in IATI, published U.S. aggregates, and
the overlap review: stored runs of overlap detection, their pairs, and reviewers' marks.

Donor activities are stored as published: codes stay as the publisher wrote them
(normalized from IATI 1.x names to 2.x codes where the standard defines a mapping),
amounts keep their original value and currency, and ``usd`` holds whole U.S. dollars at
the value date when the bundled rate table has a rate. Child rows are keyed by the
activity's IATI identifier and a sequence number, so a re-import replaces an activity
whole and never duplicates it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, synonym

from ssaplan.core.store import Base, UTCDateTime, utcnow
from ssaplan.reference.models import Marked

IDENTIFIER_LEN = 250
# A stable reference to one side of a pair: "program:<surrogate id>" (follows renames) or
# "donor:<IATI identifier>".
REF_LEN = IDENTIFIER_LEN + 10
MARK_VALUES = ("confirmed", "complementary", "dismissed")


def _activity_fk() -> Any:
    return ForeignKey("donor_activities.identifier", ondelete="CASCADE")


class DonorActivity(Marked, Base):
    """An aid activity another donor (or a U.S. agency) published in IATI: one project,
    programme or contribution as the publisher describes it, for coordination and
    division-of-labour analysis. It is not a program of the shared portfolio.

    ``identifier`` is the publisher's IATI identifier (the key: re-importing updates).
    Activities published without one get ``anonymous:<hash of the activity's XML>``.
    ``titles`` maps language codes to the title; ``descriptions`` is a list of
    ``{"type", "lang", "text"}``; ``default_language`` says which language is the default.

    Its marking and releasable-to list (its child rows inherit them) limit who may see
    it, and every figure the coordination analyses give a reader counts only the
    activities that reader may see (docs/markings.md).
    """

    __tablename__ = "donor_activities"

    identifier: Mapped[str] = mapped_column(String(IDENTIFIER_LEN), primary_key=True)
    reporting_org_ref: Mapped[str | None] = mapped_column(String(200), index=True)
    reporting_org_type: Mapped[str | None] = mapped_column(String(20))
    reporting_org_name: Mapped[str] = mapped_column(String(500), default="")
    title: Mapped[str] = mapped_column(String(500), default="")
    titles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    descriptions: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    default_language: Mapped[str | None] = mapped_column(String(20))
    default_currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str | None] = mapped_column(String(20))
    planned_start: Mapped[date | None] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    humanitarian: Mapped[bool | None] = mapped_column(Boolean)
    default_aid_type: Mapped[str | None] = mapped_column(String(20))
    default_finance_type: Mapped[str | None] = mapped_column(String(20))
    default_flow_type: Mapped[str | None] = mapped_column(String(20))
    iati_version: Mapped[str] = mapped_column(String(24))
    source_file: Mapped[str] = mapped_column(String(300))
    source_line: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported_by: Mapped[str] = mapped_column(String(64))
    # The marking rule counts withheld records by ``id`` (visibility.withheld).
    id: Mapped[str] = synonym("identifier")


class DonorParticipatingOrg(Base):
    """An organisation taking part in a donor activity, in a role (1 funding,
    2 accountable, 3 extending, 4 implementing; other roles kept as published)."""

    __tablename__ = "donor_participating_orgs"

    activity_id: Mapped[str] = mapped_column(_activity_fk(), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str | None] = mapped_column(String(60))
    ref: Mapped[str | None] = mapped_column(String(200), index=True)
    type: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(500), default="")


class DonorRecipientCountry(Base):
    """A country a donor activity benefits, with its share. ``code`` is as published;
    ``iso3`` is set when the code (or, without a code, the name) is a known country."""

    __tablename__ = "donor_recipient_countries"

    activity_id: Mapped[str] = mapped_column(_activity_fk(), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), default="")
    iso3: Mapped[str | None] = mapped_column(String(3), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    percentage: Mapped[float | None] = mapped_column(Float)


class DonorRecipientRegion(Base):
    """A region a donor activity benefits (OECD DAC region codes by default)."""

    __tablename__ = "donor_recipient_regions"

    activity_id: Mapped[str] = mapped_column(_activity_fk(), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), default="")
    vocabulary: Mapped[str] = mapped_column(String(20), default="1")
    percentage: Mapped[float | None] = mapped_column(Float)


class DonorSector(Base):
    """A sector of a donor activity: code in a vocabulary (1 = DAC 5-digit purpose code,
    2 = DAC 3-digit category, ...) and its share of the activity. ``name`` is the
    published text (1.x publishers sometimes name a sector without a code)."""

    __tablename__ = "donor_sectors"

    activity_id: Mapped[str] = mapped_column(_activity_fk(), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    vocabulary: Mapped[str] = mapped_column(String(20), default="1", index=True)
    code: Mapped[str] = mapped_column(String(40), default="", index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    percentage: Mapped[float | None] = mapped_column(Float)


class DonorBudget(Base):
    """Money a donor plans for an activity over a period: a ``budget`` (type 1 original,
    2 revised) or a ``planned-disbursement``. ``amount`` is the published value as
    decimal text in ``currency``; ``usd`` is whole U.S. dollars at ``value_date``, or
    empty when the bundled rate table has no rate for the currency."""

    __tablename__ = "donor_budgets"

    activity_id: Mapped[str] = mapped_column(_activity_fk(), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    type: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(20))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[str] = mapped_column(String(48))
    currency: Mapped[str | None] = mapped_column(String(3))
    value_date: Mapped[date | None] = mapped_column(Date)
    usd: Mapped[int | None] = mapped_column(BigInteger)


class DonorTransaction(Base):
    """A financial transaction of a donor activity: commitment (2), disbursement (3),
    expenditure (4), incoming funds (1), ... (IATI 2.x codes; 1.x letters are mapped).
    Negative values are corrections and are kept as published."""

    __tablename__ = "donor_transactions"

    activity_id: Mapped[str] = mapped_column(_activity_fk(), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(20), index=True)
    transaction_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[str] = mapped_column(String(48))
    currency: Mapped[str | None] = mapped_column(String(3))
    value_date: Mapped[date | None] = mapped_column(Date)
    usd: Mapped[int | None] = mapped_column(BigInteger)
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    provider_name: Mapped[str] = mapped_column(String(500), default="")
    receiver_ref: Mapped[str | None] = mapped_column(String(200))
    receiver_name: Mapped[str] = mapped_column(String(500), default="")
    aid_type: Mapped[str | None] = mapped_column(String(20))
    finance_type: Mapped[str | None] = mapped_column(String(20))
    humanitarian: Mapped[bool | None] = mapped_column(Boolean)


class USAssistanceFigure(Base):
    """A published aggregate of U.S. foreign assistance: the U.S. row of the donor x
    partner matrix. One amount (whole dollars) for one partner country or region, one
    fiscal year, one measure (obligated, disbursed, requested, planned, ...) and, where
    the source breaks it down, one funding account.

    ``area`` and ``account`` keep the source's own labels; ``iso3`` and ``account_id``
    are set when they match the reference catalog. ``period`` is ``""`` for a fiscal
    year and ``"TQ"`` for the 1976 transition quarter.
    """

    __tablename__ = "us_assistance_figures"
    __table_args__ = (
        UniqueConstraint("source", "measure", "fiscal_year", "period", "area", "account"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    measure: Mapped[str] = mapped_column(String(40))
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    period: Mapped[str] = mapped_column(String(4), default="")
    area: Mapped[str] = mapped_column(String(200))
    iso3: Mapped[str | None] = mapped_column(String(3), index=True)
    account: Mapped[str] = mapped_column(String(100), default="")
    account_id: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[int] = mapped_column(BigInteger)
    source_file: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(Text, default="")


class OverlapMark(Base):
    """A reviewer's judgment on two efforts that overlap detection put side by side:
    ``confirmed`` (they duplicate each other), ``complementary`` (same partner and field,
    but different, coordinated work) or ``dismissed`` (not an overlap), with a note, by
    whom and when. Marks outlive runs: every later run reports the pair with its mark
    and never calls a dismissed pair likely.

    The two sides are kept by stable reference (``program:<id>``, which follows a
    program's renames, or ``donor:<IATI identifier>``) in sorted order, so a pair has at
    most one mark; ``first_code`` and ``second_code`` are the ids people saw when they
    marked it. ``version`` grows with every change (a stale update is refused).
    """

    __tablename__ = "overlap_marks"
    __table_args__ = (
        UniqueConstraint("first_ref", "second_ref", name="uq_overlap_marks_pair"),
        CheckConstraint("mark IN ('" + "','".join(MARK_VALUES) + "')", name="mark_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_ref: Mapped[str] = mapped_column(String(REF_LEN))
    second_ref: Mapped[str] = mapped_column(String(REF_LEN))
    first_code: Mapped[str] = mapped_column(String(IDENTIFIER_LEN))
    second_code: Mapped[str] = mapped_column(String(IDENTIFIER_LEN))
    mark: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    marked_by: Mapped[str] = mapped_column(String(64))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class OverlapRun(Base):
    """One run of overlap detection over the stored world (every program of the
    portfolio and every stored donor activity): when, by whom, with which settings,
    what it read (``inputs``: counts and latest change times, to tell when it is
    stale), what it skipped and why, and what it found. The pairs of the latest run
    are kept (:class:`OverlapPair`) so the review queue reads them instead of
    recomputing; older runs keep their figures only (``pairs_kept`` false)."""

    __tablename__ = "overlap_runs"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON)
    skipped: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    orphan_marks: Mapped[list[list[str]]] = mapped_column(JSON)
    activities: Mapped[int] = mapped_column(Integer, default=0)
    pairs: Mapped[int] = mapped_column(Integer, default=0)
    likely: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    pairs_kept: Mapped[bool] = mapped_column(Boolean, default=True)


class OverlapPair(Base):
    """A pair of efforts a run found alike enough to review: the two ids as the run
    saw them (program codes or IATI identifiers, ``a`` a program when one is), their
    stable references (``first_ref``/``second_ref`` sorted, to meet their mark), the
    score, whether it reached the run's ``likely`` threshold (``above``; a reviewer's
    dismissal overrides it when read), the reasons and components, and the titles and
    owners people read. ``seq`` orders a run's pairs best first."""

    __tablename__ = "overlap_pairs"
    __table_args__ = (Index("ix_overlap_pairs_refs", "first_ref", "second_ref"),)

    run_id: Mapped[int] = mapped_column(
        ForeignKey("overlap_runs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    a: Mapped[str] = mapped_column(String(IDENTIFIER_LEN))
    b: Mapped[str] = mapped_column(String(IDENTIFIER_LEN))
    first_ref: Mapped[str] = mapped_column(String(REF_LEN))
    second_ref: Mapped[str] = mapped_column(String(REF_LEN))
    a_first: Mapped[bool] = mapped_column(Boolean)  # whether ``a`` is ``first_ref``
    kind: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    above: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    components: Mapped[dict[str, Any]] = mapped_column(JSON)
    flags: Mapped[list[str]] = mapped_column(JSON)
    a_title: Mapped[str] = mapped_column(String(500), default="")
    b_title: Mapped[str] = mapped_column(String(500), default="")
    a_owner: Mapped[str] = mapped_column(String(200), default="")
    b_owner: Mapped[str] = mapped_column(String(200), default="")
    # " KEN SOM " (space-delimited, padded): the partners of either side, for filtering
    partners: Mapped[str] = mapped_column(Text, default="")
