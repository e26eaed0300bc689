"""Alerts in the terminal, with rich: the default when no platform is configured."""

from __future__ import annotations

from collections import deque

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.text import Text

from bot.delivery.base import day_label
from bot.delivery.digest import digest_heading, digest_reason
from bot.delivery.passages import restated_at, shown_at
from bot.models import Alert, Destination, DestinationKind, Digest


def _link_target(url: str) -> str:
    """The URL as a [link=…] tag value: a "]" would end the tag and leave the rest of the
    URL to be read as markup (styles, another link; an unmatched "[/link]" raises), and a
    space would be read as a second style word. Percent-encoded, they mean the same URL."""
    return url.replace("[", "%5B").replace("]", "%5D").replace(" ", "%20")


def alert_lines(alert: Alert) -> list[str]:
    """The alert as rich-markup lines (article text is escaped, so it cannot style itself)."""
    places = [shown_at(alert, t) for t in alert.topics]
    topics = ", ".join(
        f"{escape(t.topic_name)} ({t.score:.2f}{f', matched {place}' if place else ''})"
        for t, place in zip(alert.topics, places, strict=True)
    )
    lines = [f"[bold]Topics:[/bold] {topics}"]
    for topic, place in zip(alert.topics, places, strict=True):
        if place is None and topic.passage.strip():
            lines.append(
                f"[dim]Matched ({escape(topic.topic_name)}):[/dim] “{escape(topic.passage)}”"
            )
    lines += ["", escape(alert.summary), ""]
    for stance in alert.stances:
        who = f"{escape(stance.actor_name)} — {escape(stance.topic_name)}"
        relayed = f" (as reported by {escape(stance.reported_by)})" if stance.reported_by else ""
        if stance.is_shift:
            when = day_label(stance.before_date, "earlier")
            lines.append(f"[bold red]{who}: position shifted.[/bold red]")
            lines.append(
                f"  Now: [italic]{escape(stance.now_label)}[/italic]{relayed}"
                f" — “{escape(stance.now_quote)}”"
            )
            lines.append(
                f"  Before: [italic]{escape(stance.before_label or '')}[/italic]"
                f" ({escape(stance.before_source or '')}, {when})"
            )
        else:
            place = restated_at(alert, stance)
            evidence = f" ({place})" if place else f" — “{escape(stance.now_quote)}”"
            lines.append(f"[bold]{who}:[/bold] {escape(stance.now_label)}{relayed}{evidence}")
    if alert.stances:
        lines.append("")
    lines.append(f"[link={_link_target(alert.url)}]{escape(alert.url)}[/link]")
    lines.append(f"[dim]{escape(alert.source)} · {alert.published:%Y-%m-%d %H:%M} UTC[/dim]")
    if alert.also_reported_by:
        others = ", ".join(escape(source) for source, _ in alert.also_reported_by)
        lines.append(f"[dim]Also reported by: {others}[/dim]")
    return lines


def _block(lines: list[str]) -> Group:
    """The lines as one renderable; a line indented by two spaces stays indented when it
    wraps, so a long quote after "Now:" does not run back to the panel's edge."""
    parts: list[RenderableType] = []
    for line in lines:
        if line.startswith("  "):
            parts.append(Padding(Text.from_markup(line[2:]), (0, 0, 0, 2)))
        else:
            parts.append(Text.from_markup(line))
    return Group(*parts)


def digest_lines(digest: Digest) -> list[str]:
    """A digest as rich-markup lines, one per held alert (article text escaped)."""
    lines: list[str] = []
    for item in digest.items:
        topics = ", ".join(escape(name) for name in item.topic_names)
        shift = " [bold red]position shift[/bold red]" if item.shifted else ""
        also = (
            f" · also {escape(', '.join(item.also_reported_by))}" if item.also_reported_by else ""
        )
        lines.append(
            f"• [link={_link_target(item.url)}]{escape(item.title)}[/link]"
            f" [dim]({escape(item.source)} · {topics}{also})[/dim]{shift}"
        )
    lines += ["", f"[dim]{escape(digest_reason(digest))}[/dim]"]
    return lines


# How many of the latest alerts and edits the console remembers in `sent` (the demo and
# tests read them back): every one of them, for as long as the service ran, was memory that
# only grew. A demo replay prints a few dozen.
SENT_KEPT = 200


class ConsoleDelivery:
    """Prints each alert as a panel; an edit prints the updated alert again, marked as such."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self.sent: deque[Alert] = deque(maxlen=SENT_KEPT)

    def handles(self, destination: Destination) -> bool:
        """The console takes console destinations."""
        return destination.kind is DestinationKind.CONSOLE

    def _print(self, alert: Alert, edited: bool) -> None:
        title = escape(alert.title)
        if edited:
            title = "[yellow](updated)[/yellow] " + title
        self.console.print(
            Panel(
                _block(alert_lines(alert)),
                title=title,
                title_align="left",
                border_style="yellow" if edited else "cyan",
            )
        )

    async def send(self, destination: Destination, alert: Alert) -> str | None:
        """Print the alert."""
        self.sent.append(alert)
        self._print(alert, edited=False)
        return alert.id

    async def edit(self, destination: Destination, message_ref: str, alert: Alert) -> None:
        """Print the updated alert (a terminal cannot edit what it printed)."""
        self.sent.append(alert)
        self._print(alert, edited=True)

    def digest_parts(self, destination: Destination, digest: Digest) -> list[Digest]:
        """A terminal has no message limits: one part."""
        return [digest]

    async def send_digest(self, destination: Destination, digest: Digest) -> None:
        """Print the digest as one panel (the console itself is never capped; see digest.py)."""
        self.console.print(
            Panel(
                "\n".join(digest_lines(digest)),
                title=escape(digest_heading(digest)),
                title_align="left",
                border_style="magenta",
            )
        )

    async def notify_admins(self, text: str) -> None:
        """Print an admin notice."""
        self.console.print(f"[bold yellow]admin:[/bold yellow] {escape(text)}")
