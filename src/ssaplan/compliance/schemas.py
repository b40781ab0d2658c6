"""Shapes of compliance records as they cross the API and the CLI.

``XCreate`` / ``XUpdate`` come in (unknown fields refused, every field bounded), ``XPublic``
goes out, lists are ``Page[XPublic]``. Codes (countries, accounts, unit types) arrive as
strings and are resolved by the service against the reference catalog, so display names
work as well as ids. In an update, a field left out is unchanged; ``null`` clears it
where that means something (an end date: open-ended again).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ssaplan.core.schemas import Page, StrictModel
from ssaplan.portfolio.schemas import MarkingCode, ReleasableTo, Withheld

MAX_TEXT = 8_000
MAX_CITATION = 2_000
MAX_LIST = 100
MAX_VALIDITY_DAYS = 3_650  # ten years: anything longer is a typo for a number of days

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
AccountCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Identifier = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$"
    ),
]
Flag = Identifier
DacCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{5}$")]
Citation = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CITATION)
]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)]
RequiredText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Individual = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$"
    ),
]
ProgramCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=200,
        pattern=r"^[^\s\x00-\x1f][^\x00-\x1f]*$",
    ),
]
Version = Annotated[int, Field(ge=1, description="the version you read; a stale one is refused")]
FiscalYear = Annotated[int, Field(ge=1990, le=2100)]
ValidityDays = Annotated[int, Field(ge=1, le=MAX_VALIDITY_DAYS)]
Status = Literal["pending", "approved", "suspended", "denied"]
Recipient = Literal["government", "non_government"]
RuleRecipients = Literal["government", "non_government", "any"]


# -- restrictions ------------------------------------------------------------------------
class WaiverIn(StrictModel):
    """A waiver of the restriction for some accounts over a period (empty end: as long as
    the restriction)."""

    accounts: Annotated[list[AccountCode], Field(min_length=1, max_length=MAX_LIST)]
    start: date
    end: date | None = None
    citation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_CITATION)] = ""


class WaiverPublic(BaseModel):
    """A recorded waiver: the accounts it covers, its period and its determination."""

    id: int
    accounts: list[str]
    start: date
    end: date | None
    citation: str


class RestrictionCreate(StrictModel):
    """A statutory restriction on a country over a period (empty end: open-ended)."""

    country: Code = Field(description="ISO alpha-3, alpha-2 or name")
    type: Identifier = Field(description="restriction type id, e.g. coup, child_soldiers")
    start: date
    end: date | None = None
    citation: Citation
    source_document: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=MAX_CITATION)
    ] = ""
    waivers: Annotated[list[WaiverIn], Field(max_length=MAX_LIST)] = []
    marking: MarkingCode | None = None
    releasable_to: ReleasableTo | None = None


class RestrictionUpdate(StrictModel):
    """Changes to a restriction; ``waivers`` replaces the list whole; ``end: null`` makes it
    open-ended again. ``version`` must be the version you read."""

    country: Code | None = None
    type: Identifier | None = None
    start: date | None = None
    end: date | None = None
    citation: Citation | None = None
    source_document: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_CITATION)] | None
    ) = None
    waivers: Annotated[list[WaiverIn], Field(max_length=MAX_LIST)] | None = None
    marking: MarkingCode | None = None
    releasable_to: ReleasableTo | None = None
    version: Version


class RestrictionPublic(BaseModel):
    """A restriction with its waivers; ``in_force`` says whether it is in force today."""

    id: int
    country: str
    country_name: str
    type: str
    type_name: str
    start: date
    end: date | None
    citation: str
    source_document: str
    waivers: list[WaiverPublic]
    in_force: bool
    marking: str = "U"
    releasable_to: list[str] = Field(default_factory=list)
    version: int
    created_at: datetime
    updated_at: datetime


class RestrictionList(Page[RestrictionPublic]):
    """Restrictions the reader may read; ``withheld`` counts those the filter matched
    but the reader may not read (eligibility is still judged on them)."""

    withheld: Withheld = Field(default_factory=lambda: Withheld())


class ProgramsReachedPublic(BaseModel):
    """The programs whose findings a restriction changes (the monitoring review trigger)."""

    restriction: int
    from_fiscal_year: int
    programs: list[str]


class ImportWarning(BaseModel):
    """Something in an imported file that did not stop the import."""

    loc: list[str | int]
    msg: str


class RestrictionsImportPublic(BaseModel):
    """What an import of a restrictions CSV did, all or nothing."""

    file: str
    rows: int
    created: list[int]
    updated: list[int]
    unchanged: list[int]
    warnings: list[ImportWarning]
    affected_programs: dict[str, list[str]] = Field(
        description="by restriction id: the programs whose findings the change touches"
    )


# -- rules -----------------------------------------------------------------------------------
class RuleExceptionIn(StrictModel):
    """Assistance a rule does not reach, recognized by DAC purpose code or program flag."""

    id: Identifier
    summary: RequiredText
    citation: Citation
    dac_codes: Annotated[list[DacCode], Field(max_length=MAX_LIST)] = []
    flags: Annotated[list[Flag], Field(max_length=MAX_LIST)] = []
    accounts: Annotated[list[AccountCode], Field(max_length=MAX_LIST)] = []


class RuleExceptionPublic(BaseModel):
    """An exception of a rule."""

    id: str
    summary: str
    citation: str
    dac_codes: list[str]
    flags: list[str]
    accounts: list[str]


class RuleCreate(StrictModel):
    """A new rule: which accounts a restriction type blocks, for whom, its exceptions and
    its waiver authority (only when ``waivable``)."""

    id: Identifier
    restriction_type: Identifier
    summary: RequiredText = Field(description="what the rule does, in plain language")
    citation: Citation
    blocks_accounts: Annotated[list[AccountCode], Field(min_length=1, max_length=MAX_LIST)] = Field(
        description='account ids, or ["*"] for every account'
    )
    blocks_purposes: Annotated[list[Identifier], Field(max_length=MAX_LIST)] = []
    recipients: RuleRecipients
    waivable: bool
    waiver: OptionalText = ""
    note: OptionalText = ""
    exceptions: Annotated[list[RuleExceptionIn], Field(max_length=MAX_LIST)] = []


class RuleUpdate(StrictModel):
    """Changes to a rule (``exceptions`` replaces the list whole); ``version`` must be the
    version you read. The whole rule set is checked before anything is saved."""

    restriction_type: Identifier | None = None
    summary: RequiredText | None = None
    citation: Citation | None = None
    blocks_accounts: (
        Annotated[list[AccountCode], Field(min_length=1, max_length=MAX_LIST)] | None
    ) = None
    blocks_purposes: Annotated[list[Identifier], Field(max_length=MAX_LIST)] | None = None
    recipients: RuleRecipients | None = None
    waivable: bool | None = None
    waiver: OptionalText | None = None
    note: OptionalText | None = None
    exceptions: Annotated[list[RuleExceptionIn], Field(max_length=MAX_LIST)] | None = None
    version: Version


class RulePublic(BaseModel):
    """A rule in force. ``updated_at`` is null while the shipped defaults are in use
    unchanged (they are stored at the first change)."""

    id: str
    restriction_type: str
    restriction_type_name: str
    summary: str
    citation: str
    blocks_accounts: list[str]
    blocks_purposes: list[str]
    recipients: str
    waivable: bool
    waiver: str
    note: str
    exceptions: list[RuleExceptionPublic]
    position: int
    version: int
    updated_at: datetime | None
    updated_by: str


class RestrictionTypeCreate(StrictModel):
    """A new kind of restriction the rules can name."""

    id: Identifier
    name: Name
    description: OptionalText = ""


class RestrictionTypeUpdate(StrictModel):
    name: Name | None = None
    description: OptionalText | None = None
    version: Version


class RestrictionTypePublic(BaseModel):
    """A kind of restriction, with the ids of the rules that say what it blocks."""

    id: str
    name: str
    description: str
    rules: list[str]
    version: int


class RulesImportPublic(BaseModel):
    """What importing a rules file did (the file replaces the rules whole)."""

    file: str
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    deleted: list[str]


# -- units and vetting -------------------------------------------------------------------------
class UnitCreate(StrictModel):
    """A unit of a foreign security force."""

    name: Name
    country: Code
    type: Code = Field(description="institution type of the taxonomy, e.g. armed_forces, police")
    parent: int | None = Field(None, ge=1, description="id of the unit it belongs to")


class UnitUpdate(StrictModel):
    """Changes to a unit (its country cannot change: register a new unit)."""

    name: Name | None = None
    type: Code | None = None
    parent: int | None = Field(None, ge=1)
    version: Version


class UnitPublic(BaseModel):
    """A registered unit of a foreign security force."""

    id: int
    name: str
    country: str
    country_name: str
    type: str
    type_name: str
    parent: int | None
    parent_name: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class VettingCreate(StrictModel):
    """A vetting request for a unit or an individual (one of them), for the program that
    would assist them; a decision may be recorded at once."""

    unit: int | None = Field(None, ge=1)
    individual: Individual | None = Field(None, description="the person's name or identifier")
    program: ProgramCode = Field(description="id of the program that would assist them")
    requested: date | None = Field(
        None, description="default: the decision day when one is given, else today"
    )
    status: Status = "pending"
    decided: date | None = None
    validity_days: ValidityDays | None = Field(
        None, description="how long an approval is valid (default: the setting, 365)"
    )
    note: OptionalText = ""
    marking: MarkingCode | None = None
    releasable_to: ReleasableTo | None = None


class VettingUpdate(StrictModel):
    """A decision on a request (or a change of it): status and the day it was decided."""

    status: Status | None = None
    decided: date | None = None
    validity_days: ValidityDays | None = None
    note: OptionalText | None = None
    marking: MarkingCode | None = None
    releasable_to: ReleasableTo | None = None
    version: Version


class VettingPublic(BaseModel):
    """A vetting request and its decision; an approval is valid through ``valid_through``."""

    id: int
    subject_kind: str
    unit: int | None
    unit_name: str | None
    country: str | None
    individual: str | None
    program: str | None
    status: str
    requested: date
    decided: date | None
    validity_days: int
    valid_through: date | None
    note: str
    marking: str = "U"
    releasable_to: list[str] = Field(default_factory=list)
    version: int
    created_at: datetime
    updated_at: datetime


class VettingList(Page[VettingPublic]):
    """Vetting records the reader may read; ``withheld`` counts those the filter matched
    but the reader may not read."""

    withheld: Withheld = Field(default_factory=lambda: Withheld())


class CredibleCreate(StrictModel):
    """Credible information that a unit committed a gross violation of human rights."""

    unit: int = Field(ge=1)
    reported: date
    description: RequiredText
    source: OptionalText = ""


class CredibleUpdate(StrictModel):
    """Changes to a credible-information record; recording ``remediated_on`` (the
    government's corrective steps) needs ``compliance:manage``."""

    description: RequiredText | None = None
    source: OptionalText | None = None
    remediated_on: date | None = None
    remediation: OptionalText | None = None
    version: Version


class CrediblePublic(BaseModel):
    """A credible-information record; ``open`` while it bars assistance today."""

    id: int
    unit: int
    unit_name: str
    country: str
    reported: date
    description: str
    source: str
    remediated_on: date | None
    remediation: str
    open: bool
    version: int
    created_at: datetime
    updated_at: datetime


class AssistanceCreate(StrictModel):
    """A unit or an individual (one of them) that the program assists."""

    unit: int | None = Field(None, ge=1)
    individual: Individual | None = None


class AssistancePublic(BaseModel):
    """A unit or individual a program assists."""

    id: int
    program: str
    subject_kind: str
    unit: int | None
    unit_name: str | None
    country: str | None
    individual: str | None
    created_at: datetime
    created_by: str


class ProgramFactsUpdate(StrictModel):
    """The legal facts of a program. ``version`` is 0 while none are recorded."""

    recipient: Recipient | None = None
    flags: Annotated[list[Flag], Field(max_length=MAX_LIST)] | None = None
    note: OptionalText | None = None
    version: Annotated[int, Field(ge=0)]


class ProgramFactsPublic(BaseModel):
    """Whom a program's assistance goes to and the flags the rules' exceptions recognize."""

    program: str
    recipient: str
    flags: list[str]
    note: str
    version: int
    updated_at: datetime | None
    updated_by: str


class SettingsPublic(BaseModel):
    """Compliance settings: the default validity of an approval, the expiry-alert window."""

    validity_days: int
    alert_days: int


class SettingsUpdate(StrictModel):
    validity_days: ValidityDays | None = None
    alert_days: Annotated[int, Field(ge=1, le=365)] | None = None


# -- eligibility ---------------------------------------------------------------------------
class ReasonPublic(BaseModel):
    """One finding: which rule, under what law, what it did (``effect``: blocks, waived,
    excepted, not_applicable, no_rule, vetted)."""

    rule: str
    citation: str
    text: str
    effect: str
    country: str | None


class EligibilityPublic(BaseModel):
    """One program-year, judged per account that funds it, with every reason."""

    id: str
    title: str
    fiscal_year: int
    eligible: bool
    accounts: list[str]
    planned: int
    reasons: list[ReasonPublic]


class CheckReason(BaseModel):
    rule: str
    citation: str
    text: str


class CheckProgram(BaseModel):
    id: str
    fiscal_year: int
    eligible: bool
    reasons: list[CheckReason]


class CheckReport(BaseModel):
    """The answer of ``ssaplan comply check --json``."""

    programs: list[CheckProgram]


class VettingStatePublic(BaseModel):
    """Whether a unit or individual may receive the program's assistance on a day."""

    subject_kind: str
    unit: int | None
    unit_name: str | None
    individual: str | None
    status: str
    cleared: bool
    valid_through: date | None
    text: str


class ProgramCompliancePublic(BaseModel):
    """A program's eligibility panel: its facts, every fiscal year judged, its subjects."""

    id: str
    title: str
    as_of: date
    facts: ProgramFactsPublic
    years: list[EligibilityPublic]
    assisted: list[VettingStatePublic]


class BlockedCellPublic(BaseModel):
    country: str
    account: str
    fiscal_year: int


class BlockedCellsPublic(BaseModel):
    """Cells (country, account, fiscal year) no money may go to, for the optimizer."""

    fiscal_years: list[int]
    cells: list[BlockedCellPublic]


class ExpiringPublic(BaseModel):
    """An approval valid today that lapses within the alert window."""

    vetting: VettingPublic
    expires_on: date
    days_left: int


class ProgramRef(BaseModel):
    """A program named: its id and its title."""

    id: str
    title: str


class AssistedUnitPublic(BaseModel):
    """A unit on the assisted-units list, the programs that assist it and its vetting state."""

    unit: int | None
    name: str
    type: str
    type_name: str
    parent_name: str | None
    programs: list[ProgramRef]
    status: str
    cleared: bool
    text: str


class AssistedCountryPublic(BaseModel):
    """The current list of units assisted in one country (22 U.S.C. 2378d)."""

    country: str
    name: str
    fiscal_year: int
    units: list[AssistedUnitPublic]
