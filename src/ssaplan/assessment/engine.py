"""Pure assessment computation: choosing values, scoring propensity, weight sensitivity.

No database, no HTTP, no printing: numpy arrays and a :class:`Framework` in, immutable
results out. The default method (docs/assessment.md) in short:

1. for year Y each measure takes each country's latest value in Y-2..Y;
2. each measure is scaled min-max to [0, 1] across the countries that have a value,
   ``1 - x`` where lower is better; a measure with one distinct value scores 0.5;
3. a construct's score is the weighted mean of its available measures (weights
   renormalized over what is available);
4. propensity = 100 x the weighted mean of the available construct scores (weights
   renormalized); completeness = share of the total construct weight available;
   results under 0.6 completeness are flagged.

Sensitivity draws construct weights from a Dirichlet distribution centred on the set
weights and reports each country's rank interval and chance of a top-tier rank.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ssaplan.assessment.framework import Framework

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

DEFAULT_WINDOW = 2
DEFAULT_FLAG_BELOW = 0.6
DEFAULT_DRAWS = 10_000
DEFAULT_CONCENTRATION = 50.0
DEFAULT_TOP_TIER = 0.2
DEFAULT_SEED = 2013
# Completeness is a ratio of float sums; this keeps 6.0/10.0 from being flagged as < 0.6.
_EPS = 1e-9


def _frozen(array: NDArray[Any]) -> NDArray[Any]:
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Panel:
    """The raw values one assessment uses: a row per country, a column per measure.

    ``values`` holds NaN where a country has no value; ``years`` the year each value
    is from (0 where missing); ``sources`` where it came from ("" where missing).
    """

    countries: tuple[str, ...]
    measures: tuple[str, ...]
    values: FloatArray
    years: IntArray
    sources: NDArray[np.object_]

    def __post_init__(self) -> None:
        shape = (len(self.countries), len(self.measures))
        for name in ("values", "years", "sources"):
            array = getattr(self, name)
            if array.shape != shape:
                raise ValueError(f"panel {name} has shape {array.shape}, expected {shape}")
            _frozen(array)
        if len(set(self.countries)) != len(self.countries):
            raise ValueError("panel countries must be unique")
        if len(set(self.measures)) != len(self.measures):
            raise ValueError("panel measures must be unique")

    @classmethod
    def empty(cls, countries: Sequence[str], measures: Sequence[str]) -> Panel:
        n, m = len(countries), len(measures)
        return cls(
            tuple(countries),
            tuple(measures),
            np.full((n, m), np.nan),
            np.zeros((n, m), dtype=np.int64),
            np.full((n, m), "", dtype=object),
        )

    def select(self, measures: Sequence[str]) -> Panel:
        """The panel's columns in the order of ``measures``; absent ones are all missing."""
        n = len(self.countries)
        index = {m: i for i, m in enumerate(self.measures)}
        values = np.full((n, len(measures)), np.nan)
        years = np.zeros((n, len(measures)), dtype=np.int64)
        sources = np.full((n, len(measures)), "", dtype=object)
        for j, measure in enumerate(measures):
            i = index.get(measure)
            if i is not None:
                values[:, j] = self.values[:, i]
                years[:, j] = self.years[:, i]
                sources[:, j] = self.sources[:, i]
        return Panel(self.countries, tuple(measures), values, years, sources)


