"""Carrying what the database keeps under a renamed topic, actor or position id to its new
id: follows, the position history, a topic's past alerts and scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.models import Carried, Rename, TopicLine
from bot.store.codec import alert_from_json, alert_to_json
from bot.store.connection import Connection


class RenameStore(Connection):
    """Moves rows from former ids to current ones (bot/renames.py says which)."""

    def carry_renames(self, renames: Sequence[Rename]) -> list[Carried]:
        """Move every rename's rows to its new id, all in one transaction; what each moved.

        Rows already under the new id win over the old id's copy of the same thing (a
        member who followed both keeps one follow, with the new one's DM choice). A second
        call finds nothing left under the old ids and moves nothing.
        """
        with self.transaction():
            return [self._carry(rename) for rename in renames]

    def _carry(self, rename: Rename) -> Carried:
        old, new = rename.old, rename.new
        if rename.kind == "actor":
            moved = self._update("statements", "actor_id", old, new)
            # Who relayed a statement is an actor id too: "/why" names them by it.
            self._update("statements", "reported_by", old, new)
            return Carried(statements=moved)
        if rename.kind == "position":
            cursor = self.db.execute(
                "UPDATE statements SET position_id = ? WHERE topic_id = ? AND position_id = ?",
                (new, rename.topic_id, old),
            )
            return Carried(statements=cursor.rowcount)
        self._retopic_alerts(old, new)  # before alert_topics moves: it says which alerts
        return Carried(
            follows=self._merge("followers", old, new),
            statements=self._update("statements", "topic_id", old, new),
            alerts=self._merge("alert_topics", old, new),
            scores=self._merge("matches", old, new),
        )

    def _update(self, table: str, column: str, old: str, new: str) -> int:
        cursor = self.db.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (new, old))
        return cursor.rowcount

    def _merge(self, table: str, old: str, new: str) -> int:
        """Move a table's rows keyed by topic id; a row the new id has already (its primary
        key but the topic the same) keeps that one and drops the old copy. The number of
        old rows, moved or merged."""
        moved = self.db.execute(
            f"UPDATE OR IGNORE {table} SET topic_id = ? WHERE topic_id = ?", (new, old)
        ).rowcount
        merged = self.db.execute(f"DELETE FROM {table} WHERE topic_id = ?", (old,)).rowcount
        return moved + merged

    def _retopic_alerts(self, old: str, new: str) -> None:
        """Give the alerts stored under a renamed topic its new id in their own topic lines.

        Deliveries find an alert's followers (and routes) by those ids: an alert still to go
        out when the topic was renamed (held for a digest, or waiting behind a retry) would
        otherwise mention and DM nobody, its followers being under the new id by then. A
        line already there under the new id keeps its place and the old one goes.
        """
        rows = self.db.execute(
            "SELECT a.id, a.payload FROM alerts a JOIN alert_topics t ON t.alert_id = a.id"
            " WHERE t.topic_id = ?",
            (old,),
        ).fetchall()
        for row in rows:
            alert = alert_from_json(row["payload"])
            lines: dict[str, TopicLine] = {}
            for line in alert.topics:
                moved = replace(line, topic_id=new) if line.topic_id == old else line
                lines.setdefault(moved.topic_id, moved)
            self.db.execute(
                "UPDATE alerts SET payload = ? WHERE id = ?",
                (alert_to_json(replace(alert, topics=tuple(lines.values()))), row["id"]),
            )
