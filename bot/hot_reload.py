"""Hot reload: watch the watchlist folder and apply what a deploy leaves there once it has
settled; a state that stays bad is refused (the last good set kept) and admins are told once.

A deploy is seldom one write. `git checkout` of a branch that renames a file deletes the
old name and writes the new one; `cp -r` or rsync writes one file after another; a folder
is deleted and copied again. On a slow disk the steps come a second or more apart, and the
folder between two of them holds a duplicate id, a route to a topic not yet written, or
nothing at all. So: what the folder holds is read once it has stopped changing, and a
refusal is told only when it still stands a few seconds later.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import App
from bot.left_behind import present
from bot.logs import redact_urls
from bot.models import Watchlist
from bot.reload import FolderState, folder_state, problem_text, reload_watchlists
from bot.renames import named
from bot.waiting import until_any

log = logging.getLogger(__name__)

# The folder is read once it has not changed for this long: the steps of one deploy (a
# checkout's delete and write, a copy's files) are read together, not one by one.
SETTLE_S = 1.0
# A folder that never stops changing (a sync in a loop) is read after this long anyway.
SETTLE_AT_MOST_S = 10.0
# A refused state is told, in the log and to admins, only once it has stood this long with
# nothing in the folder changing: a deploy on a slow disk fixes its half-written state
# within seconds. The last good watchlists stay in use meanwhile, as after any refusal.
REFUSE_AFTER_S = 5.0
# How often a deleted watchlist folder is looked for again.
FOLDER_CHECK_S = 1.0
# While the folder cannot be watched (the system's inotify limits reached), it is read this
# often (then SETTLE_S to see it is still) instead, and watching is tried again this often.
POLL_S = 2.0
WATCH_AGAIN_S = 60.0


@dataclass
class _Refusals:
    """What admins were told was refused, and the refusal waiting to be told."""

    told: set[str] = field(default_factory=set)
    waiting: str | None = None
    due: float = 0.0

    def wait_for(self, text: str) -> None:
        """Hold `text` back until REFUSE_AFTER_S from now, unless it was told already."""
        if text in self.told:
            self.waiting = None  # said already, the same way: nothing new to say
            return
        self.waiting, self.due = text, time.monotonic() + REFUSE_AFTER_S


@dataclass
class _Locked:
    """Whether an edit waiting for another program's write lock was said (once a stretch)."""

    said: bool = False


class _Listener:
    """watchfiles on the folder, setting `changed` at each change a reload could care about.

    Its own stop event: watchfiles sets the event it was given when it is cancelled, and the
    service's own would stop the service.
    """

    def __init__(self, folder: Path, changed: asyncio.Event) -> None:
        self.quit = asyncio.Event()
        self.folder = folder
        self.identity = folder_identity(folder)  # the folder the watch follows
        # Still running by then, it has its watch: watchfiles asks for it as it starts.
        self.settled = time.monotonic() + SETTLE_S
        self.error: Exception | None = None  # why watchfiles stopped, if it failed
        self.task = asyncio.create_task(self._listen(folder, changed))

    async def _listen(self, folder: Path, changed: asyncio.Event) -> None:
        from watchfiles import awatch

        try:
            watch = awatch(
                folder, stop_event=self.quit, debounce=800, watch_filter=read_by_reload(folder)
            )
            async for _changes in watch:
                changed.set()
        except Exception as exc:  # the folder went, or the system refused the watch
            self.error = exc

    def lost(self) -> bool:
        """Whether the watch no longer reports on the folder at its path: it failed, or that
        folder went (deleted, or moved aside with a new one put in its place; a move sends
        no event from inside, and the watch follows the folder moved)."""
        return self.task.done() or folder_identity(self.folder) != self.identity

    async def close(self) -> None:
        """Stop watching (within watchfiles' 50 ms step)."""
        self.quit.set()
        with contextlib.suppress(Exception):
            await self.task


