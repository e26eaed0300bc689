"""Second-hand stances: "according to people familiar with the matter", "is said to",
"reportedly", an outlet's report, analysts' reading. What is said *about* an actor, not by it.
"""

from __future__ import annotations

from bot import lexicon as lx
from bot.lexicon import Tok
from bot.positions.clauses import Span, is_anaphor, lead_attribution, resolve, tail_attribution


def is_hearsay(tokens: list[Tok]) -> bool:
    """True when the sentence passes an actor's stance on second-hand.

    "…, according to people familiar with the matter", "officials said on condition of
    anonymity", "Beijing is said to be considering …", "Moscow reportedly rejected …",
    "according to a report in …", "two sources told …", "analysts said Moscow would …",
    "…, the Courier reported". Words inside a quotation are the speaker's own and never
    count: '"Sources say many things," Peskov said.' is on the record. Plain "officials
    said" is not hearsay: the actor's own officials speak for it, and wire copy names them
    so.
    """
    lows = [t.low for t in tokens]
    quoted = _quoted(tokens)
    for i, low in enumerate(lows):
        if quoted[i]:
            continue
        if low in lx.HEARSAY_WORDS or any(_at(lows, i, p) for p in lx.HEARSAY_PHRASES):
            return True
        if low in lx.HEARSAY_PARTICIPLES and i and lows[i - 1] in lx.BE_FORMS:
            # "is said to be considering", "it is understood that"; not "what was said to him"
            after = lows[i + 1 : i + 3]
            if after[:1] == ["that"] or (after[:1] == ["to"] and _verb_after_to(after)):
                return True
        if low in lx.UNNAMED_SOURCES and any(_at(lows, i + 1, p) for p in lx.HEARSAY_LINKS):
            return True
        if low in lx.HEARSAY_SPEAKERS and (_cited(lows, i) or _speaks(lows, i)):
            return True
        if _at(lows, i, ("according", "to")) and lx.REPORT_NOUNS & set(lows[i + 2 : i + 6]):
            return True  # "according to a report in …", "according to media reports"
    return _outlet_reported(tokens)


def without_sourcing(tokens: list[Tok], span: Span) -> Span:
    """The span without a closing hearsay attribution (", according to people familiar with
    the matter", ", two sources said on Monday"): like "…, Lavrov said", it says who passed
    the stance on, not what the stance is. A tail that names an actor is kept: it may be
    that actor's own clause ("…, and analysts said Moscow would …")."""
    lo, hi = span
    for k in range(hi - 2, lo, -1):
        if tokens[k].text not in (",", "—", "–"):
            continue
        tail = tokens[k + 1 : hi]
        if any(t.actor for t in tail) or sum(t.is_word for t in tail) > _SOURCING_WORDS:
            return span
        if is_hearsay(tail):
            return (lo, k)
        if tail[0].low in _COORDINATORS:
            # "…, according to people familiar with the talks, and will send …": the
            # attribution is not the sentence's close, and a span cannot skip its middle.
            return span
    return span


_COORDINATORS = frozenset(("and", "but", "or", "yet", "while", "whereas"))


# Words an attribution such as "according to two people briefed on the negotiations" takes
# (about ten), with room for "on Monday"; a longer tail is a clause of its own.
_SOURCING_WORDS = 14


def _at(lows: list[str], i: int, phrase: tuple[str, ...]) -> bool:
    """True when the words from i on are the phrase."""
    return tuple(lows[i : i + len(phrase)]) == phrase


def _verb_after_to(after: list[str]) -> bool:
    """True for "to" + a verb: "to be", "to have", "to favour"; not "to reporters"."""
    return len(after) == 2 and (after[1] in ("be", "have") or lx.lemma(after[1]) in lx.KNOWN_VERBS)


def _cited(lows: list[str], i: int) -> bool:
    """True when the word at i is cited as the source: "according to two sources"."""
    before = lows[max(0, i - 4) : i]
    return "citing" in before or "cited" in before or "according" in before


def _speaks(lows: list[str], i: int) -> bool:
    """True when a reporting verb follows the word at i within its phrase ("two sources
    told", "analysts at a bank said"); not "the experts' report", a noun it qualifies."""
    if lows[i + 1 : i + 2] in (["'"], ["'s"]):
        return False
    for low in lows[i + 1 : i + 8]:
        if low in _PHRASE_ENDS:
            return False
        if low != "that" and (
            lx.lemma(low) in lx.REPORT_VERBS or lx.lemma(low) in lx.HEARSAY_SPEAKER_VERBS
        ):
            return True
    return False


_PHRASE_ENDS = frozenset(',.;:!?"“”—–()')


def _quoted(tokens: list[Tok]) -> list[bool]:
    """For each token, whether it stands inside a quotation (straight or curly quotes).

    A straight quote right after a word or a comma, with no space, closes a quotation, even
    one opened in an earlier sentence ('… meet them," she said.'); otherwise it opens one.
    """
    out: list[bool] = []
    inside = False
    for k, tok in enumerate(tokens):
        attached = k > 0 and tokens[k - 1].end == tok.start
        if tok.text == "”" or (tok.text == '"' and (inside or attached)):
            if not inside:
                out = [True] * len(out)  # the quotation began before this sentence
            inside = False
            out.append(False)
            continue
        if tok.text in ('"', "“"):
            inside = True
            out.append(False)
            continue
        out.append(inside)
    return out


def _outlet_reported(tokens: list[Tok]) -> bool:
    """True for "…, the newspaper reported" or "Reuters reported that …": an outlet's report
    about the actor. An actor that reports ("the ministry reported") speaks for itself."""
    attribution = tail_attribution(tokens) or lead_attribution(tokens)
    if attribution is None or attribution[2] != "report":
        return False
    group = attribution[1]
    return resolve(tokens, group, None) is None and not is_anaphor(tokens, group)
