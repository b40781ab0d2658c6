"""Text vectorizers: normalisation, lexicon, language detection, the Protocol."""

from __future__ import annotations

import numpy as np
import pytest

from ssaplan.coordination.engine import text
from ssaplan.core.errors import BadRequest


def test_stemming_lite_conflates_forms() -> None:
    assert {text.stem(w) for w in ("train", "trains", "training", "trained")} == {"train"}
    assert text.stem("police") == text.stem("policing") == text.stem("polices")
    assert text.stem("studies") == "study" and text.stem("bus") == "bus"


def test_analyze_drops_places_adds_concepts() -> None:
    a = text.analyze("Train coast guard in Somalia")
    b = text.analyze("Instruct Somali maritime border forces")
    assert not any("somal" in f for f in a + b)
    assert {"c:training", "c:maritime"} <= set(a) & set(b)
    assert "c:border" in b
    # French elision and accents: "forces de l'ordre", "garde-côtes"
    fr = text.analyze("Formation des garde-côtes et des forces de l'ordre")
    assert {"c:training", "c:maritime", "c:police"} <= set(fr)


@pytest.mark.parametrize(
    ("sample", "declared", "expected"),
    [
        ("Training of the police in the north and the south of the country", None, "en"),
        ("Formation de la police nationale dans le nord et le sud du pays", "en", "fr"),
        ("Capacitación de la policía nacional en el norte y el sur del país", None, "es"),
        ("تدريب الشرطة الوطنية", None, "ar"),
        ("Police radios", "fr-FR", "fr"),  # too short: the declared code decides
        ("Police radios", None, "und"),
    ],
)
def test_language_detection(sample: str, declared: str | None, expected: str) -> None:
    assert text.detect_language(sample, declared) == expected


def test_tfidf_rows_are_unit_or_zero() -> None:
    vec = text.TfidfVectorizer()
    assert isinstance(vec, text.TextVectorizer)
    X = vec.vectors(["Police training", "", "Courts"], ["Courses for police.", "", ""])
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    assert norms[0] == pytest.approx(1) and norms[1] == 0 and norms[2] == pytest.approx(1)
    assert text.TfidfVectorizer(char_ngrams=True).vectors(["a b"], [""]).shape[0] == 1
    assert text.tfidf_matrix([[], []]).shape[0] == 2


class StubModel:
    """Stands in for a sentence-transformers model: hashes words into 8 dimensions."""

    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        out = np.zeros((len(texts), 8), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, sum(map(ord, w)) % 8] += 1
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_embedding_vectorizer_with_a_model_and_without_the_extra() -> None:
    vec = text.EmbeddingVectorizer(model=StubModel())
    X = vec.vectors(["police training", ""], ["", ""])
    assert X.shape == (2, 8) and np.linalg.norm(X[0]) == pytest.approx(1) and not X[1].any()
    assert text.make_vectorizer("tfidf").name == "tfidf"
    assert text.make_vectorizer("auto").name in ("tfidf", "embedding")
    with pytest.raises(BadRequest):
        text.make_vectorizer("bag-of-magic")
    if not text.embeddings_available():
        with pytest.raises(BadRequest, match="not installed"):
            text.EmbeddingVectorizer().vectors(["x"], [""])
