"""The embedder's cache: repeated texts are not re-encoded, and a call never loses a row."""

from __future__ import annotations

import numpy as np
import pytest

from bot.matching import embedder as embedder_module
from bot.matching.embedder import SentenceTransformerEmbedder


class _Model:
    """Stands in for the sentence-transformers model: a vector per text, counting calls."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        self.encoded += texts
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)


def _embedder() -> tuple[SentenceTransformerEmbedder, _Model]:
    model = _Model()
    embedder = SentenceTransformerEmbedder()
    embedder._model = model
    return embedder, model


def test_cached_texts_are_not_encoded_again() -> None:
    embedder, model = _embedder()
    embedder.encode(["a", "bb"])
    rows = embedder.encode(["bb", "a", "ccc"])
    assert model.encoded == ["a", "bb", "ccc"]
    assert rows[:, 0].tolist() == [2.0, 1.0, 3.0]


def test_a_call_that_overflows_the_cache_returns_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embedder_module, "CACHE_SIZE", 3)
    embedder, _ = _embedder()
    embedder.encode(["old"])
    texts = ["old", "x", "yy", "zzz", "wwww"]
    rows = embedder.encode(texts)
    assert rows[:, 0].tolist() == [3.0, 1.0, 2.0, 3.0, 4.0]
    assert len(embedder._cache) == 3