def latest_in_window(
    country: IntArray,
    measure: IntArray,
    year: IntArray,
    value: FloatArray,
    *,
    shape: tuple[int, int],
    assess_year: int,
    window: int = DEFAULT_WINDOW,
    preference: IntArray | None = None,
) -> tuple[FloatArray, IntArray, IntArray]:
    """Each country's latest value of each measure within ``assess_year - window .. assess_year``.

    Parameters
    ----------
    country, measure : int arrays, shape (N,)
        Row and column index of each observation in the (countries, measures) grid.
    year : int array, shape (N,)
        Calendar year of each observation.
    value : float array, shape (N,)
        The observed values; non-finite values are ignored.
    shape : (n, m)
        Size of the grid.
    assess_year : int
        The assessment year Y.
    window : int, default 2
        How many years before Y still count.
    preference : int array, shape (N,), optional
        Breaks ties between observations of the same cell and year (e.g. two
        sources): the larger wins. Default: the later observation in the arrays.

    Returns
    -------
    values : float array, shape (n, m)
        NaN where no observation falls in the window.
    years : int array, shape (n, m)
        The year of the chosen value, 0 where missing.
    picked : int array, shape (n, m)
        Index of the chosen observation in the input arrays, -1 where missing.
    """
    n, m = shape
    keep = (year >= assess_year - window) & (year <= assess_year) & np.isfinite(value)
    idx = np.flatnonzero(keep)
    tie = np.arange(len(year))[idx] if preference is None else preference[idx]
    order = np.lexsort((tie, year[idx], measure[idx], country[idx]))
    idx = idx[order]
    cell = country[idx] * m + measure[idx]
    is_last = np.ones(len(cell), dtype=bool)
    if len(cell) > 1:
        is_last[:-1] = cell[1:] != cell[:-1]
    chosen = idx[is_last]
    out_values = np.full(n * m, np.nan)
    out_years = np.zeros(n * m, dtype=np.int64)
    picked = np.full(n * m, -1, dtype=np.int64)
    flat = country[chosen] * m + measure[chosen]
    out_values[flat] = value[chosen]
    out_years[flat] = year[chosen]
    picked[flat] = chosen
    return out_values.reshape(n, m), out_years.reshape(n, m), picked.reshape(n, m)


def minmax_normalize(values: FloatArray, directions: Sequence[int]) -> tuple[FloatArray, ...]:
    """Scale each column to [0, 1] across the rows that have a value.

    Parameters
    ----------
    values : float array, shape (n, m)
        Raw values, NaN where missing.
    directions : sequence of +1 / -1, length m
        -1 turns the scaled value ``x`` into ``1 - x`` (lower is better).

    Returns
    -------
    normalized : float array, shape (n, m)
        In [0, 1], NaN where missing; 0.5 for every value of a column with one
        distinct value.
    minimums, maximums : float arrays, shape (m,)
        The raw range of each column (NaN for a column with no value).
    """
    present = np.isfinite(values)
    lo = np.min(np.where(present, values, np.inf), axis=0)
    hi = np.max(np.where(present, values, -np.inf), axis=0)
    has = present.any(axis=0)
    span = hi - lo
    flat = has & (span == 0)
    safe_span = np.where(has & (span > 0), span, 1.0)
    safe_lo = np.where(has, lo, 0.0)
    scaled = (np.where(present, values, 0.0) - safe_lo) / safe_span
    lower_better = np.asarray(directions) < 0
    scaled = np.where(lower_better, 1.0 - scaled, scaled)
    scaled = np.where(flat, 0.5, scaled)
    normalized = np.where(present, scaled, np.nan)
    return normalized, np.where(has, lo, np.nan), np.where(has, hi, np.nan)


def competition_rank(scores: FloatArray) -> IntArray:
    """Rank 1 for the highest score, ties share the best rank (1, 2, 2, 4); 0 where NaN."""
    ranks = np.zeros(len(scores), dtype=np.int64)
    ok = np.isfinite(scores)
    values = scores[ok]
    # For each value: 1 + how many values are strictly greater.
    sorted_desc = np.sort(values)[::-1]
    greater = np.searchsorted(-sorted_desc, -values, side="left")
    ranks[ok] = greater + 1
    return ranks


