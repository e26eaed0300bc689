"""The page around a story, told apart from the story: what feed text and pages leave out.

Feed items and article pages carry more than the story: advertising labels, newsletter and
subscription prompts, related-story links, photo credits, bylines, time stamps, share
buttons, cookie notices, copyright lines, publishing-system trailers. Left in, they were
sentences like any other: the summary opened with "Updated 3 November, 10:14 GMT", a
related link ("Related: Moscow rejects …") became a topic's matched passage and an actor's
quote, and a credit line was a sentence of the summary.

Only whole paragraphs are dropped, and only short ones of a recognisable shape: a sentence
of the story that merely mentions cookies, a photo or reading more stays.
"""

from __future__ import annotations

import re

from bot.text import words

# WordPress shortcodes that feeds leak unrendered. A [caption] block wraps a photo and its
# caption, which describe the picture, not the story: dropped whole. The media ones are
# dropped as tags (an [embed]'s URL inside is dropped with its block).
# A block ends before the next one opens: unclosed, each searched the rest of the text
# for its end, and thousands of them took minutes.
_CAPTION_BLOCK = re.compile(
    r"\[(caption|wp_caption|embed)\b[^\]\[]*\]"
    r"(?:(?!\[(?:caption|wp_caption|embed)\b).)*?\[/\1\]",
    re.I | re.S,
)
_SHORTCODE = re.compile(
    r"\[/?(?:caption|wp_caption|gallery|embed|audio|video|playlist)\b[^\]\[]*\]", re.I
)
# Common publishing-system trailers that say nothing about the story: WordPress's "The post
# X appeared first on Y." footer, "Continue reading X" excerpt links, "Read more" links.
# Matched only as a whole paragraph or at the very end of the text after a sentence end.
# "Read the full story at Example Wire": the outlet named after "at" or "on" is short.
_TRAILER = (
    r"(?:the post .{1,300} appeared first on .{1,200}"
    r"|continue reading\b.{0,200}"
    r"|read (?:more|the (?:full|rest of the) (?:story|article))\b(?: (?:at|on) \S+(?: \S+){0,3})?"
    r"\W{0,6}"
    r"|\[(?:…|\.\.\.)\])"
)
_TRAILER_PARAGRAPH = re.compile(rf"^{_TRAILER}$", re.I)
_TRAILER_AT_END = re.compile(rf"(?<=[.!?…\]])\s+{_TRAILER}$", re.I)
# "[…]" / "[...]", WordPress's mark for an excerpt cut short, reads better as "…".
_CUT_MARK = re.compile(r"\s*\[(?:…|\.\.\.)\]\s*$")

# Subscription and registration prompts: a paywalled page extracts to its teaser plus these.
PAYWALL = re.compile(
    r"subscribe (?:now )?to (?:continue|keep) reading"
    r"|(?:already|are you) an? (?:subscriber|member)"
    r"|to (?:continue|keep) reading,? (?:please )?(?:subscribe|sign in|log in|register)"
    r"|(?:sign|log) in to (?:continue|keep) reading"
    r"|create a free account to (?:continue|keep) reading"
    r"|(?:only|exclusively) available (?:to|for) (?:subscribers|members)"
    r"|this (?:article|story|content) is (?:for|reserved for) (?:subscribers|members)"
    r"|get unlimited (?:digital )?access"
    r"|you(?:'ve| have) reached (?:your|the) (?:free )?(?:article|story) limit"
    r"|^subscribe (?:now )?to read\b",
    re.I,
)
# A paragraph this long is article prose whatever it mentions.
MAX_FURNITURE_CHARS = 400

