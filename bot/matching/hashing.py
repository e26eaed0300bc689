"""A deterministic stand-in for the embedding model: hashed bag of words, no model needed.

For tests and benchmarks of the code *around* the model (storage, delivery, commands,
scheduling). It has no notion of meaning; matching quality is always measured with the
real model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


class HashingEmbedder:
    """Each word adds 1 to a hashed dimension; rows are unit length. Counts new texts."""

    def __init__(self, dims: int = 64, *, english_only: bool = False) -> None:
        self.dims = dims
        # Words of any script hash alike, so it reads every language; tests set this to
        # stand in for the packaged model, which reads English only.
        self.english_only = english_only
        self.texts_encoded = 0
        self._seen: set[str] = set()

    def reads_english_only(self) -> bool:
        """Whether this stand-in plays an English-only model."""
        return self.english_only

    def model_identity(self) -> str:
        """The same words always give the same vector: the width names the model."""
        return f"hashing-v1-{self.dims}"

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed the texts (an empty text gets a fixed unit vector)."""
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for row, text in enumerate(texts):
            if text not in self._seen:
                self._seen.add(text)
                self.texts_encoded += 1
            for word in re.findall(r"\w+", text.lower()) or [""]:
                digest = hashlib.sha256(word.encode()).digest()
                out[row, int.from_bytes(digest[:4], "big") % self.dims] += 1.0
            out[row] /= float(np.linalg.norm(out[row]))
        return out
