"""Finding candidate pairs fast: blocking by partner, then sparse cosine within blocks.

Two activities with no partner in common are never a pair (rule of the score), so the
search only looks inside **blocks**: the activities that share one partner key (a
country of theirs, a member country of a region they name, or the region code itself).
Within a block, rows are multiplied in chunks (``X[chunk] @ X[block].T``, a sparse
matrix product for TF-IDF, dense for embeddings) and only entries at or above the
candidate cosine are kept, so memory stays bounded by the chunk size whatever the block
size. Pairs in different languages are kept whatever their cosine (their text weight is
lowered; the structural components decide). Candidates are then scored
(:func:`~ssaplan.coordination.engine.scoring.score_pairs`) and those below the report
threshold dropped, chunk by chunk.

Exactness: for same-language pairs the search misses nothing that could be ``likely``,
because ``candidate_text`` may not exceed the text level a likely pair needs (checked
when the configuration loads); the only approximation is the cap of
``max_pairs_per_record`` pairs per activity. :func:`brute_force` computes the cosine of
every pair of a sample with the same scoring, the reference the benchmark and the tests
measure recall against.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from ssaplan.coordination.engine.records import OverlapConfig
from ssaplan.coordination.engine.scoring import Prepared, Scored, score_pairs

# ``progress(stage, done, total)``: told where a long search is (the CLI draws it on stderr).
Progress = Callable[[str, int, int], None]

# Pair cells computed per chunk of a product: bounds the memory of one chunk (a few
# tens of MB for the product and the scoring arrays).
CHUNK_CELLS = 2_000_000


@dataclass
class SearchStats:
    """Where the time went and how much work the search did."""

    blocks: int = 0
    largest_block: int = 0
    block_pairs: int = 0
    candidates: int = 0
    kept: int = 0
    seconds_product: float = 0.0
    seconds_scoring: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "blocks": self.blocks,
            "largest_block": self.largest_block,
            "block_pairs": self.block_pairs,
            "candidates": self.candidates,
            "kept": self.kept,
            "seconds_product": round(self.seconds_product, 3),
            "seconds_scoring": round(self.seconds_scoring, 3),
            **self.extra,
        }


def partner_keys(p: Prepared) -> sparse.csc_matrix:
    """Activities × partner keys: countries (own or via named regions), then region codes."""
    countries = ((p.C + p.M) > 0).astype(np.float32)
    return sparse.hstack([countries, p.G], format="csc")


def allowed(p: Prepared, cfg: OverlapConfig, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Pairs of different owners (unless ``same_owner``) of an allowed kind."""
    kind = p.source[ia].astype(np.int8) + p.source[ib]
    ok = np.zeros(len(ia), dtype=bool)
    for code, name in enumerate(("program-program", "program-donor", "donor-donor")):
        if name in cfg.pair_kinds:
            ok |= kind == code
    if not cfg.same_owner:
        ok &= p.owner[ia] != p.owner[ib]
    return ok


def _entries_at_least(product: Any, threshold: float) -> tuple[np.ndarray, ...]:
    if sparse.issparse(product):
        coo = product.tocoo()
        keep = coo.data >= threshold
        return coo.row[keep], coo.col[keep], coo.data[keep]
    rows, cols = np.nonzero(product >= threshold)
    return rows, cols, product[rows, cols]


# Candidate pairs are scored in batches of about this many (scoring has a fixed cost
# per call, so tiny blocks are pooled).
BATCH_PAIRS = 500_000


class _Scorer:
    """Collects candidate pairs and scores them in batches, keeping those reported."""

    def __init__(self, p: Prepared, cfg: OverlapConfig, stats: SearchStats, cap: int = 0) -> None:
        self.p, self.cfg, self.stats, self.cap = p, cfg, stats, cap
        self.held = 0
        self.buffer: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.pending = 0
        self.parts: list[Scored] = []

    def add(self, ia: np.ndarray, ib: np.ndarray, cos: np.ndarray) -> None:
        ok = allowed(self.p, self.cfg, ia, ib)
        if ok.any():
            self.buffer.append((ia[ok], ib[ok], cos[ok]))
            self.pending += int(ok.sum())
            if self.pending >= BATCH_PAIRS:
                self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        started = time.perf_counter()
        ia, ib, cos = (np.concatenate(parts) for parts in zip(*self.buffer, strict=True))
        self.buffer, self.pending = [], 0
        scored = score_pairs(self.p, self.cfg, ia, ib, cos)
        self.stats.candidates += len(scored)
        keep = (scored.score >= self.cfg.report) & (scored.partner > 0)
        if keep.any():
            self.parts.append(scored.take(keep))
            self.held += int(keep.sum())
            if self.cap and self.held > 4 * BATCH_PAIRS:
                self.compact()
        self.stats.seconds_scoring += time.perf_counter() - started

    def compact(self) -> None:
        """Dedupe and cap what is held so far. Exact: a pair among the best ``cap`` of an
        activity overall is among its best in any subset, so capping early and again
        at the end keeps the same pairs as capping once; memory stays near
        ``cap × activities`` pairs."""
        merged = cap_per_record(_dedupe(Scored.concat(self.parts), self.p.n), self.cap)
        self.parts, self.held = [merged], len(merged)

    def result(self) -> Scored:
        self.flush()
        if self.cap:
            self.compact()
            return self.parts[0]
        return Scored.concat(self.parts)