@dataclass(frozen=True)
class PropensityResult:
    """Propensity of each country under one framework, with everything that explains it.

    Arrays are read-only. ``construct_scores`` and ``normalized`` are in [0, 1] (NaN
    where missing); ``propensity`` is 0-100 (NaN where no construct is available);
    ``contributions`` are points of propensity per measure (they sum to propensity).
    """

    framework: Framework
    panel: Panel
    normalized: FloatArray  # (n, m)
    minimums: FloatArray  # (m,)
    maximums: FloatArray  # (m,)
    construct_scores: FloatArray  # (n, k)
    construct_shares: FloatArray  # (n, k) renormalized construct weights, 0 where missing
    measure_shares: FloatArray  # (n, m) renormalized weight of each measure in its construct
    contributions: FloatArray  # (n, m)
    propensity: FloatArray  # (n,)
    completeness: FloatArray  # (n,)
    flagged: BoolArray  # (n,)
    rank: IntArray  # (n,), 0 = not ranked
    flag_below: float

    @property
    def countries(self) -> tuple[str, ...]:
        return self.panel.countries

    @property
    def constructs(self) -> tuple[str, ...]:
        return self.framework.constructs

    def index(self, iso3: str) -> int:
        return self.panel.countries.index(iso3)

    def summary(self) -> str:
        ranked = int((self.rank > 0).sum())
        lines = [
            f"propensity under {self.framework.label}: {ranked} of {len(self.countries)} "
            f"countries scored, {int(self.flagged.sum())} flagged "
            f"(completeness < {self.flag_below:g})"
        ]
        order = np.argsort(np.where(self.rank > 0, self.rank, 10**9), kind="stable")
        for i in order[: min(10, ranked)]:
            lines.append(
                f"  {self.rank[i]:>3}  {self.countries[i]}  {self.propensity[i]:5.1f}"
                f"  completeness {self.completeness[i]:.2f}"
            )
        return "\n".join(lines)


class PropensityScorer:
    """Scores partner propensity with the default method.

    Parameters
    ----------
    framework : Framework
        Measures, constructs, directions and weights.
    flag_below : float, default 0.6
        Results whose completeness (share of construct weight available) is below
        this are flagged.
    """

    def __init__(self, framework: Framework, *, flag_below: float = DEFAULT_FLAG_BELOW) -> None:
        self.framework = framework
        self.flag_below = flag_below

    def fit(self, panel: Panel) -> PropensityScorer:
        """Score every country of ``panel`` (its columns are matched to the framework's
        measures by name; measures the panel lacks count as missing)."""
        fw = self.framework
        panel = panel.select(fw.measures)
        rows = fw.rows
        k = len(fw.constructs)
        construct_of = np.array([fw.constructs.index(r.construct) for r in rows])
        membership = np.zeros((len(rows), k))
        membership[np.arange(len(rows)), construct_of] = 1.0
        weights = np.array([r.measure_weight for r in rows])
        cweights = np.array(fw.construct_weights)

        normalized, lo, hi = minmax_normalize(panel.values, [r.direction for r in rows])
        available = np.isfinite(normalized)
        weighted = np.where(available, weights, 0.0)  # (n, m)
        den = weighted @ membership  # (n, k)
        num = (np.where(available, normalized, 0.0) * weighted) @ membership
        has_construct = den > 0
        construct_scores = np.where(has_construct, num / np.where(has_construct, den, 1.0), np.nan)

        cw = np.where(has_construct, cweights, 0.0)  # (n, k)
        cden = cw.sum(axis=1)
        scored = cden > 0
        propensity = np.where(
            scored,
            100.0
            * (np.where(has_construct, construct_scores, 0.0) * cw).sum(axis=1)
            / np.where(scored, cden, 1.0),
            np.nan,
        )
        completeness = cden / cweights.sum()
        construct_shares = cw / np.where(scored, cden, 1.0)[:, None]
        den_of_measure = den[:, construct_of]  # (n, m)
        measure_shares = np.where(
            den_of_measure > 0, weighted / np.where(den_of_measure > 0, den_of_measure, 1.0), 0.0
        )
        contributions = (
            100.0
            * construct_shares[:, construct_of]
            * measure_shares
            * np.where(available, normalized, 0.0)
        )
        self.panel_ = panel
        self.result_ = PropensityResult(
            framework=fw,
            panel=panel,
            normalized=_frozen(normalized),
            minimums=_frozen(lo),
            maximums=_frozen(hi),
            construct_scores=_frozen(construct_scores),
            construct_shares=_frozen(construct_shares),
            measure_shares=_frozen(measure_shares),
            contributions=_frozen(contributions),
            propensity=_frozen(propensity),
            completeness=_frozen(completeness),
            flagged=_frozen(completeness < self.flag_below - _EPS),
            rank=_frozen(competition_rank(propensity)),
            flag_below=self.flag_below,
        )
        return self


