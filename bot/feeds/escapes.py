"""Feed text escaped twice: the character references a reader would otherwise see.

Publishing systems sometimes escape an item's HTML twice ("Kyiv&amp;amp;#8217;s" in the
XML). Decoded as the feed says, once by XML and once as HTML, it still reads
"Kyiv&#8217;s", "Talks &amp; sanctions" or "<p>Ministers met.</p>", and that is what
alerts showed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.entities import html5

# A character reference HTML knows: numeric, or a name the HTML standard lists ("&amp;",
# "&nbsp;", "&#8217;"). "AT&T;" is text.
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|([A-Za-z][A-Za-z0-9]{1,31}));")
# A whole tag of the markup news items use: "<p>" left in the text after decoding is
# markup that was escaped twice, not words.
_TAG = re.compile(
    r"</?(?:p|br|div|span|a|b|i|em|strong|li|ul|ol|h[1-6]|blockquote|img|figure|figcaption"
    r"|table|tr|td|th)(?:\s[^<>]{0,500})?/?>",
    re.I,
)
# Escaped three times is the most seen; each round decodes one.
MAX_ROUNDS = 2


def escaped(text: str) -> bool:
    """True when the text still holds a character reference HTML would decode, or a tag."""
    if _TAG.search(text):
        return True
    return any(m.group(1) is None or f"{m.group(1)};" in html5 for m in _REFERENCE.finditer(text))


def decoded_again(text: str, to_text: Callable[[str], str]) -> str:
    """Text decoded once more, paragraph by paragraph, while references or tags remain.

    `to_text` turns one paragraph of HTML into plain text (paragraphs separated by blank
    lines), as the first decoding did: escaped markup ("&lt;p&gt;") becomes paragraphs.
    """
    for _ in range(MAX_ROUNDS):
        if not escaped(text):
            break
        text = "\n\n".join(to_text(p) if escaped(p) else p for p in text.split("\n\n"))
    return text