def folder_identity(folder: Path) -> tuple[int, int] | None:
    """(device, inode) of the folder at this path; None when there is no folder."""
    try:
        status = folder.stat()
    except OSError:
        return None
    return (status.st_dev, status.st_ino) if folder.is_dir() else None


async def settled_state(folder: Path, stop: asyncio.Event) -> FolderState:
    """What the folder holds once it has not changed for SETTLE_S (SETTLE_AT_MOST_S at most)."""
    end = time.monotonic() + SETTLE_AT_MOST_S
    state = folder_state(folder)
    while not stop.is_set() and time.monotonic() < end:
        await until_any((stop,), SETTLE_S)
        again = folder_state(folder)
        if again == state:
            break
        state = again
    return state


async def watch_watchlists(app: App, stop: asyncio.Event) -> None:
    """Hot reload: apply good edits within seconds; refuse bad ones and keep the last good set."""
    watcher = _Watcher(app, stop)
    # Edits made while the service was down are met here first.
    await say_left_behind(app, None, watcher.left)
    try:
        while not stop.is_set():
            await watcher.keep_listening()
            if not await watcher.wait_for_news():
                continue
            state = await settled_state(watcher.folder, stop)
            if stop.is_set():
                break
            await watcher.look_at(state)
    finally:
        await watcher.stop_listening()


class _Watcher:
    """What hot reload keeps between two looks at the folder: the watch on it, what the
    watchlists in use were read from, and what admins were told."""

    def __init__(self, app: App, stop: asyncio.Event) -> None:
        self.app = app
        self.stop = stop
        self.folder = app.settings.watchlists_dir
        self.refusals = _Refusals()
        start = app.loaded_from
        # The warnings the start printed: the first reload says only those that are new.
        self.warned: set[str] = set(start.warnings) if start is not None else set()
        self.left: set[tuple[str, str, str]] = set()  # LeftBehind keys admins were told of
        self.changed = asyncio.Event()
        self.listener: _Listener | None = None
        # What the watchlists in use were read from: at the start, before the model loaded,
        # so an edit made while it loaded is applied now rather than at the next change.
        self.read = start.state if start is not None else folder_state(self.folder)
        self.look_again: float | None = None  # when to look though nothing was reported
        self.polling = False  # watching failed: the folder is read every POLL_S instead
        self.watch_again = 0.0  # when to try watching again, while polling
        self.locked = _Locked()

    async def keep_listening(self) -> None:
        """Watch the folder now at the path: again after it was deleted or replaced, and by
        reading it on a timer while the system refuses the watch."""
        listener = self.listener
        if listener is not None and listener.lost():
            # A deleted or replaced folder's watch went with it, silently: the folder now at
            # the path is watched anew.
            failed = listener.error if self.folder.is_dir() else None
            await listener.close()
            self.listener = None
            if failed is not None:
                self._poll_instead(failed)
        elif self.polling and listener is not None and time.monotonic() > listener.settled:
            # Still listening a while after it started: the system took the watch.
            self.polling = False
            log.info("watching %s for changes again", self.folder)
        if self.listener is None and self.folder.is_dir() and time.monotonic() >= self.watch_again:
            self.listener = _Listener(self.folder, self.changed)
            # What was written before it listened is found by looking once it does.
            self.look_again = time.monotonic() + SETTLE_S

    def _poll_instead(self, failed: Exception) -> None:
        """The system refused the watch (its inotify limits): edits would be missed, so the
        folder is read on a timer until watching works again."""
        if not self.polling:
            log.warning(
                "cannot watch %s for changes (%s): edits are picked up by reading the folder"
                " every %.0f s instead, and watching is tried again every %.0f s%s",
                self.folder,
                failed,
                POLL_S + SETTLE_S,
                WATCH_AGAIN_S,
                _how_to_watch_again(failed),
            )
        self.polling = True
        self.watch_again = time.monotonic() + WATCH_AGAIN_S

    async def wait_for_news(self) -> bool:
        """Wait for a change, a look or a refusal falling due, or the next folder check;
        True when the folder is to be read now."""
        waits = [d for d in (self.look_again, _due(self.refusals)) if d is not None]
        # The folder is looked for again, or looked at to see it is still the one watched.
        deadlines = [*waits, time.monotonic() + FOLDER_CHECK_S]
        if self.polling:
            deadlines.append(time.monotonic() + POLL_S)
        timeout = max(0.0, min(deadlines) - time.monotonic())
        await until_any((self.changed, self.stop), timeout)
        if self.stop.is_set():
            return False
        due = any(wait <= time.monotonic() for wait in waits)
        if self.listener is not None and not (self.changed.is_set() or self.polling or due):
            return False  # only the folder check was due: done at the top of the loop
        self.changed.clear()  # before reading: a change from now on wakes us again
        self.look_again = None
        return True

    async def look_at(self, state: FolderState) -> None:
        """Apply what the folder now holds, or tell a refusal that has stood long enough."""
        if state != self.read and not await _writable(self.app, self.locked):
            # Applied now, it would have waited for the lock on the event loop and then
            # kept the edit without its writes (renamed ids not carried over).
            self.look_again = time.monotonic() + FOLDER_CHECK_S  # tried at the next check
        elif state != self.read:
            self.read = state
            await _reload(self.app, self.refusals, self.warned, self.left)
        elif self.refusals.waiting is not None and time.monotonic() >= self.refusals.due:
            await _tell_refusal(self.app, self.refusals)

    async def stop_listening(self) -> None:
        """Stop watching the folder."""
        if self.listener is not None:
            await self.listener.close()
            self.listener = None