# Paragraphs that are page furniture by their whole shape. Each is anchored at both ends,
# so a sentence of the story that starts the same way ("Related talks in Vienna ended …",
# "By Tuesday, the troops had left.") does not match.
_FURNITURE = [
    re.compile(pattern, re.I)
    for pattern in (
        # Advertising slots: "Advertisement", "ADVERTISEMENT - SCROLL TO CONTINUE".
        r"^(?:(?:advertisement|advert|ad|sponsored(?: content)?|skip advert(?:isement)?"
        r"|(?:story|article) continues(?: below)?(?: this)?(?: advert(?:isement)?)?"
        r"|scroll to continue(?: with content)?|continue reading below)\W*){1,3}$",
        # Page controls and labels: "Toggle caption", "0 Comments", "Skip to main content".
        r"^(?:\d+ )?(?:comments?|topics|loading|image|enlarge this image|(?:toggle|hide|show)"
        r" caption|sign up|sign in|log in|log out|skip to (?:main )?content|back to top)\W*$",
        # Kickers above a story: "EXCLUSIVE", "Analysis", "BREAKING NEWS:".
        r"^(?:exclusive|analysis|breaking(?: news)?|live(?: updates)?|explainer|opinion"
        r"|fact check|editorial|news analysis|update)\W*$",
        r"^listen to this (?:article|story)\b.{0,40}$",
        # The story's address alone, as link feeds and aggregators give it for the text.
        r"^(?:https?://|www\.)\S+$",
        r"^click here\b.{0,200}$",
        r"^(?:download|get) (?:the|our) (?:[\w ]{1,30} )?app\b.{0,100}$",
        r"^this (?:article|story) (?:was )?(?:originally|first) (?:published|appeared)\b.{0,200}$",
        r"^our standards:.{0,100}$",
        # Who reported: "Contributing: Ana Example", "Ana Example contributed reporting."
        r"^contributing(?: reporting)?:\s.{1,200}$",
        # Newsletter and alert prompts: "Sign up for our newsletter …".
        r"^(?:sign up|subscribe|register|join|get)\b.{0,200}"
        r"\b(?:newsletters?|briefing|bulletin|inbox|(?:email|breaking news) alerts?)\b.{0,200}$",
        # Links to other stories: a label, maybe a colon and a headline.
        r"^(?:related|read (?:more|also|next)|also read|see also|more on this(?: story| topic)?"
        r"|more from [\w ]{1,30}|recommended(?: for you)?|most (?:read|popular|viewed)"
        r"|you (?:may|might) also like|further reading|top stories|latest (?:news|stories)"
        r"|related (?:articles|stories|coverage|content|topics|links)|watch|listen)"
        r"(?:\s*[:»›|]\s*.{0,300})?$",
        # Photo, video and graphic credits, alone or closing a caption.
        r"^(?:.{0,250}[.!?]\s+)?\(?(?:photo(?:graph)?|picture|image|video|illustration|graphic"
        r"|file photo|credit)s?(?: credit)?\s*(?::.{1,120}|by\s+[A-Z][^.!?]{0,120})$",
        r"^.{0,250}/\s?(?:getty images|afp|reuters|ap|epa(?:-efe)?|shutterstock|alamy|sipa"
        r"|anadolu(?: agency)?|bloomberg|tass|ria novosti)\)?$",
        # Time stamps: "Updated 3 November 2026, 10:14 GMT", "Published: Nov 3, 2026".
        r"^(?:last )?(?:updated|published|posted|first published|modified)(?: on| at)?:?"
        r"\s*(?=.{0,20}\d)(?:[ap]\.m\.|[^.!?]|\.(?=\S| ?\d)){1,60}$",
        # Cookie and consent notices, in the site's own voice.
        r"^(?:we|this (?:site|website)|our (?:site|website)s?)\b.{0,80}\bcookies?\b.{0,300}$",
        r"^(?:accept|reject|manage)(?: all)? cookies\b"
        r"|\b(?:see|read|view) our (?:cookie|privacy) (?:policy|notice|settings)\b",
        r"\bby (?:continuing|using|browsing)(?: to (?:browse|use))? (?:this|our) (?:site|website)",
        # Copyright lines.
        r"^©.{0,200}$|^(?:\(c\)|copyright\b)\s*(?:©\s*)?(?:19|20)\d\d\b.{0,200}$"
        r"|\ball rights reserved\W*$",
        # Invitations to follow the outlet elsewhere.
        r"^follow (?:us|[\w ]{1,40}) on (?:twitter|x|facebook|instagram|telegram|threads"
        r"|bluesky|linkedin|whatsapp|google news)\b.{0,120}$",
    )
]
# A byline: "By Ana Example and Bo Sample, Example Wire". Case matters: "By", then only
# capitalised words, numbers and the small words of names and job titles. (Read word by
# word: as one pattern, a long line of names backtracked for minutes.)
_BYLINE_START = re.compile(r"^(?:By|BY|Written by|Words by)\s+(?=[A-Z])")
_BYLINE_SMALL_WORDS = words("and & de da van von al bin ibn le la of for the in from")
# A wire story's credit, one per ";": "Additional reporting by", "writing by", "Editing by".
_CREDIT = re.compile(
    r"^(?:additional |further )?(?:reporting|writing|editing|research|graphics|compiled)"
    r"(?: by)?:?\s+(?=[A-Z])",
    re.I,
)
_CONTRIBUTED = re.compile(r"^.{1,150}?\s(contributed (?:reporting|to this (?:report|story)))\b")
_BYLINE_SEPARATORS = re.compile(r"[\s,|·–—]+|\s-\s")
MAX_BYLINE_WORDS = 16
# Share buttons, as the words they print.
_SHARE_WORDS = words(
    "share shares sharing on via by this the article story page tweet facebook twitter x "
    "linkedin whatsapp telegram reddit pinterest messenger email e-mail mail copy link print "
    "save comment comments flipboard bluesky threads url copied"
)
_SHARE_CUES = words("share tweet facebook twitter whatsapp linkedin telegram")