def dirichlet_weights(
    weights: Sequence[float], *, draws: int, concentration: float, seed: int
) -> FloatArray:
    """Construct weights drawn around ``weights``.

    Parameters
    ----------
    weights : sequence of float, length k
        The set construct weights (any positive scale); zero weights stay zero.
    draws : int
        Number of draws D.
    concentration : float
        Sum of the Dirichlet parameters: the larger, the closer draws stay to the set
        weights (the coefficient of variation of a weight with share p is
        ``sqrt((1 - p) / (p * (concentration + 1)))``).
    seed : int
        Seed of the generator: same seed, same draws.

    Returns
    -------
    float array, shape (D, k)
        Each row sums to 1.
    """
    w = np.asarray(weights, dtype=float)
    positive = w > 0
    out = np.zeros((draws, len(w)))
    if draws == 0 or not positive.any():
        return out
    rng = np.random.default_rng(seed)
    alpha = concentration * w[positive] / w[positive].sum()
    out[:, positive] = rng.dirichlet(alpha, size=draws)
    return out


@dataclass(frozen=True)
class SensitivityResult:
    """How ranks move when construct weights vary: per country, the 5th and 95th
    percentile of its rank over the draws and its probability of a top-tier rank.

    ``rank_p05``/``rank_p95`` are 0 and ``p_top`` NaN for countries without a score.
    """

    draws: int
    concentration: float
    seed: int
    top_n: int
    rank_p05: IntArray
    rank_p95: IntArray
    p_top: FloatArray
    rank_counts: IntArray = field(repr=False)  # (n, n): draws in which country i had rank r+1

    def summary(self) -> str:
        scored = int((self.rank_p05 > 0).sum())
        widths = (self.rank_p95 - self.rank_p05)[self.rank_p05 > 0]
        median = float(np.median(widths)) if len(widths) else 0.0
        return (
            f"{self.draws:,} Dirichlet draws of construct weights (concentration "
            f"{self.concentration:g}, seed {self.seed}): {scored} countries, median 90% rank "
            f"interval width {median:.0f}; top tier = best {self.top_n}"
        )


