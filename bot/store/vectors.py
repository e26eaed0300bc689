"""The vectors of the watchlists' own texts, kept so that a restart does not embed them again.

Rows are opaque here: a model identity, a text key and the vector's bytes. What they mean,
and whether a row is still usable, is for `bot.matching.vectors` to judge.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bot.store.connection import Connection

_CHUNK = 500  # keys per statement, well under SQLite's limit on bound parameters


class TextVectorStore(Connection):
    """Vectors of watchlist texts, by model identity and text key."""

    def text_vectors(self, model: str) -> dict[bytes, bytes]:
        """Every stored vector of this model, by text key."""
        rows = self.db.execute(
            "SELECT text_key, vector FROM text_vectors WHERE model = ?", (model,)
        )
        return {bytes(r["text_key"]): bytes(r["vector"]) for r in rows}

    def save_text_vectors(self, model: str, vectors: Mapping[bytes, bytes]) -> None:
        """Store (or replace) these vectors of this model, in one transaction."""
        if not vectors:
            return
        with self.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO text_vectors (model, text_key, vector) VALUES (?, ?, ?)",
                [(model, key, value) for key, value in vectors.items()],
            )

    def keep_text_vectors(self, model: str, keys: Collection[bytes]) -> int:
        """Drop every vector but these keys of this model; return how many rows went.

        Rows of other models go too: only one model embeds for a database at a time, and a
        vector is only worth keeping for a text of the watchlist in use.
        """
        keep = set(keys)
        with self.transaction():
            dropped = self.db.execute("DELETE FROM text_vectors WHERE model != ?", (model,))
            count = dropped.rowcount
            stored = self.db.execute(
                "SELECT text_key FROM text_vectors WHERE model = ?", (model,)
            ).fetchall()
            stale = [bytes(r["text_key"]) for r in stored if bytes(r["text_key"]) not in keep]
            for start in range(0, len(stale), _CHUNK):
                chunk = stale[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                self.db.execute(
                    f"DELETE FROM text_vectors WHERE model = ? AND text_key IN ({marks})",
                    [model, *chunk],
                )
            return count + len(stale)
