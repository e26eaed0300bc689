"""The watchlist's own vectors, kept on disk: a restart does not embed its texts again.

The matcher and the position assigner embed every topic's description, examples and
near-misses and every position's label and examples when they first score: with 200
topics (4,784 texts) that was most of a `run --once` with one new article (docs/performance.md,
"Restarts"). `VectorCache` wraps any `Embedder`: the texts of the watchlist in use are
served from vectors stored beside the other data, and only texts the store does not hold
(new or edited ones) reach the model. Every other text (article passages) goes straight
to the wrapped embedder and is never stored.

It knows the storage only through `VectorRows`, so the embedder module, `eval` and tests
without a database are untouched; the app wires the two (bot/app.py). A stored vector is
used only under the same model identity (`NamedModel.model_identity`); a row that does not
read as a unit float32 vector of the model's width is ignored and embedded again. The store
failing (a read-only or full disk) leaves the vectors in memory only: it never stops the
service. Those it could not save are saved at the next reload or at stop, once the disk
has room again, so the next start does not embed them again.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np

from bot.matching.embedder import Embedder
from bot.models import Watchlist
from bot.store.connection import database_busy

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

T = TypeVar("T")

# Rows are unit length (the Embedder contract); a stored row further from 1 than this is
# damaged. float32 rounding leaves ~1e-7.
_NORM_TOLERANCE = 1e-3


class VectorRows(Protocol):
    """Where the vectors live: bytes by model identity and text key (bot/store/vectors.py)."""

    def text_vectors(self, model: str) -> dict[bytes, bytes]:
        """Every stored vector of this model, by text key."""
        ...

    def save_text_vectors(self, model: str, vectors: Mapping[bytes, bytes]) -> None:
        """Store (or replace) these vectors of this model."""
        ...

    def keep_text_vectors(self, model: str, keys: Collection[bytes]) -> int:
        """Drop every vector but these keys of this model (and other models' vectors)."""
        ...

    def close(self) -> None:
        """Release the storage."""
        ...


def watchlist_texts(watchlist: Watchlist) -> list[str]:
    """Every text of the watchlist that the matcher or the position assigner embeds."""
    texts: list[str] = []
    for topic in watchlist.topics:
        texts += [topic.description, *topic.examples, *topic.exclude]
        for position in topic.positions:
            texts += [position.label, *position.examples]
    return list(dict.fromkeys(texts))


def text_key(text: str) -> bytes:
    """The key a text is stored under: its SHA-256 (a lone surrogate is kept, not refused)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _decode(stored: Mapping[str, bytes], width: int | None) -> dict[str, NDArray[np.float32]]:
    """The stored rows that read as unit float32 vectors of one width, by text.

    The width is the model's when known, else the one most rows have: a row of another
    width is another model's (or damaged), like a row cut short or not of unit length, and
    is left out (embedded again). Rows of one length are read as one matrix.
    """
    by_length: dict[int, list[str]] = {}
    for text, value in stored.items():
        if value and not len(value) % 4:
            by_length.setdefault(len(value), []).append(text)
    readable: dict[int, dict[str, NDArray[np.float32]]] = {}
    for length, texts in by_length.items():
        joined = b"".join(stored[text] for text in texts)
        matrix = np.frombuffer(joined, dtype="<f4").reshape(len(texts), length // 4)
        matrix = matrix.astype(np.float32)
        norms = np.linalg.norm(matrix, axis=1)
        good = np.isfinite(matrix).all(axis=1) & (np.abs(norms - 1.0) <= _NORM_TOLERANCE)
        readable[length // 4] = {t: matrix[i] for i, t in enumerate(texts) if good[i]}
    if width is None:
        width = max(readable, key=lambda w: len(readable[w]), default=0)
    return readable.get(width, {})


class VectorCache:
    """An `Embedder` that serves the watchlist's texts from stored vectors.

    `watch` names the texts worth keeping (the watchlist's, at start and at each reload).
    At the next `encode` their stored vectors are read, in one query, and rows of texts no
    longer listed (or of another model) are dropped, so the table holds one watchlist's
    texts. `encode` sends to the wrapped embedder only what it does not hold, and stores
    what comes back for watched texts.
    """

    def __init__(self, model: Embedder, identity: str, rows: VectorRows) -> None:
        self.model = model
        self.identity = identity
        self._rows: VectorRows | None = rows
        self._lock = threading.Lock()
        self._keys: dict[str, bytes] = {}  # watched text -> text key
        self._vectors: dict[str, NDArray[np.float32]] = {}  # watched text -> its vector
        self._width: int | None = None
        self._loaded = True  # nothing is watched yet
        # Vectors of watched texts the storage refused (a full disk), by text key: saved
        # with the next save that works, at a reload or at stop.
        self._unsaved: dict[bytes, bytes] = {}
        self._failure: str | None = None  # the storage failure last said, until one works

    @property
    def texts_encoded(self) -> int:
        """How many texts the wrapped embedder sent to its model (bench, tests)."""
        return int(getattr(self.model, "texts_encoded", 0))

    def watch(self, texts: Iterable[str]) -> None:
        """Keep these texts' vectors from now on, and only these.

        The stored vectors are read at the next `encode`, not now: a `run --once` with no
        new article embeds nothing and reads nothing.
        """
        with self._lock:
            self._keys = {text: text_key(text) for text in texts}
            self._vectors = {t: v for t, v in self._vectors.items() if t in self._keys}
            kept = set(self._keys.values())
            self._unsaved = {k: v for k, v in self._unsaved.items() if k in kept}
            self._loaded = False

    def _load(self) -> None:
        """Read the stored vectors of the watched texts not held yet; drop the other rows."""
        self._loaded = True
        wanted = {key: text for text, key in self._keys.items() if text not in self._vectors}
        if wanted:
            rows: dict[bytes, bytes] = {}
            rows = self._use(lambda store: store.text_vectors(self.identity), rows)
            found = {wanted[key]: value for key, value in rows.items() if key in wanted}
            self._vectors.update(_decode(found, self._width))
            if self._width is None and self._vectors:
                self._width = len(next(iter(self._vectors.values())))
            log.info(
                "watchlist vectors: %d of %d texts read from the database",
                len(self._vectors),
                len(self._keys),
            )
        # Rows of texts that left the watchlist, or of another model, are of no more use.
        self._use(lambda store: store.keep_text_vectors(self.identity, self._keys.values()), 0)
        self._save({})  # what a full disk refused earlier, if it has room now

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed the texts; held watchlist texts are not sent to the model."""
        with self._lock:
            if not self._loaded:
                self._load()
            found = {text: self._vectors[text] for text in texts if text in self._vectors}
            width = self._width
        if texts and len(found) == len(set(texts)):
            return np.vstack([found[text] for text in texts])
        if not texts and width is not None:
            return np.zeros((0, width), dtype=np.float32)
        missing = [text for text in dict.fromkeys(texts) if text not in found]
        # The model is called outside the lock: a reload (`watch`, on the event loop) never
        # waits for a batch of articles to be embedded.
        computed = self.model.encode(missing)
        with self._lock:
            stale = self._width is not None and self._width != computed.shape[1]
            if stale:
                # Held vectors of another width than the model's are not this model's.
                log.warning(
                    "stored watchlist vectors are %d wide, the model's %d: embedding again",
                    self._width,
                    computed.shape[1],
                )
                self._vectors.clear()
            self._width = int(computed.shape[1])
            self._remember(missing, computed)
        if stale and found:
            return self.encode(texts)  # the held ones are gone: they are embedded now
        if not texts:
            return computed
        found.update(zip(missing, computed, strict=True))
        return np.vstack([found[text] for text in texts])

    def _remember(self, texts: Sequence[str], rows: NDArray[np.float32]) -> None:
        """Hold the watched ones of these new vectors, and store them (under the lock)."""
        fresh: dict[bytes, bytes] = {}
        for text, row in zip(texts, rows, strict=True):
            key = self._keys.get(text)
            if key is not None:
                self._vectors[text] = np.array(row, dtype=np.float32)
                fresh[key] = self._vectors[text].astype("<f4").tobytes()
        self._save(fresh)

    def _save(self, fresh: dict[bytes, bytes]) -> None:
        """Store these vectors and those refused before (under the lock); keep them all
        for the next try when the storage refuses."""
        pending = {**self._unsaved, **fresh}
        if not pending:
            return

        def save(store: VectorRows) -> bool:
            store.save_text_vectors(self.identity, pending)
            return True

        self._unsaved = {} if self._use(save, False) else pending

    def close(self) -> None:
        """Save what the storage refused before, if it can, and release it (the vectors
        held in memory stay usable)."""
        with self._lock:
            self._save({})
            rows, self._rows = self._rows, None
            if rows is not None:
                self._close_quietly(rows)

    def _use(self, call: Callable[[VectorRows], T], default: T) -> T:
        """Run a storage call; `default` when it fails, said once until a call works again.

        The cache only saves time: a read-only file or a full disk must not stop matching,
        so the vectors then live in memory, and the storage is tried again at the next
        reload and at stop (a disk freed meanwhile takes them); a lock another program holds
        for a while costs only the call it held up.
        """
        if self._rows is None:
            return default
        try:
            result = call(self._rows)
        except Exception as exc:  # sqlite3.Error and anything else: never worth a crash
            if isinstance(exc, sqlite3.Error) and database_busy(exc):
                # Another program held the write lock past the busy timeout (a `sqlite3`
                # shell, a backup): only this call is lost; the next one tries again.
                log.info("watchlist vectors not saved this time: %s", exc)
                return default
            if str(exc) != self._failure:
                self._failure = str(exc)
                log.warning(
                    "watchlist vectors are not kept on disk for now (tried again at the next"
                    " reload and at stop): %s",
                    exc,
                )
            return default
        if self._failure is not None:
            self._failure = None
            log.info("watchlist vectors are kept on disk again")
        return result

    @staticmethod
    def _close_quietly(rows: VectorRows) -> None:
        try:
            rows.close()
        except Exception:  # closing what already failed: nothing more to say
            log.debug("closing the vector store failed", exc_info=True)
