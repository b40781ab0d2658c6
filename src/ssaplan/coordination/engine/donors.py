"""Donors' division of labour: who funds what where, how fragmented it is, who has a
comparative advantage, who could lead, and how the burden is shared.

Inputs are :class:`DonorFlow` rows (donor, partner ISO3, sector, year, dollars) that the
service derives from imported IATI transactions (and the U.S. rows from the portfolio
or published figures). Formulas and sources are in docs/coordination.md ("Donor
analytics"):

* **matrix**: amounts ``X[d, p, s]``; shares ``X[d, p, s] / Σ_d X[d, p, s]``;
* **fragmentation**: Herfindahl–Hirschman index ``HHI = Σ_d share_d²`` per partner and
  per partner × sector, with the effective number of donors ``1 / HHI`` (A. O.
  Hirschman, *National Power and the Structure of Foreign Trade*, 1945; applied to aid
  by Acharya, de Lima and Moore, "Proliferation and fragmentation", *J. Development
  Studies* 42(1), 2006), and the OECD count of non-significant relationships (OECD, *2011
  OECD Report on Division of Labour: Addressing Cross-country Fragmentation of Aid*);
* **revealed comparative advantage**: Balassa's index ``RCA[d, s] = (X[d, s] / X[s]) /
  (X[d] / X)`` (B. Balassa, "Trade liberalisation and 'revealed' comparative advantage",
  *The Manchester School* 33(2), 1965);
* **lead donor** and **division of labour** following the EU Code of Conduct on
  Complementarity and the Division of Labour in Development Policy (Council of the EU,
  2007): one lead donor per sector, at most three focus sectors per donor and partner,
  at most five active donors per sector.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ssaplan.core.errors import Detail, Invalid

SIGNIFICANT_CUMULATIVE = 0.9  # OECD: the donors that together give 90% of a partner's aid
MAX_DONORS_PER_SECTOR = 5  # EU Code of Conduct, principle 4 (3–5 active donors)


@dataclass(frozen=True)
class DonorFlow:
    """Money one donor gives one partner in one sector in one year (whole dollars).

    ``sector`` is a DAC purpose code, a DAC category or an institution type, as the
    caller chooses (one vocabulary per analysis). Negative amounts are corrections.
    """

    donor: str
    partner: str
    sector: str
    year: int
    usd: int | float


@dataclass(frozen=True)
class DonorMatrix:
    """Donor × partner × sector amounts in dollars (net of corrections, floored at 0).

    ``amounts[d, p, s]`` follows the order of ``donors``, ``partners``, ``sectors``.
    """

    donors: tuple[str, ...]
    partners: tuple[str, ...]
    sectors: tuple[str, ...]
    years: tuple[int, ...]
    amounts: np.ndarray
    negative_cells: int = 0

    def index(self, donor: str, partner: str, sector: str) -> tuple[int, int, int]:
        return (self.donors.index(donor), self.partners.index(partner), self.sectors.index(sector))

    def usd(self, donor: str, partner: str, sector: str) -> float:
        return float(self.amounts[self.index(donor, partner, sector)])

    @property
    def cell_shares(self) -> np.ndarray:
        """Each donor's share of its partner × sector cell (0 where the cell is empty)."""
        total = self.amounts.sum(axis=0, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, self.amounts / total, 0.0)

    @property
    def partner_shares(self) -> np.ndarray:
        """Donor × partner: each donor's share of the partner's total."""
        by_partner = self.amounts.sum(axis=2)
        total = by_partner.sum(axis=0, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, by_partner / total, 0.0)

    def as_dict(self) -> dict[str, Any]:
        shares = self.cell_shares
        cells = [
            {
                "donor": self.donors[d],
                "partner": self.partners[p],
                "sector": self.sectors[s],
                "usd": int(round(self.amounts[d, p, s])),
                "share": round(float(shares[d, p, s]), 4),
            }
            for d, p, s in zip(*np.nonzero(self.amounts > 0), strict=True)
        ]
        return {
            "donors": list(self.donors),
            "partners": list(self.partners),
            "sectors": list(self.sectors),
            "years": list(self.years),
            "cells": cells,
            "negative_cells": self.negative_cells,
        }


