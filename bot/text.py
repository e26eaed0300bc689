"""Article text into paragraphs and sentences: one splitter for matching, summaries and stances.

No language model is involved: full stops after abbreviations, initials and dotted acronyms
do not end a sentence, and a wire-style dateline ("KYIV —", "LONDON (Reuters) -") is not
part of the first sentence.
"""

from __future__ import annotations

import re


def words(text: str) -> frozenset[str]:
    """The space-separated words of a literal, as a set."""
    return frozenset(text.split())


# Dotted abbreviations and titles whose full stop does not end a sentence.
_ABBREVIATIONS = words(
    "mr mrs ms dr prof gen lt col maj capt sgt adm sen rep gov pres st vs messrs "
    "brig cmdr cdr cpl pvt amb supt insp det gens sens reps govs "
    "jan feb mar apr jun jul aug sep sept oct nov dec approx dept est fig mt ft rev hon cf"
)
# Abbreviations that close a name or a list, so often end a sentence too ("made by Acme
# Inc. The company …"): like a dotted acronym, a sentence ends after them only when a
# typical sentence opener follows ("Acme Inc. Chief Executive …" goes on).
_MAY_END = words("etc inc ltd co corp plc llc jr sr al")
# Capitalised abbreviations that precede a number: "No. 10", "Art. 5".
_BEFORE_NUMBER = words("No Nos Art Arts")
# After a dotted acronym ("U.S."), only these words make the full stop a sentence end:
# "the U.S. The talks…" splits, "the U.S. President…" does not.
_STARTERS = words(
    "the he she it they we i but and in on at a an this that these those his her their its "
    "there meanwhile however after before as when while if yet still so now later earlier "
    "separately asked speaking"
)
# A sentence starts with a capital or a digit: Latin, accented Latin, Greek and Cyrillic
# capitals, or a letter of a script without case (Arabic, Hebrew). Opening quotes include
# guillemets and low quotes ("« Nous", "„Wir").
_SENTENCE_START = "A-Z0-9À-ÖØ-ÞΑ-ΩЀ-Я\u05d0-\u05ea\u0620-\u064a"
# A boundary starts only where its run of stops starts: started at every stop of a run, it
# read to the run's end each time, and 20,000 dots took 9 s.
_BOUNDARY = re.compile(rf"(?<![.!?…])[.!?…]+[\"'”’»)\]]*\s+(?=[\"'“‘«„(\[]?\s?[{_SENTENCE_START}])")
_PARAGRAPH = re.compile(r"\n\s*\n")
# The longest sentence read as one. News sentences run to about 260 characters (the longest
# of the 1,304 in examples/eval: 262); a "sentence" past 400 is a paragraph that lost its
# full stops (a live blog, a list joined by commas), and whole it became the card's matched
# passage and an actor's quote, thousands of words long. Past this it is read in clauses.
MAX_SENTENCE_CHARS = 400
_CLAUSE_BREAK = re.compile(r"[,;:]\s|\s[—–-]\s")
# A dateline: a place in capitals ("KYIV", "WASHINGTON/LONDON"), maybe ", Region" and ",
# Date", maybe "(Agency)", then a dash; a place in capitals and lower case ("Kyiv (AFP) -")
# only with an agency, as "Kyiv — and its allies —" is a sentence; or the agency alone
# ("(Reuters) - "). Only the story's first paragraph is looked at, where wire copy puts it.
_CAPS = "[A-ZÀ-ÖØ-Þ]"  # with accented capitals: "BELÉM", "BRASÍLIA", "ZÜRICH"
_CAPS_MORE = "[A-ZÀ-ÖØ-Þ.'’-]"
_REGION = r"(?:, [A-Z][\w.'’-]+(?: [A-Z0-9][\w.'’-]*){0,2}){0,2}"
_AGENCY = r"\([A-Z][A-Za-z .&/-]{0,29}\)"
_DATELINE = re.compile(
    rf"^(?:{_CAPS}{_CAPS_MORE}+(?:[ /]{_CAPS}{_CAPS_MORE}+){{0,3}}{_REGION}"
    r"(?: \([\w .&-]{1,30}\))?"
    rf"|[A-Z][\w.'’-]+(?: [A-Z][\w.'’-]+){{0,2}}{_REGION} {_AGENCY}"
    rf"|{_AGENCY})"
    r" ?[—–-]{1,2} +(?=\S)"
)
# A live page's time stamp opening an update: "09:15 GMT:", "10.32am:", "10:45 BST France
# …", "11:02 —", or a line of its own ("12:30"). It says when the update was posted; read
# as the update's first words it opened summaries and actors' quotes. A bare clock counts
# only before a mark or a capital: "10.50 euros" is a price.
_CLOCK = r"(?:[01]?\d|2[0-3])[:.][0-5]\d(?:\s?[ap]\.?m\.?)?"
_ZONE = r"(?: (?:GMT|UTC|BST|CET|CEST|EET|EEST|MSK|ET|EST|EDT|PT|PST|PDT))?"
_TIME_STAMP = re.compile(rf"^{_CLOCK}{_ZONE}(?: ?[:|—–-]+ *| (?=[{_SENTENCE_START}])|$)")
# "Last updated 09:19 GMT", "Updated: 23 November, 10.45am": a live page's line saying when
# it last changed. It is rewritten at every update, with nothing else in it.
_UPDATED_AT = re.compile(
    rf"(?:last )?updated:?(?: (?:at|on))?(?: [\w,]+){{0,4}}? {_CLOCK}{_ZONE}", re.IGNORECASE
)
# "Updated 3 minutes ago", "2 hrs ago": an age a live page restates at every poll.
RELATIVE_AGE = re.compile(
    r"\b(?:(?:last\s+)?updated:?\s+)?(?:\d+|an?|one)\s+"
    r"(?:sec(?:ond)?s?|min(?:ute)?s?|hours?|hrs?|days?)\s+ago\b",
    re.IGNORECASE,
)
# A paragraph that reads as prose ends like a sentence; a headline line does not.
_PROSE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")


