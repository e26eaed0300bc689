"""The store's side of live-page revisions: each article's stored version, and its update."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.store.connection import Connection
from bot.store.rows import StoredVersion, from_row, iso


class RevisionStore(Connection):
    """Reads and rewrites the stored version of articles a feed lists again."""

    def stored_versions(self, ids: Sequence[str]) -> dict[str, StoredVersion]:
        """The stored versions of these article ids (those stored), by id."""
        found: dict[str, StoredVersion] = {}
        # 500 at a time: far below the number of parameters SQLite allows in one statement.
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = self.db.execute(
                "SELECT id, feed_url, title, text, fingerprint, revised_at, story_id"
                f" FROM articles WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update((row["id"], from_row(StoredVersion, row)) for row in rows)
        return found

    def set_fingerprint(self, article_id: str, fingerprint: str) -> None:
        """Keep the fingerprint computed for a row stored before fingerprints were."""
        self.db.execute(
            "UPDATE articles SET fingerprint = ? WHERE id = ?", (fingerprint, article_id)
        )

    def revise_article(
        self,
        article_id: str,
        *,
        title: str,
        text: str,
        fingerprint: str,
        revised_at: datetime,
        story_id: str | None,
    ) -> None:
        """Replace an article's stored version with its update, read at `revised_at`;
        a story id is given to an article that had none (its first alert)."""
        self.db.execute(
            "UPDATE articles SET title = ?, text = ?, fingerprint = ?, revised_at = ?,"
            " story_id = COALESCE(story_id, ?) WHERE id = ?",
            (title, text, fingerprint, iso(revised_at), story_id, article_id),
        )
