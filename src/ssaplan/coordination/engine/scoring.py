"""The overlap score of pairs of activities, vectorised over arrays of pairs.

:class:`Prepared` turns the activities into arrays once (codes, dates as day numbers,
sparse country and region incidence, text vectors); :func:`score_pairs` computes every
component and the combined score for any arrays of pair indices, so the fast search, the
brute-force reference and reviewer-marked pairs all use one definition.

The score (docs/coordination.md, "The overlap score")::

    score = (sum_i s_i c_i / sum_i s_i) * contradiction_factor ** k

over the components ``c_i`` that can be judged for the pair (partner, period,
institution type, purpose, text), ``s_i`` their weights (the text weight times
``language_mismatch_text_factor`` when the texts are in different languages), and ``k``
the number of known contradictions (institution types known and unrelated; periods
known and disjoint). A component that cannot be judged is left out of the mean, except
for pairs whose texts are in different languages, where it counts 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from scipy import sparse

from ssaplan.coordination.engine import text as textmod
from ssaplan.coordination.engine.records import (
    Activity,
    OverlapConfig,
    dac_institution_types,
    institution_relatedness,
    purpose_relatedness,
)

_EPOCH = date(1970, 1, 1).toordinal()


def _day(d: date | None) -> float:
    return float(d.toordinal() - _EPOCH) if d is not None else np.nan


def _codes(values: Sequence[str | None], vocabulary: list[str]) -> np.ndarray:
    index = {v: i for i, v in enumerate(vocabulary)}
    return np.array([index.get(v, -1) if v else -1 for v in values], dtype=np.int32)


def _table(vocabulary: list[str], relate: Any) -> np.ndarray:
    return np.array([[relate(a, b) for b in vocabulary] for a in vocabulary], dtype=np.float32)


class Prepared:
    """Activities as arrays, in the engine's order (programs first, then by id)."""

    def __init__(
        self,
        activities: Sequence[Activity],
        *,
        regions_of: Mapping[str, Sequence[str]],
        vectorizer: textmod.TextVectorizer,
    ) -> None:
        self.activities = list(activities)
        acts = self.activities
        n = self.n = len(acts)
        self.ids = [a.id for a in acts]
        self.source = np.array([0 if a.source == "program" else 1 for a in acts], np.int8)
        owners = sorted({a.agency_or_donor for a in acts})
        self.owner = _codes([a.agency_or_donor for a in acts], owners)

        # countries and regions: incidence matrices over one country vocabulary
        members: dict[str, set[str]] = {}
        for iso3, regions in regions_of.items():
            for region in regions:
                members.setdefault(region, set()).add(iso3)
        self.members = members
        countries = sorted(
            {c for a in acts for c in a.countries}
            | {c for a in acts for r in a.regions for c in members.get(r, ())}
        )
        self.country_vocab = countries
        cindex = {c: i for i, c in enumerate(countries)}
        self.C = _incidence([[cindex[c] for c in set(a.countries)] for a in acts], n, len(cindex))
        self.M = _incidence(
            [sorted({cindex[c] for r in a.regions for c in members.get(r, ())}) for a in acts],
            n,
            len(cindex),
        )
        self.CM = self.C.multiply(self.M).tocsr()
        region_vocab = sorted({r for a in acts for r in a.regions})
        rindex = {r: i for i, r in enumerate(region_vocab)}
        self.G = _incidence([[rindex[r] for r in set(a.regions)] for a in acts], n, len(rindex))
        self.n_countries = np.diff(self.C.indptr)
        self.n_regions = np.diff(self.G.indptr)
        # one country and no region: partner overlap is just "same country or not"
        self.simple = (self.n_countries == 1) & (self.n_regions == 0)
        self.country0 = np.full(n, -1, dtype=np.int64)
        has_country = self.n_countries > 0
        self.country0[has_country] = self.C.indices[self.C.indptr[:-1][has_country]]

        # periods as day numbers; reversed dates are swapped (and flagged)
        start = np.array([_day(a.start) for a in acts])
        end = np.array([_day(a.end) for a in acts])
        self.reversed = np.isfinite(start) & np.isfinite(end) & (end < start)
        start[self.reversed], end[self.reversed] = end[self.reversed], start[self.reversed]
        self.start, self.end = start, end
        self.dated = np.isfinite(start) & np.isfinite(end)

        # institution types (inferred from the DAC code when missing) and purposes
        inferred_from = dac_institution_types()
        inst: list[str | None] = []
        self.inst_inferred = np.zeros(n, dtype=bool)
        for k, a in enumerate(acts):
            if a.institution_type:
                inst.append(a.institution_type)
            elif a.dac_code and a.dac_code in inferred_from:
                inst.append(inferred_from[a.dac_code])
                self.inst_inferred[k] = True
            else:
                inst.append(None)
        self.inst_names = inst
        ivocab = sorted({v for v in inst if v} | institution_relatedness().codes())
        self.inst_vocab = ivocab
        self.inst = _codes(inst, ivocab)
        self.inst_rel = _table(ivocab, institution_relatedness())
        pvocab = sorted({a.purpose for a in acts if a.purpose} | purpose_relatedness().codes())
        self.purpose_vocab = pvocab
        self.purpose = _codes([a.purpose for a in acts], pvocab)
        self.purpose_rel = _table(pvocab, purpose_relatedness())
        dac = [a.dac_code.strip() if a.dac_code else "" for a in acts]
        self.dac5 = np.array([int(d) if d.isdigit() else -1 for d in dac], dtype=np.int64)
        self.dac3 = np.array([int(d[:3]) if d[:3].isdigit() else -1 for d in dac], np.int64)

        # texts
        self.has_title = np.array([bool(a.title.strip()) for a in acts])
        self.has_description = np.array([bool(a.description.strip()) for a in acts])
        self.has_text = self.has_title | self.has_description
        langs = textmod.iter_languages(
            (a.title for a in acts), (a.description for a in acts), (a.language for a in acts)
        )
        self.language_names = langs
        lvocab = sorted({v for v in langs if v != textmod.UNDETERMINED})
        self.lang = _codes([v if v != textmod.UNDETERMINED else None for v in langs], lvocab)
        self.vectorizer = vectorizer
        self.X = vectorizer.vectors([a.title for a in acts], [a.description for a in acts])
        low, high = vectorizer.similarity_scale
        self.scale = (float(low), float(high))

    def text_component(self, cos: np.ndarray) -> np.ndarray:
        low, high = self.scale
        return np.clip((cos - low) / (high - low), 0.0, 1.0)

    def cosine_for_component(self, component: float) -> float:
        """The cosine at which the text component reaches ``component``."""
        low, high = self.scale
        return low + component * (high - low)