async def _writable(app: App, locked: _Locked) -> bool:
    """Whether the database takes writes now, waited for off the event loop; a lock held by
    another program past the busy timeout is said once while the edit waits for it."""
    try:
        writable = await app.writes_taken()
    except sqlite3.Error:
        writable = True  # not a lock: the reload's own writes say what they meet
    if not writable and not locked.said:
        log.warning(
            "watchlist edit not applied yet: the database is locked by another program"
            " (tried again every few seconds until it is free)"
        )
    locked.said = not writable
    return writable


def _how_to_watch_again(error: Exception) -> str:
    """What an operator can do about a watch the system refused ("" when it is not known)."""
    code = error.errno if isinstance(error, OSError) else None
    # inotify says ENOSPC when its watches are used up; watchfiles may say it in words.
    if code == errno.ENOSPC or "watch limit" in str(error).lower():
        return " (the inotify watch limit is reached: raise fs.inotify.max_user_watches)"
    if code == errno.EMFILE:
        return " (too many inotify instances: raise fs.inotify.max_user_instances)"
    return ""


def _due(refusals: _Refusals) -> float | None:
    return refusals.due if refusals.waiting is not None else None


async def _reload(
    app: App, refusals: _Refusals, warned: set[str], left: set[tuple[str, str, str]]
) -> None:
    """Read the folder again: apply it, or hold its refusal back until it has stood."""
    before = app.watchlist
    try:
        text = _reload_once(app, warned)
    except Exception as exc:  # one odd edit must not end hot reload for good
        # Not a half-written folder (that is refused, not raised): said at once.
        log.exception("watchlist reload failed, keeping the last good watchlists")
        text = f"reload failed ({type(exc).__name__}: {exc})"
        if text not in refusals.told:
            refusals.told.add(text)
            await app.notify_admins(f"Watchlist edit refused (last good set kept): {text}")
        refusals.waiting = None
        return
    if text is not None:
        refusals.wait_for(text)
        if refusals.waiting is not None:
            log.info(
                "watchlists changed but are not valid yet; looked at again in %.0f s",
                REFUSE_AFTER_S,
            )
        return
    refusals.waiting = None  # fixed before it was told: nobody hears of it
    if refusals.told:
        # Admins were told of the refusal: like a feed that recovers, they are told it is
        # over, or the admin channel's last word on it stays "refused".
        await app.notify_admins(
            "Watchlist edit applied: the watchlists are valid again (the refused edit is fixed)."
        )
    refusals.told.clear()
    await say_left_behind(app, before, left)