# A headline signed by its outlet, as aggregated feeds write them: "… - Example Wire",
# "… | Other Times". A signature is short and is no sentence.
_SIGNATURE = re.compile(r"\s+[-–—|·]\s+(?P<outlet>[^-–—|·.!?]+)$")
MAX_SIGNATURE_WORDS = 5


def outlet_signature(title: str) -> str:
    """The outlet's signature that ends a headline, with its mark (" - Example Wire"), or ""."""
    signed = _SIGNATURE.search(title)
    if signed and len(signed["outlet"].split()) <= MAX_SIGNATURE_WORDS:
        return signed.group()
    return ""


def strip_dateline(paragraph: str) -> str:
    """A paragraph without its opening dateline: "KYIV, Ukraine (AP) — Russia …" → "Russia …"."""
    return _DATELINE.sub("", paragraph, count=1)


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, whitespace collapsed, the opening dateline removed."""
    out = [" ".join(part.split()) for part in _PARAGRAPH.split(text)]
    out = [p for p in out if p]
    # A page's text often opens with its headline (or a kicker) on a line of its own, and
    # the dateline starts the first paragraph of prose after it. One dateline at most.
    for index, paragraph in enumerate(out):
        out[index] = strip_dateline(paragraph)
        if out[index] != paragraph or _PROSE_END.search(paragraph):
            break
    return [p for p in out if p]


def split_paragraph(paragraph: str) -> list[str]:
    """The sentences of one paragraph, in order; an over-long one in clause-sized pieces."""
    out: list[str] = []
    start = 0
    for found in _BOUNDARY.finditer(paragraph):
        # Only the words on either side decide: the text since the last sentence end, and
        # the rest of the paragraph, copied at every stop ("U.S. U.S. …"), were quadratic.
        last = _last_word(paragraph, start, found.end()).rstrip("\"'”’)]")
        if not _ends_sentence(last, _word_at(paragraph, found.end())):
            continue
        before = _without_time_stamp(paragraph[start : found.end()].rstrip())
        if before:
            out.extend(_pieces(before))
        start = found.end()
    tail = _without_time_stamp(paragraph[start:].strip())
    if tail:
        out.extend(_pieces(tail))
    return out


def is_page_clock(sentence: str) -> bool:
    """True for a live page's line that only says when the page was last updated ("Last
    updated 09:19 GMT", "Updated 3 minutes ago")."""
    line = " ".join(sentence.split()).rstrip(".")
    return any(clock.fullmatch(line) for clock in (_UPDATED_AT, RELATIVE_AGE))