def blocked_search(
    p: Prepared, cfg: OverlapConfig, progress: Progress | None = None
) -> tuple[Scored, SearchStats]:
    """Candidate pairs within partner blocks, scored, capped per activity."""
    stats = SearchStats()
    keys = partner_keys(p)
    threshold = p.cosine_for_component(cfg.candidate_text)
    scorer = _Scorer(p, cfg, stats, cap=cfg.max_pairs_per_record)
    n_keys = keys.shape[1]
    for key in range(n_keys):
        if progress is not None:
            progress("partner blocks", key, n_keys)
        idx = keys.indices[keys.indptr[key] : keys.indptr[key + 1]].astype(np.int64)
        if len(idx) < 2:
            continue
        idx.sort()
        stats.blocks += 1
        stats.largest_block = max(stats.largest_block, len(idx))
        stats.block_pairs += len(idx) * (len(idx) - 1) // 2
        Xb = p.X[idx]
        XbT = Xb.T.tocsr() if sparse.issparse(Xb) else Xb.T
        step = max(1, CHUNK_CELLS // len(idx))
        for r0 in range(0, len(idx), step):
            started = time.perf_counter()
            product = Xb[r0 : r0 + step] @ XbT
            rows, cols, cos = _entries_at_least(product, threshold)
            upper = cols > rows + r0
            ia, ib = idx[rows[upper] + r0], idx[cols[upper]]
            stats.seconds_product += time.perf_counter() - started
            scorer.add(ia, ib, cos[upper].astype(np.float32))
        _cross_language(p, idx, Xb, threshold, scorer)
    if progress is not None:
        progress("partner blocks", n_keys, n_keys)
    scored = scorer.result()
    stats.kept = len(scored)
    return scored, stats


def _cross_language(
    p: Prepared, idx: np.ndarray, Xb: Any, threshold: float, scorer: _Scorer
) -> None:
    """Pairs of one block whose texts are in different determined languages."""
    langs = p.lang[idx]
    present = [code for code in np.unique(langs) if code >= 0]
    for i, la in enumerate(present):
        pos_a = np.flatnonzero(langs == la)
        for lb in present[i + 1 :]:
            pos_b = np.flatnonzero(langs == lb)
            step = max(1, CHUNK_CELLS // len(pos_b))
            for r0 in range(0, len(pos_a), step):
                rows_a = pos_a[r0 : r0 + step]
                product = Xb[rows_a] @ Xb[pos_b].T
                dense = product.toarray() if sparse.issparse(product) else np.asarray(product)
                # pairs at or above the threshold were already found by the main product
                ra, rb = np.nonzero(dense < threshold)
                ga, gb = idx[rows_a[ra]], idx[pos_b[rb]]
                scorer.add(np.minimum(ga, gb), np.maximum(ga, gb), dense[ra, rb].astype(np.float32))


def _dedupe(scored: Scored, n: int) -> Scored:
    """A pair found in several blocks (several shared partners) is kept once."""
    if len(scored) == 0:
        return scored
    key = scored.ia * n + scored.ib
    _, first = np.unique(key, return_index=True)
    return scored.take(np.sort(first))


def cap_per_record(scored: Scored, k: int) -> Scored:
    """Keep a pair when it is among the ``k`` best-scoring pairs of either activity."""
    m = len(scored)
    if m == 0:
        return scored
    rec = np.concatenate([scored.ia, scored.ib])
    score = np.concatenate([scored.score, scored.score])
    pair = np.concatenate([np.arange(m), np.arange(m)])
    order = np.lexsort((pair, -score, rec))
    rec_sorted = rec[order]
    starts = np.r_[0, np.flatnonzero(np.diff(rec_sorted)) + 1]
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    keep = np.zeros(m, dtype=bool)
    keep[pair[order[rank < k]]] = True
    return scored.take(keep)


@dataclass(frozen=True)
class BruteForce:
    """The reference: every pair's cosine, scored like the fast search (no cap).

    ``above_candidate`` counts all pairs whose cosine reaches the candidate level, with
    or without a shared partner; ``above_candidate_shared`` those sharing a partner key.
    """

    scored: Scored
    above_candidate: int
    above_candidate_shared: int
    seconds: float


def brute_force(p: Prepared, cfg: OverlapConfig, chunk_rows: int = 0) -> BruteForce:
    """All-pairs cosine (dense products of every row against every row), then the same
    scoring and rules as :func:`blocked_search`, without the per-activity cap."""
    started = time.perf_counter()
    keys = partner_keys(p).tocsr()
    keysT = keys.T.tocsr()
    XT = p.X.T.tocsr() if sparse.issparse(p.X) else p.X.T
    threshold = p.cosine_for_component(cfg.candidate_text)
    step = chunk_rows or max(1, CHUNK_CELLS // max(p.n, 1))
    stats = SearchStats()
    scorer = _Scorer(p, cfg, stats)
    above = above_shared = 0
    for r0 in range(0, p.n, step):
        r1 = min(p.n, r0 + step)
        cos = p.X[r0:r1] @ XT
        cos = cos.toarray() if sparse.issparse(cos) else np.asarray(cos)
        share = (keys[r0:r1] @ keysT).toarray() > 0
        upper = np.arange(p.n)[None, :] > np.arange(r0, r1)[:, None]
        hot = upper & (cos >= threshold)
        above += int(hot.sum())
        above_shared += int((hot & share).sum())
        rows, cols = np.nonzero(upper & share)
        scorer.add(rows + r0, cols.astype(np.int64), cos[rows, cols].astype(np.float32))
    return BruteForce(scorer.result(), above, above_shared, time.perf_counter() - started)