async def _tell_refusal(app: App, refusals: _Refusals) -> None:
    """The refused state has stood: say it, once, in the log and to admins."""
    text = refusals.waiting
    assert text is not None
    refusals.waiting = None
    refusals.told.add(text)
    log.error("watchlist edit refused, keeping the last good watchlists: %s", text)
    await app.notify_admins(f"Watchlist edit refused (last good set kept): {text}")


async def say_left_behind(
    app: App, before: Watchlist | None, told: set[tuple[str, str, str]]
) -> None:
    """Warn in the log and tell admins, once while it stands, of each id the watchlists no
    longer have that followers or a position history still use (`before`: the watchlist
    just replaced, None at the start).

    A renamed or deleted topic leaves its follows on the old id, where no alert comes, and
    a renamed actor leaves its history where /positions and shifts no longer look: without
    this, members hear nothing and nobody says why. `told` holds what was said already.
    """
    try:
        found = app.left_behind(before)
    except sqlite3.Error as exc:  # the check must never cost the reload that was applied
        log.warning("could not compare the watchlists with what the database keeps: %s", exc)
        return
    current = present(app.watchlist)
    back = [
        f"{named(key)} is back in the watchlists: what was kept under it is in use again"
        for key in sorted(told & current)
    ]
    told -= current
    fresh = [str(item) for item in found if item.key not in told]
    told.update(item.key for item in found)
    for text in back:
        log.info("watchlist: %s", text)
    for text in fresh:
        log.warning("watchlist: %s", text)
    if back or fresh:
        # Admins told an id was gone are told it is back, as they are of a feed.
        await app.notify_admins("Watchlists: " + "; ".join([*fresh, *back]))


def _reload_once(app: App, warned: set[str]) -> str | None:
    """Read the watchlists again and apply them; None when applied, else what was refused.

    `warned`: the warnings already logged; each is logged once while it stands.
    """
    result = reload_watchlists(
        app.settings.watchlists_dir, app.watchlist, app.settings.default_interval_s
    )
    if result.applied:
        assert result.watchlist is not None
        app.use_watchlist(result.watchlist)
        # Diff lines name feeds by URL, and a feed URL may carry a token or a password.
        # Each line is cleaned before they are joined, so no separator is read as part
        # of a URL.
        changes = "; ".join(redact_urls(line) for line in result.changes)
        log.info("watchlists reloaded: %s", changes or "no changes")
        # What `check` and the start show as warnings (an unset ${VAR} skips a destination),
        # once each: an edit elsewhere in the folder does not repeat them.
        current = set(map(problem_text, result.problems))
        for text in sorted(current - warned):
            log.warning("watchlist: %s", text)
        warned.clear()
        warned.update(current)
        return None
    # Told once while it stands: a file left broken is read again at every change in its
    # folder, and said the same way each time.
    return "; ".join(problem_text(p) for p in result.problems if p.severity == "error")


def read_by_reload(folder: Path) -> Callable[[object, str], bool]:
    """The changes in `folder` a reload could care about: its watchlist files, the folder
    itself, and a Kubernetes ConfigMap's swap of its `..data` link.

    An editor's autosave (`#a.yaml#`), a backup or a note beside the files woke the watcher
    at every save of a file no reload reads. (What is read is compared too, so a wake-up
    that changed nothing reloads nothing.)
    """

    def wanted(change: object, path: str) -> bool:
        name = Path(path).name
        if Path(path) == folder:
            return True  # the folder deleted: the watcher must look for it again
        if name == "..data":
            # A ConfigMap's files are links through `..data`, which the kubelet points at a
            # new folder in one rename: the files themselves report no change.
            return True
        # Hidden files are not read either (see watchlist_files).
        return not name.startswith(".") and name.endswith((".yaml", ".yml"))

    return wanted