def donor_matrix(
    flows: Iterable[DonorFlow], *, years: Collection[int] | None = None
) -> DonorMatrix:
    """Sum flows into the donor × partner × sector matrix (optionally over some years).

    Cells whose corrections make them negative are set to 0 and counted in
    ``negative_cells``; flows with an empty donor, partner or sector are refused.
    """
    rows = [f for f in flows if years is None or f.year in years]
    bad = [
        Detail(("flows", k), "donor, partner and sector are required")
        for k, f in enumerate(rows)
        if not (f.donor and f.partner and f.sector)
    ]
    if bad:
        raise Invalid("incomplete donor flows", bad)
    donors = tuple(sorted({f.donor for f in rows}))
    partners = tuple(sorted({f.partner for f in rows}))
    sectors = tuple(sorted({f.sector for f in rows}))
    di = {d: i for i, d in enumerate(donors)}
    pi = {p: i for i, p in enumerate(partners)}
    si = {s: i for i, s in enumerate(sectors)}
    amounts = np.zeros((len(donors), len(partners), len(sectors)))
    for f in rows:
        amounts[di[f.donor], pi[f.partner], si[f.sector]] += float(f.usd)
    negative = int((amounts < 0).sum())
    amounts[amounts < 0] = 0.0
    return DonorMatrix(
        donors, partners, sectors, tuple(sorted({f.year for f in rows})), amounts, negative
    )


# --- fragmentation -------------------------------------------------------------------


@dataclass(frozen=True)
class Fragmentation:
    """How many donors share a partner's money (``sector`` None) or one partner ×
    sector cell, and how concentrated it is."""

    partner: str
    sector: str | None
    usd: float
    donors: int
    hhi: float
    effective_donors: float
    largest_donor: str | None
    largest_share: float
    non_significant: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "partner": self.partner,
            "sector": self.sector,
            "usd": int(round(self.usd)),
            "donors": self.donors,
            "hhi": round(self.hhi, 4),
            "effective_donors": round(self.effective_donors, 2),
            "largest_donor": self.largest_donor,
            "largest_share": round(self.largest_share, 4),
            "non_significant": self.non_significant,
        }


def hhi(amounts: Sequence[float] | np.ndarray) -> float:
    """Herfindahl–Hirschman index of the shares of ``amounts`` (0 when they sum to 0)."""
    values = np.asarray(amounts, dtype=float)
    total = values.sum()
    return float(((values / total) ** 2).sum()) if total > 0 else 0.0


def _concentration(
    m: DonorMatrix, column: np.ndarray, partner: str, sector: str | None
) -> Fragmentation:
    total = float(column.sum())
    active = int((column > 0).sum())
    h = hhi(column)
    top = int(np.argmax(column)) if total > 0 else -1
    return Fragmentation(
        partner=partner,
        sector=sector,
        usd=total,
        donors=active,
        hhi=h,
        effective_donors=1.0 / h if h > 0 else 0.0,
        largest_donor=m.donors[top] if top >= 0 else None,
        largest_share=float(column[top] / total) if total > 0 else 0.0,
    )


def significant_relationships(m: DonorMatrix) -> np.ndarray:
    """Donor × partner booleans: the OECD's significant aid relationships.

    A relationship is significant when the donor's share of the partner's aid is at
    least its share of all aid in the data, or when the donor is among the largest
    donors that together provide 90% of the partner's aid (OECD 2011). Only active
    relationships (amount > 0) can be significant.
    """
    by_partner = m.amounts.sum(axis=2)  # donor × partner
    total = by_partner.sum()
    out = np.zeros(by_partner.shape, dtype=bool)
    if total <= 0:
        return out
    global_share = by_partner.sum(axis=1) / total
    for p in range(by_partner.shape[1]):
        column = by_partner[:, p]
        ptotal = column.sum()
        if ptotal <= 0:
            continue
        share = column / ptotal
        order = np.argsort(-column, kind="stable")
        before = np.concatenate([[0.0], np.cumsum(share[order])[:-1]])
        top = np.zeros(len(column), dtype=bool)
        top[order] = before < SIGNIFICANT_CUMULATIVE
        out[:, p] = (column > 0) & ((share >= global_share) | top)
    return out


def fragmentation(m: DonorMatrix) -> tuple[Fragmentation, ...]:
    """Per partner (all sectors, with the OECD count of non-significant relationships),
    then per partner × sector with money."""
    significant = significant_relationships(m)
    out: list[Fragmentation] = []
    by_partner = m.amounts.sum(axis=2)
    for p, partner in enumerate(m.partners):
        whole = _concentration(m, by_partner[:, p], partner, None)
        active = by_partner[:, p] > 0
        out.append(
            Fragmentation(
                **{**whole.__dict__, "non_significant": int((active & ~significant[:, p]).sum())}
            )
        )
        for s, sector in enumerate(m.sectors):
            column = m.amounts[:, p, s]
            if column.sum() > 0:
                out.append(_concentration(m, column, partner, sector))
    return tuple(out)