def is_page_furniture(paragraph: str) -> bool:
    """True for a short paragraph that belongs to the page, not the story."""
    text = " ".join(paragraph.split())
    if not text or len(text) > MAX_FURNITURE_CHARS:
        return False
    if _TRAILER_PARAGRAPH.match(text) or PAYWALL.search(text):
        return True
    if _is_byline(text) or _is_credit_line(text):
        return True
    if any(pattern.search(text) for pattern in _FURNITURE):
        return True
    return _is_share_buttons(text)


def _is_credit_line(text: str) -> bool:
    """True for a wire story's credits: "(Reporting by Ana Example in Kyiv; Editing by Bo
    Sample)", or "Ana Example and Bo Sample contributed reporting from Kyiv."."""
    contributed = _CONTRIBUTED.match(text)
    if contributed is not None:
        return _names_only(text[: contributed.start(1)])
    segments = [s.strip() for s in text.strip("()").split(";")]
    found = [_CREDIT.match(s) for s in segments]
    return all(found) and all(
        _names_only(s[m.end() :]) for s, m in zip(segments, found, strict=True) if m
    )


def _names_only(text: str) -> bool:
    """True when every word is capitalised, a number or a small word of names and places."""
    names = [w for w in _BYLINE_SEPARATORS.split(text) if w]
    return 0 < len(names) <= MAX_BYLINE_WORDS and all(
        word[0].isupper() or word[0].isdigit() or word in _BYLINE_SMALL_WORDS for word in names
    )


def _is_byline(text: str) -> bool:
    """True for "By" and names, maybe an outlet or a job title: nothing a sentence says."""
    start = _BYLINE_START.match(text)
    if start is None:
        return False
    return _names_only(text[start.end() :])


def _is_share_buttons(text: str) -> bool:
    """True for a paragraph of share-button words only ("Share on Facebook Share on X")."""
    found = set(re.findall(r"[\w-]+", text.lower()))
    return bool(found & _SHARE_CUES) and found <= _SHARE_WORDS | {str(n) for n in range(100)}


def strip_boilerplate(text: str) -> str:
    """Text without page furniture, unrendered WordPress shortcodes and trailers.

    `text` is already plain (paragraphs separated by blank lines). Only whole paragraphs
    and the text's tail are touched, so a sentence that merely quotes "read more" stays.
    """
    text = _SHORTCODE.sub(" ", _CAPTION_BLOCK.sub(" ", text))
    kept = [p for p in _paragraphs(text) if not is_page_furniture(p)]
    if kept:
        last = kept[-1]
        while True:  # "… Read more. The post X appeared first on Y." carries two
            shorter = _TRAILER_AT_END.sub("", last)
            if shorter == last:
                break
            last = shorter
        kept[-1] = _CUT_MARK.sub(" …", last)
    return "\n\n".join(p for p in kept if p)


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, whitespace collapsed, empty ones left out."""
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return [p for p in paragraphs if p]