class WeightSensitivity:
    """Monte Carlo over construct weights.

    Parameters
    ----------
    draws : int, default 10,000
        Number of weight vectors drawn (0 skips the analysis).
    concentration : float, default 50
        Dirichlet concentration around the set weights (see :func:`dirichlet_weights`).
    top_tier : float, default 0.2
        Share of the scored countries that makes the top tier (at least one country).
    seed : int, default 2013
        Seed of the generator; the same seed gives the same result.
    chunk : int, default 2,500
        Draws processed at once (bounds memory to about chunk x countries x 16 bytes).
    """

    def __init__(
        self,
        *,
        draws: int = DEFAULT_DRAWS,
        concentration: float = DEFAULT_CONCENTRATION,
        top_tier: float = DEFAULT_TOP_TIER,
        seed: int = DEFAULT_SEED,
        chunk: int = 2_500,
    ) -> None:
        if draws < 0:
            raise ValueError("draws must be 0 or more")
        if concentration <= 0:
            raise ValueError("concentration must be positive")
        if not 0 < top_tier <= 1:
            raise ValueError("top_tier must be in (0, 1]")
        self.draws = draws
        self.concentration = concentration
        self.top_tier = top_tier
        self.seed = seed
        self.chunk = max(1, chunk)

    def fit(
        self, construct_scores: FloatArray, construct_weights: Sequence[float]
    ) -> WeightSensitivity:
        """Rank intervals under weight uncertainty.

        Parameters
        ----------
        construct_scores : float array, shape (n, k)
            Construct scores in [0, 1], NaN where missing.
        construct_weights : sequence of float, length k
            The set construct weights.
        """
        n = construct_scores.shape[0]
        available = np.isfinite(construct_scores)
        scores = np.where(available, construct_scores, 0.0)
        weights = np.asarray(construct_weights, dtype=float)
        scored = (available & (weights > 0)).any(axis=1)
        ids = np.flatnonzero(scored)
        n_scored = len(ids)
        top_n = max(1, math.ceil(self.top_tier * n_scored)) if n_scored else 0
        counts = np.zeros((n, n), dtype=np.int64)
        p05 = np.zeros(n, dtype=np.int64)
        p95 = np.zeros(n, dtype=np.int64)
        p_top = np.full(n, np.nan)
        if self.draws and n_scored:
            draws = dirichlet_weights(
                weights.tolist(), draws=self.draws, concentration=self.concentration, seed=self.seed
            )
            s = scores[ids].T  # (k, n_scored)
            a = available[ids].T.astype(float)
            sub = np.zeros((n_scored, n_scored), dtype=np.int64)
            positions = np.arange(1, n_scored + 1)
            for start in range(0, self.draws, self.chunk):
                w = draws[start : start + self.chunk]  # (d, k)
                num = w @ s  # (d, n)
                den = w @ a
                # A country whose only constructs drew zero weight (impossible for a
                # Dirichlet draw, but kept safe) ranks last in that draw.
                p = np.where(den > 0, num / np.where(den > 0, den, 1.0), -np.inf)
                order = np.argsort(-p, axis=1, kind="stable")
                ranks = np.empty_like(order)
                np.put_along_axis(ranks, order, np.broadcast_to(positions, order.shape), axis=1)
                flat = (np.arange(n_scored)[None, :] * n_scored + ranks - 1).ravel()
                sub += np.bincount(flat, minlength=n_scored * n_scored).reshape(n_scored, n_scored)
            cumulative = np.cumsum(sub, axis=1)
            # The inverted-CDF percentile: the smallest rank whose share of draws reaches q.
            p05[ids] = (cumulative < 0.05 * self.draws).sum(axis=1) + 1
            p95[ids] = (cumulative < 0.95 * self.draws).sum(axis=1) + 1
            p_top[ids] = cumulative[:, top_n - 1] / self.draws
            counts[np.ix_(ids, np.arange(n_scored))] = sub
        self.result_ = SensitivityResult(
            draws=self.draws,
            concentration=self.concentration,
            seed=self.seed,
            top_n=top_n,
            rank_p05=_frozen(p05),
            rank_p95=_frozen(p95),
            p_top=_frozen(p_top),
            rank_counts=_frozen(counts),
        )
        return self


def priority_scores(
    tiers: FloatArray,
    relevance: FloatArray,
    importance: FloatArray,
    *,
    tier_weight: float = 0.5,
    lowest_tier: int = 4,
    max_relevance: int = 3,
) -> FloatArray:
    """Policy priority, 0-100, from priority tiers and relevance to objectives.

    Parameters
    ----------
    tiers : float array, shape (n,)
        National-security priority tier of each country, 1 (highest) to
        ``lowest_tier``; NaN where no tier is set (priority is then undefined).
    relevance : float array, shape (n, o)
        Relevance of each country to each objective of the goal tree, 0 (none) to
        ``max_relevance`` (high).
    importance : float array, shape (o,)
        Importance of each objective (non-negative; at least one positive).
    tier_weight : float, default 0.5
        Share of the priority that comes from the tier; the rest comes from relevance.

    Returns
    -------
    float array, shape (n,)
        ``100 * (tier_weight * t + (1 - tier_weight) * r)`` where ``t`` is 1 for tier 1
        and 0 for the lowest tier, and ``r`` is the importance-weighted mean relevance
        scaled to [0, 1]; NaN where the tier is missing.
    """
    if not 0 <= tier_weight <= 1:
        raise ValueError("tier_weight must be in [0, 1]")
    total = float(np.sum(importance))
    if total <= 0:
        raise ValueError("at least one objective must have a positive importance")
    tier_score = (lowest_tier - tiers) / (lowest_tier - 1)
    rel_score = (np.clip(relevance, 0, max_relevance) / max_relevance) @ importance / total
    return 100.0 * (tier_weight * tier_score + (1 - tier_weight) * rel_score)