# --- comparative advantage, lead donors, division of labour ---------------------------


@dataclass(frozen=True)
class ComparativeAdvantage:
    """Balassa's revealed comparative advantage of a donor in a sector: its share of the
    sector's money divided by its share of all money (> 1: it specialises there)."""

    donor: str
    sector: str
    rca: float
    share_of_sector: float
    share_overall: float
    partner: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "donor": self.donor,
            "sector": self.sector,
            "partner": self.partner,
            "rca": round(self.rca, 3),
            "share_of_sector": round(self.share_of_sector, 4),
            "share_overall": round(self.share_overall, 4),
        }


def rca_matrix(m: DonorMatrix, partner: str | None = None) -> np.ndarray:
    """Donor × sector Balassa indices over all partners (or within one partner);
    ``nan`` where the donor or the sector has no money."""
    x = m.amounts.sum(axis=1) if partner is None else m.amounts[:, m.partners.index(partner), :]
    total = x.sum()
    by_donor = x.sum(axis=1, keepdims=True)
    by_sector = x.sum(axis=0, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            (by_donor > 0) & (by_sector > 0), (x / by_sector) / (by_donor / total), np.nan
        )


def comparative_advantage(
    m: DonorMatrix, *, partner: str | None = None
) -> tuple[ComparativeAdvantage, ...]:
    """Every donor × sector RCA where the donor is active in the sector."""
    x = m.amounts.sum(axis=1) if partner is None else m.amounts[:, m.partners.index(partner), :]
    rca = rca_matrix(m, partner)
    total = x.sum()
    out = []
    for d, s in zip(*np.nonzero(x > 0), strict=True):
        out.append(
            ComparativeAdvantage(
                donor=m.donors[d],
                sector=m.sectors[s],
                rca=float(rca[d, s]),
                share_of_sector=float(x[d, s] / x[:, s].sum()),
                share_overall=float(x[d].sum() / total),
                partner=partner,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class LeadDonor:
    """The donor suggested to lead a sector in a partner, and by which rule."""

    partner: str
    sector: str
    donor: str
    share: float
    rca: float
    has_advantage: bool
    rule: str
    donors: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "partner": self.partner,
            "sector": self.sector,
            "donor": self.donor,
            "share": round(self.share, 4),
            "rca": None if np.isnan(self.rca) else round(self.rca, 3),
            "has_advantage": self.has_advantage,
            "rule": self.rule,
            "donors": self.donors,
        }


def lead_donors(m: DonorMatrix) -> tuple[LeadDonor, ...]:
    """Per partner × sector with money: the donor with the largest share of the cell
    among those with a global comparative advantage in the sector (RCA > 1); if none
    has one, the largest share, marked ``has_advantage=False``. Ties: higher RCA, then
    donor id."""
    rca = rca_matrix(m)
    shares = m.cell_shares
    out = []
    for p, partner in enumerate(m.partners):
        for s, sector in enumerate(m.sectors):
            active = np.flatnonzero(m.amounts[:, p, s] > 0)
            if not len(active):
                continue
            advantaged = [d for d in active if rca[d, s] > 1]
            pool = advantaged or list(active)
            best = min(
                pool, key=lambda d: (-shares[d, p, s], -np.nan_to_num(rca[d, s]), m.donors[d])
            )
            out.append(
                LeadDonor(
                    partner=partner,
                    sector=sector,
                    donor=m.donors[best],
                    share=float(shares[best, p, s]),
                    rca=float(rca[best, s]),
                    has_advantage=bool(advantaged),
                    rule="largest share among donors with RCA > 1"
                    if advantaged
                    else "largest share (no donor has RCA > 1 in this sector)",
                    donors=len(active),
                )
            )
    return tuple(out)


@dataclass(frozen=True)
class DonorRole:
    """One donor's proposed place in a partner: sectors to focus on, sectors it leads,
    sectors to hand over (delegated cooperation or exit)."""

    donor: str
    focus: tuple[str, ...]
    leads: tuple[str, ...]
    hand_over: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "donor": self.donor,
            "focus": list(self.focus),
            "leads": list(self.leads),
            "hand_over": list(self.hand_over),
        }