def _without_time_stamp(sentence: str) -> str:
    """The sentence without a live page's time stamp at its start ("" if that is all)."""
    return _TIME_STAMP.sub("", sentence, count=1)


def _pieces(sentence: str) -> list[str]:
    """The sentence, or if longer than MAX_SENTENCE_CHARS, pieces no longer than that.

    Each piece ends at the last clause break (a comma, semicolon, colon or dash) in its
    second half, else at the last space, else at the limit; the break's mark is left out.
    """
    pieces: list[str] = []
    rest = sentence
    while len(rest) > MAX_SENTENCE_CHARS:
        window = rest[: MAX_SENTENCE_CHARS + 1]
        floor = MAX_SENTENCE_CHARS // 2
        breaks = [m.end() for m in _CLAUSE_BREAK.finditer(window, floor)]
        if breaks:
            cut = breaks[-1]
        else:
            space = window.rfind(" ", floor)
            cut = space if space > 0 else MAX_SENTENCE_CHARS
        piece = rest[:cut].rstrip().rstrip(",;:—–-").rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def split_sentences(text: str) -> list[str]:
    """Sentences of every paragraph, in order; abbreviations, initials and quotes do not split."""
    sentences: list[str] = []
    for paragraph in paragraphs(text):
        sentences.extend(split_paragraph(paragraph))
    return sentences


_WORD = re.compile(r"\S+")


def _word_at(text: str, start: int) -> str:
    """The word that starts at `start` ("" at a space or the end)."""
    found = _WORD.match(text, start)
    return found.group() if found else ""


def _last_word(text: str, start: int, end: int) -> str:
    """The last word of text[start:end], found by reading back from `end` only."""
    while end > start and text[end - 1].isspace():
        end -= 1
    begin = end
    while begin > start and not text[begin - 1].isspace():
        begin -= 1
    return text[begin:end]


def _ends_sentence(before: str, after: str) -> bool:
    """Decide whether the full stop at the end of `before` ends a sentence.

    `before` needs to hold only the stop's word, and `after` only the next word.
    """
    words = before.split()
    if not words:
        return False
    last = words[-1].strip("\"'“”‘’([")
    if not last.endswith("."):
        return True  # "!" or "?" (or a quote after them) always ends one
    bare = last.rstrip(".")
    if bare.lower() in _ABBREVIATIONS:
        return False
    if bare in _BEFORE_NUMBER and after[:1].isdigit():
        return False  # "No. 10", "Art. 5"
    if len(bare) == 1 and bare.isalpha():
        return False  # an initial: "J. D. Vance"
    if bare.lower() in _MAY_END or (
        "." in bare and all(len(part) <= 2 for part in bare.split("."))
    ):
        # A dotted acronym ends a sentence only when a typical sentence opener follows.
        next_word = re.sub(r"^[\"'“‘(\[]+", "", after).split(" ", 1)[0].lower()
        return next_word in _STARTERS
    return True


def without_unpaired_quotes(text: str) -> str:
    """The text without double quotation marks that open or close nothing.

    A stance is read clause by clause, so the clause shown as an actor's quote can be half
    a quotation ('"We do not support caps', 'a vote would be unacceptable," he said.'); set
    between the card's own quotation marks, the stray mark reads as a typo.
    """
    marks: list[tuple[int, bool]] = []  # (index, opens)
    for index, char in enumerate(text):
        if char == "“":
            marks.append((index, True))
        elif char == "”":
            marks.append((index, False))
        elif char == '"':
            # A straight mark opens at the start or after a space or bracket, else closes.
            before = text[index - 1] if index else " "
            marks.append((index, before.isspace() or before in "([{—–"))
    unpaired: set[int] = set()
    open_at: list[int] = []
    for index, opens in marks:
        if opens:
            open_at.append(index)
        elif open_at:
            open_at.pop()
        else:
            unpaired.add(index)
    unpaired.update(open_at)
    return "".join(c for i, c in enumerate(text) if i not in unpaired)
