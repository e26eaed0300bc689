"""The embedder: its cache never loses a row, and a bad model is found before any work."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bot.matching import embedder as embedder_module
from bot.matching.embedder import ModelLoadError, SentenceTransformerEmbedder


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


def test_checking_the_packaged_model_does_not_load_it() -> None:
    # `run --once` on unchanged feeds never needs the model: checking must not cost a load.
    embedder = SentenceTransformerEmbedder()
    embedder.check()
    assert embedder._model is None


def test_checking_a_model_folder_does_not_load_it(tmp_path: Path) -> None:
    (tmp_path / "modules.json").write_text("[]", encoding="utf-8")
    embedder = SentenceTransformerEmbedder(str(tmp_path))
    embedder.check()
    assert embedder._model is None


@pytest.mark.model
def test_a_model_that_cannot_be_loaded_is_one_error_naming_it(tmp_path: Path) -> None:
    embedder = SentenceTransformerEmbedder("nonexistent-model")
    with pytest.raises(ModelLoadError) as raised:
        embedder.check()
    message = str(raised.value)
    assert message.startswith("STANCEWATCH_MODEL: cannot load sentence model 'nonexistent-model': ")
    assert "\n" not in message
    # Encoding later says the same, rather than a library traceback.
    with pytest.raises(ModelLoadError):
        embedder.encode(["text"])


def test_loading_the_model_prints_no_progress_bar(capfd: pytest.CaptureFixture[str]) -> None:
    # The demo and the service's log are read by people: a bar of control characters there
    # says nothing. The real packaged model, loaded from scratch.
    vectors = SentenceTransformerEmbedder().encode(["Talks resume on Friday."])
    assert vectors.shape == (1, 384)
    captured = capfd.readouterr()
    assert "Loading weights" not in captured.err + captured.out
    assert "it/s" not in captured.err + captured.out


def test_the_model_identity_follows_the_weights_without_loading_them(tmp_path: Path) -> None:
    # Vectors kept on disk are reused only under the same identity: it must change when
    # the weights do, stay put when nothing changed, and cost no model load.
    (tmp_path / "modules.json").write_text("[]", encoding="utf-8")
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\0" * 16)
    embedder = SentenceTransformerEmbedder(str(tmp_path))
    first = embedder.model_identity()
    assert first and first == SentenceTransformerEmbedder(str(tmp_path)).model_identity()
    weights.write_bytes(b"\1" * 16)  # same size, written again: a new modification time
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = embedder.model_identity()
    assert second != first
    weights.write_bytes(b"\1" * 32)
    assert embedder.model_identity() not in {first, second}
    assert embedder._model is None


def test_a_model_not_on_disk_has_no_identity() -> None:
    assert SentenceTransformerEmbedder("no-such-model-anywhere").model_identity() is None
    assert SentenceTransformerEmbedder().model_identity()  # the packaged one names itself


@pytest.mark.parametrize(
    "model",
    ["", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "/models/all-MiniLM-L6-v2/"],
)
def test_the_packaged_model_is_known_to_read_english_only(model: str) -> None:
    # Asked without loading anything: the pipeline asks at start.
    embedder = SentenceTransformerEmbedder(model)
    assert embedder.reads_english_only() is True
    assert embedder._model is None


def test_the_packaged_model_named_by_its_folder_reads_english_only() -> None:
    folder = embedder_module.default_model_path()
    assert SentenceTransformerEmbedder(folder).reads_english_only() is True


@pytest.mark.parametrize(
    "model",
    [
        "paraphrase-multilingual-MiniLM-L12-v2",
        "sentence-transformers/distiluse-base-multilingual-cased-v2",
        "intfloat/multilingual-e5-small",
    ],
)
def test_another_model_is_not_assumed_to_read_english_only(model: str) -> None:
    # A multilingual model reads other languages; an unknown one is given the benefit of
    # the doubt: a notice that is wrong is worse than one not given.
    assert SentenceTransformerEmbedder(model).reads_english_only() is False