def _incidence(rows: list[list[int]], n: int, width: int) -> sparse.csr_matrix:
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.array([i for r in rows for i in sorted(r)], dtype=np.int32)
    data = np.ones(len(indices), dtype=np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=(n, max(width, 1)))


def _rowdot(
    A: sparse.csr_matrix, B: sparse.csr_matrix, ia: np.ndarray, ib: np.ndarray
) -> np.ndarray:
    if len(ia) == 0:
        return np.zeros(0, dtype=np.float32)
    return np.asarray(A[ia].multiply(B[ib]).sum(axis=1), dtype=np.float32).ravel()


@dataclass(frozen=True)
class Scored:
    """Components and score of pairs ``(ia[k], ib[k])``; ``nan`` marks a component that
    could not be judged."""

    ia: np.ndarray
    ib: np.ndarray
    cosine: np.ndarray
    partner: np.ndarray
    shared: np.ndarray
    period: np.ndarray
    institution: np.ndarray
    purpose: np.ndarray
    text: np.ndarray
    language_mismatch: np.ndarray
    contradictions: np.ndarray
    score: np.ndarray

    def take(self, keep: np.ndarray) -> Scored:
        return Scored(**{k: getattr(self, k)[keep] for k in self.__dataclass_fields__})

    @staticmethod
    def concat(parts: Sequence[Scored]) -> Scored:
        names = Scored.__dataclass_fields__
        if not parts:
            return Scored(**{k: np.zeros(0) for k in names})
        return Scored(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in names})

    def __len__(self) -> int:
        return len(self.ia)


