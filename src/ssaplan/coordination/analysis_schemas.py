"""Shapes of the donor, gap and regional analyses as the API and ``--json`` show them.

Dollars are whole U.S. dollars; shares are fractions in [0, 1]; codes come with the
names people read (``*_name``).
"""

from __future__ import annotations

from pydantic import BaseModel

from ssaplan.coordination.schemas import PairPublic

FigureValue = float | int | str | bool | list[str] | None


class FlowsNote(BaseModel):
    """Which money the analysis counts and what it left out."""

    basis: str
    basis_label: str
    vocabulary: str
    years: list[int]
    us: str
    us_name: str
    transactions: int
    left_out: dict[str, int]
    rules: list[str]


class DonorTotal(BaseModel):
    """One donor's money in the analysis and its share of everyone's."""

    donor: str
    name: str
    usd: int
    share: float
    us: bool


class MatrixCell(BaseModel):
    """Donor x partner x sector: dollars and the donor's share of the partner x sector."""

    donor: str
    partner: str
    sector: str
    usd: int
    share: float


class FragmentationOut(BaseModel):
    """How concentrated a partner's money is (``sector`` null: all sectors)."""

    partner: str
    partner_name: str
    sector: str | None
    sector_name: str | None
    usd: int
    donors: int
    hhi: float
    effective_donors: float
    largest_donor: str | None
    largest_donor_name: str | None
    largest_share: float
    non_significant: int | None


class AdvantageOut(BaseModel):
    """A donor's revealed comparative advantage in a sector (Balassa: > 1 specialises)."""

    donor: str
    donor_name: str
    sector: str
    sector_name: str
    rca: float
    share_of_sector: float
    share_overall: float


class LeadDonorOut(BaseModel):
    """The donor suggested to lead a sector in a partner, and by which rule."""

    partner: str
    sector: str
    sector_name: str
    donor: str
    donor_name: str
    share: float
    rca: float | None
    has_advantage: bool
    rule: str
    donors: int


class DonorRoleOut(BaseModel):
    """A donor's proposed place in a partner: focus sectors, sectors it leads, sectors
    to hand over (delegated cooperation or exit)."""

    donor: str
    donor_name: str
    focus: list[str]
    leads: list[str]
    hand_over: list[str]


class DivisionOut(BaseModel):
    """A proposed division of labour in one partner."""

    partner: str
    partner_name: str
    leads: dict[str, str]
    roles: list[DonorRoleOut]
    crowded_sectors: list[str]


class BurdenRow(BaseModel):
    """Our money against everyone else's in one group and year."""

    by: str
    group: str
    group_name: str
    year: int
    ours_usd: int
    others_usd: int
    our_share: float


class YearShare(BaseModel):
    """Our money against everyone else's in one year (all groups)."""

    year: int
    ours_usd: int
    others_usd: int
    our_share: float


class OurShare(BaseModel):
    """Our share of all donors' money, in all and by year."""

    ours_usd: int
    others_usd: int
    our_share: float
    by_year: list[YearShare]


class SectorTotal(BaseModel):
    """A sector's money in the analysis."""

    sector: str
    name: str
    usd: int


class PartnerTotal(BaseModel):
    """A partner's money from every donor, its donors and concentration."""

    partner: str
    name: str
    usd: int
    donors: int
    hhi: float
    our_share: float


class DonorOverview(BaseModel):
    """The donor x partner x sector picture across every partner."""

    note: FlowsNote
    donors: list[DonorTotal]
    partners: list[PartnerTotal]
    sectors: list[SectorTotal]
    cells: list[MatrixCell]
    fragmentation: list[FragmentationOut]
    comparative_advantage: list[AdvantageOut]
    lead_donors: list[LeadDonorOut]
    negative_cells: int


class BurdenSharing(BaseModel):
    """Burden sharing by partner, region (of one kind) or sector, over time."""

    note: FlowsNote
    by: str
    kind: str | None
    rows: list[BurdenRow]
    by_year: list[YearShare]
    overlapping: bool


class GapOut(BaseModel):
    """One gap: its kind, subject (with the name people read), partner, reason, figures."""

    kind: str
    subject: str
    subject_name: str
    partner: str | None
    partner_name: str | None
    reason: str
    figures: dict[str, FigureValue]


class GapReport(BaseModel):
    """Every gap kind, with the rules that produced it."""

    as_of: str
    horizon: str
    months: int
    objective_source: str
    assessment: int | None
    unfunded_objectives: list[GapOut]
    expiring_coverage: list[GapOut]
    neglected_partners: list[GapOut]
    uncovered_cells: list[GapOut]
    rules: list[str]


class PartnerRef(BaseModel):
    code: str
    name: str
    kind: str


class PartnerPicture(BaseModel):
    """One partner's donor picture: the contract of ``ssaplan coordinate --partner``."""

    partner: PartnerRef
    note: FlowsNote
    usd: int
    donors: list[DonorTotal]
    sectors: list[SectorTotal]
    cells: list[MatrixCell]
    fragmentation: FragmentationOut | None
    sector_fragmentation: list[FragmentationOut]
    comparative_advantage: list[AdvantageOut]
    lead_donors: list[LeadDonorOut]
    division_of_labour: DivisionOut | None
    our_share: OurShare
    gaps: list[GapOut]
    overlaps: list[PairPublic]


class RollupRow(BaseModel):
    """One region's money (whole dollars) and how many programs have money there."""

    code: str
    name: str
    planned: int
    obligated: int
    disbursed: int
    programs: int
    direct_planned: int = 0  # organizations: money to the organization as a whole


class Reconciliation(BaseModel):
    """How overlapping organization rows add up to the total: the sum of the rows, less
    the money counted in more than one organization, plus the money in none."""

    rows_planned: int
    counted_again_planned: int
    outside_planned: int
    total_planned: int


class RegionalRollup(BaseModel):
    """Money by regional bureau, combatant command or regional organization."""

    kind: str
    total_planned: int
    total_obligated: int
    total_disbursed: int
    rows: list[RollupRow]
    sums_to_total: bool
    reconciliation: Reconciliation | None
    rules: list[str]


class CrossBorderProgram(BaseModel):
    """A program with several partner countries or a regional partner."""

    id: str
    title: str
    agency: str
    agency_name: str
    partners: list[str]
    partner_names: list[str]
    bureaus: list[str]
    planned: int


class PartnerLink(BaseModel):
    """Two partner countries linked by programs they share."""

    a: str
    a_name: str
    b: str
    b_name: str
    programs: int
    planned: int
    program_ids: list[str]


class RegionalView(BaseModel):
    """Roll-ups, cross-border programs and partners linked by shared programs."""

    kind: str
    region: str | None
    region_name: str | None
    rollup: RegionalRollup
    cross_border: list[CrossBorderProgram]
    links: list[PartnerLink]
    countries: dict[str, int]
