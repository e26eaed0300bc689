"""Checks of `former_ids:` (the ids an item had before a rename): each names one old id
that nothing else uses, so what the database keeps under it has one place to go."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.watchlists.source import KeyPath, Problem, Source, key_name


@dataclass(frozen=True)
class _Claim:
    """One former id as listed: whose it is, and where."""

    former_id: str
    owner: str  # the id of the item that lists it
    file: str
    line: int
    key: str


@dataclass
class FormerIds:
    """The former ids of one kind of item (topics, actors, or one topic's positions),
    gathered as the items are read and checked once every one of them is known."""

    kind: str  # "topic", "actor", "position"
    claims: list[_Claim] = field(default_factory=list)

    def add(
        self, owner: str, former_ids: Sequence[str], where: str, src: Source, path: KeyPath
    ) -> None:
        """Note the former ids the item `owner` at `path` lists."""
        for j, former_id in enumerate(former_ids):
            at = (*path, "former_ids", j)
            self.claims.append(_Claim(former_id, owner, where, src.line(at), key_name(at)))

    def problems(self, current: Mapping[str, str], of: str = "") -> list[Problem]:
        """An error for each former id that is its item's own id, a current id of the same
        kind (`current`: id -> "file:line"), or one another item claims too; `of`: the
        topic a position kind belongs to, as said in messages."""
        problems = []
        first: dict[str, _Claim] = {}
        kind = f"{self.kind} of topic {of!r}" if of else self.kind
        for claim in self.claims:
            earlier = first.setdefault(claim.former_id, claim)
            if claim.former_id == claim.owner:
                message = f"former id {claim.former_id!r} is this {self.kind}'s own id"
            elif claim.former_id in current:
                message = (
                    f"former id {claim.former_id!r} is the id of a current {kind}"
                    f" ({current[claim.former_id]}): its follows and history would be moved"
                    " away from it; remove it here, or rename that one"
                )
            elif earlier is not claim and earlier.owner != claim.owner:
                message = (
                    f"former id {claim.former_id!r} is also claimed by {self.kind}"
                    f" {earlier.owner!r} ({earlier.file}:{earlier.line}): what is kept under"
                    " it can go to one of them only"
                )
            elif earlier is not claim:
                message = f"former id {claim.former_id!r} is listed twice"
                problems.append(Problem(claim.file, claim.line, claim.key, message, "warning"))
                continue
            else:
                continue
            problems.append(Problem(claim.file, claim.line, claim.key, message))
        return problems