def partner_overlap(
    p: Prepared, cfg: OverlapConfig, ia: np.ndarray, ib: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Soft Jaccard of the partner sets and the number of countries shared.

    ``(|A ∩ B| + ρ·covered) / |A ∪ B|`` where ``covered`` counts the countries of one
    activity, not in the other's countries, that are members of a region the other names;
    two region-only activities score ``ρ·Jaccard(regions)``.
    """
    out = np.zeros(len(ia), dtype=np.float32)
    shared = np.zeros(len(ia), dtype=np.float32)
    simple = p.simple[ia] & p.simple[ib]
    same = simple & (p.country0[ia] == p.country0[ib])
    out[same], shared[same] = 1.0, 1.0
    g = np.flatnonzero(~simple)
    if len(g):
        a, b = ia[g], ib[g]
        inter = _rowdot(p.C, p.C, a, b)
        cov_a = _rowdot(p.C, p.M, a, b) - _rowdot(p.CM, p.C, b, a)
        cov_b = _rowdot(p.C, p.M, b, a) - _rowdot(p.CM, p.C, a, b)
        union = p.n_countries[a] + p.n_countries[b] - inter
        rho = cfg.regional_credit
        with np.errstate(divide="ignore", invalid="ignore"):
            soft = np.where(union > 0, (inter + rho * (cov_a + cov_b)) / union, 0.0)
            rinter = _rowdot(p.G, p.G, a, b)
            runion = p.n_regions[a] + p.n_regions[b] - rinter
            regional = np.where(runion > 0, rho * rinter / runion, 0.0)
        out[g] = np.where(union > 0, soft, regional)
        shared[g] = inter
    return out, shared


def score_pairs(
    p: Prepared, cfg: OverlapConfig, ia: np.ndarray, ib: np.ndarray, cos: np.ndarray | None = None
) -> Scored:
    """Every component and the score of the pairs ``(ia[k], ib[k])``.

    ``cos`` are the pairs' text cosines when the caller has them already (the search
    computes them in bulk); otherwise they are computed here.
    """
    ia = np.asarray(ia, dtype=np.int64)
    ib = np.asarray(ib, dtype=np.int64)
    if cos is None:
        cos = textmod.cosine_rows(p.X, ia, ib)
    cos = np.asarray(cos, dtype=np.float32)
    nan = np.float32(np.nan)

    partner, shared = partner_overlap(p, cfg, ia, ib)

    dated = p.dated[ia] & p.dated[ib]
    overlap = np.minimum(p.end[ia], p.end[ib]) - np.maximum(p.start[ia], p.start[ib]) + 1
    shorter = np.minimum(p.end[ia] - p.start[ia], p.end[ib] - p.start[ib]) + 1
    with np.errstate(invalid="ignore", divide="ignore"):
        period = np.where(dated, np.clip(overlap / shorter, 0.0, 1.0), nan).astype(np.float32)

    ta, tb = p.inst[ia], p.inst[ib]
    inst_known = (ta >= 0) & (tb >= 0)
    institution = np.full(len(ia), nan, dtype=np.float32)
    institution[inst_known] = p.inst_rel[ta[inst_known], tb[inst_known]]

    ua, ub = p.purpose[ia], p.purpose[ib]
    pur_known = (ua >= 0) & (ub >= 0)
    pur = np.full(len(ia), nan, dtype=np.float32)
    pur[pur_known] = p.purpose_rel[ua[pur_known], ub[pur_known]]
    dac_known = (p.dac5[ia] >= 0) & (p.dac5[ib] >= 0)
    dac = np.where(
        p.dac5[ia] == p.dac5[ib],
        1.0,
        np.where(p.dac3[ia] == p.dac3[ib], cfg.dac_category_credit, 0.0),
    ).astype(np.float32)
    dac[~dac_known] = nan
    purpose = np.where(pur_known & dac_known, (pur + dac) / 2, np.where(pur_known, pur, dac))

    both_text = p.has_text[ia] & p.has_text[ib]
    text = np.where(both_text, p.text_component(cos), 0.0).astype(np.float32)
    la, lb = p.lang[ia], p.lang[ib]
    mismatch = (la >= 0) & (lb >= 0) & (la != lb)
    w_text = np.where(mismatch, cfg.w_text * cfg.language_mismatch_text_factor, cfg.w_text)

    num = w_text * text
    den = w_text.astype(np.float64)
    for value, weight in (
        (partner, cfg.w_partner),
        (period, cfg.w_period),
        (institution, cfg.w_institution),
        (purpose, cfg.w_purpose),
    ):
        known = ~np.isnan(value)
        num = num + np.where(known, weight * np.nan_to_num(value), 0.0)
        # Texts that cannot be compared leave the structure to speak alone, so a
        # component it cannot judge counts 0 instead of being left out.
        den = den + np.where(known | mismatch, weight, 0.0)
    contradictions = (inst_known & (np.nan_to_num(institution) == 0)).astype(np.int8) + (
        dated & (np.nan_to_num(period) == 0)
    ).astype(np.int8)
    score = (num / den) * cfg.contradiction_factor ** contradictions.astype(np.float64)
    return Scored(
        ia=ia,
        ib=ib,
        cosine=cos,
        partner=partner,
        shared=shared,
        period=period,
        institution=institution,
        purpose=purpose.astype(np.float32),
        text=text,
        language_mismatch=mismatch,
        contradictions=contradictions,
        score=score.astype(np.float32),
    )
