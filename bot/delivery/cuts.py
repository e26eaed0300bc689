"""Where text may be cut without splitting what a reader sees as one character.

Discord counts code points and Slack UTF-16 units, but a reader sees a flag (two regional
indicators), a family (emoji joined by U+200D), a thumbs-up with its skin tone, or "é"
written as "e" and a combining accent, as one character. Cut inside one, half a flag shows
as a boxed letter and a letter loses its accent. The standard library has no grapheme
splitter, so these rules cover what news text holds, not all of Unicode's (UAX #29).
"""

from __future__ import annotations

import unicodedata

_ZWJ = "\u200d"


def _extends(char: str) -> bool:
    """True for a character that belongs to the one before it: a combining mark (variation
    selectors included), a zero-width joiner, a skin tone, or a tag of a subdivision flag."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char == _ZWJ
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _regional(char: str) -> bool:
    """True for a regional indicator: two of them make one flag."""
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def clusters(text: str) -> list[str]:
    """`text` as the pieces a reader sees as one character each, in order."""
    out: list[str] = []
    for char in text:
        last = out[-1] if out else ""
        joins = last and (
            _extends(char)
            or last.endswith(_ZWJ)
            or (_regional(char) and len(last) == 1 and _regional(last))
        )
        if joins:
            out[-1] = last + char
        else:
            out.append(char)
    return out


def safe_cut(text: str, at: int) -> int:
    """The largest index at most `at` where `text` can be cut without splitting a character
    a reader sees as one (0 when the first one already reaches past `at`)."""
    at = max(0, min(at, len(text)))
    while 0 < at < len(text) and (_extends(text[at]) or text[at - 1] == _ZWJ):
        at -= 1
    if 0 < at < len(text) and _regional(text[at]):
        run = 0  # the regional indicators just before the cut pair up from the run's start
        while run < at and _regional(text[at - run - 1]):
            run += 1
        at -= run % 2
    return at