@dataclass(frozen=True)
class DivisionOfLabour:
    """A proposed division of labour in one partner: a lead per sector, a role per
    donor, and the sectors with more active donors than the Code of Conduct advises."""

    partner: str
    leads: Mapping[str, str]
    roles: tuple[DonorRole, ...]
    crowded_sectors: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "partner": self.partner,
            "leads": dict(self.leads),
            "roles": [r.as_dict() for r in self.roles],
            "crowded_sectors": list(self.crowded_sectors),
        }


def division_of_labour(
    m: DonorMatrix, *, max_focus_sectors: int = 3, min_share: float = 0.10
) -> tuple[DivisionOfLabour, ...]:
    """Per partner: each sector's lead donor (:func:`lead_donors`); each donor keeps as
    focus the sectors it leads, then those where its share is at least ``min_share`` or
    its RCA exceeds 1, best first by share × RCA, at most ``max_focus_sectors``; the
    rest it hands over. Sectors with more than five active donors are crowded."""
    rca = np.nan_to_num(rca_matrix(m))
    shares = m.cell_shares
    leads_by_partner: dict[str, dict[str, str]] = {}
    for lead in lead_donors(m):
        leads_by_partner.setdefault(lead.partner, {})[lead.sector] = lead.donor
    out = []
    for p, partner in enumerate(m.partners):
        leads = leads_by_partner.get(partner, {})
        roles = []
        for d, donor in enumerate(m.donors):
            active = [s for s in range(len(m.sectors)) if m.amounts[d, p, s] > 0]
            if not active:
                continue
            led = [m.sectors[s] for s in active if leads.get(m.sectors[s]) == donor]
            eligible = [
                s
                for s in active
                if leads.get(m.sectors[s]) == donor or shares[d, p, s] >= min_share or rca[d, s] > 1
            ]
            eligible.sort(
                key=lambda s: (
                    leads.get(m.sectors[s]) != donor,
                    -shares[d, p, s] * max(rca[d, s], 1e-9),
                    m.sectors[s],
                )
            )
            focus = [m.sectors[s] for s in eligible[:max_focus_sectors]]
            hand_over = [m.sectors[s] for s in active if m.sectors[s] not in focus]
            roles.append(DonorRole(donor, tuple(focus), tuple(led), tuple(hand_over)))
        crowded = tuple(
            sector
            for s, sector in enumerate(m.sectors)
            if int((m.amounts[:, p, s] > 0).sum()) > MAX_DONORS_PER_SECTOR
        )
        out.append(DivisionOfLabour(partner, leads, tuple(roles), crowded))
    return tuple(out)


# --- burden sharing ------------------------------------------------------------------


@dataclass(frozen=True)
class BurdenShare:
    """Our money against everyone else's in one group (partner, region or sector) and
    one year."""

    by: str
    group: str
    year: int
    ours: float
    others: float

    @property
    def our_share(self) -> float:
        total = self.ours + self.others
        return self.ours / total if total > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "group": self.group,
            "year": self.year,
            "ours_usd": int(round(self.ours)),
            "others_usd": int(round(self.others)),
            "our_share": round(self.our_share, 4),
        }


def burden_sharing(
    flows: Iterable[DonorFlow],
    *,
    ours: str | Collection[str],
    by: str = "partner",
    regions_of: Mapping[str, Sequence[str]] | None = None,
) -> tuple[BurdenShare, ...]:
    """Our share of the money per group and year.

    ``ours`` names our donor code(s) (e.g. the U.S. agencies' IATI refs). ``by`` is
    ``partner``, ``sector`` or ``region``; by region, a partner's money counts in every
    region ``regions_of`` lists for it (pass one kind of region, e.g. bureaus, to avoid
    counting it twice in one roll-up); partners without a region go to ``(none)``.
    """
    if by not in ("partner", "sector", "region"):
        raise Invalid("unknown grouping", [Detail(("by",), "use partner, sector or region")])
    mine = {ours} if isinstance(ours, str) else set(ours)
    totals: dict[tuple[str, int], list[float]] = {}
    for f in flows:
        if by == "partner":
            groups: Sequence[str] = (f.partner,)
        elif by == "sector":
            groups = (f.sector,)
        else:
            groups = tuple((regions_of or {}).get(f.partner, ())) or ("(none)",)
        for group in groups:
            cell = totals.setdefault((group, f.year), [0.0, 0.0])
            cell[0 if f.donor in mine else 1] += float(f.usd)
    return tuple(
        BurdenShare(by, group, year, max(o, 0.0), max(t, 0.0))
        for (group, year), (o, t) in sorted(totals.items())
    )
