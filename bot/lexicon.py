"""Generic English vocabulary for reading who says what: tokens, verb groups, speakers.

Shared by the actor finder (bot/actors.py) and the stance reader (bot/positions/), so it
sits below both.

Every list here is ordinary news English (reporting verbs, titles, modal verbs, words of
refusal and of consent); none names an actor, a topic or a position of any watchlist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import words


@dataclass(frozen=True)
class Tok:
    """One token of a sentence; an actor alias ("White House") is a single token."""

    text: str
    actor: str | None = None
    start: int = 0  # character offsets in the sentence
    end: int = 0

    @property
    def low(self) -> str:
        """The token in lower case, with curly apostrophes made straight."""
        return self.text.lower().replace("’", "'")

    @property
    def is_word(self) -> bool:
        """True for words and actor aliases, False for punctuation."""
        return self.actor is not None or self.text[:1].isalnum()

    @property
    def is_capitalised(self) -> bool:
        """True when the token starts with a capital letter (names, titles, acronyms)."""
        return self.text[:1].isupper()


# Titles and initials keep their full stop ("Mr.", "J."), so that they stay inside a name.
TOKEN_PATTERN = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Sen|Rep|Gov|Lt|Col|St|[A-Z])\.(?!\w)"
    r"|\w+(?=n['’]t\b)|n['’]t\b|['’]s\b|\w+|[^\w\s]"
)


def tokenize(sentence: str, mentions: list[tuple[int, int, str]]) -> list[Tok]:
    """Split a sentence into tokens, keeping each actor mention (start, end, actor) whole."""
    tokens: list[Tok] = []
    position = 0
    for start, end, actor in [*mentions, (len(sentence), len(sentence), "")]:
        tokens.extend(
            Tok(m.group(), None, m.start(), m.end())
            for m in TOKEN_PATTERN.finditer(sentence, position, start)
        )
        if actor:
            tokens.append(Tok(sentence[start:end], actor, start, end))
        position = end
    return tokens


# Words that introduce what someone said.
REPORT_VERBS = words(
    "say tell add state insist warn argue announce declare claim stress note write confirm "
    "reiterate repeat emphasise emphasize underline acknowledge admit signal indicate suggest "
    "believe think explain maintain assert reply respond post tweet hint predict reveal concede "
    "assure caution contend point remark comment report allege"
)
# Reporting verbs that may relay someone else's stance ("Witkoff said Russia had agreed").
RELAY_VERBS = words(
    "say tell add state confirm announce claim report reveal indicate suggest note believe "
    "think acknowledge explain write post hint assure reiterate repeat stress emphasise "
    "emphasize underline reply respond tweet remark comment point admit concede"
)
# Reporting verbs that, relaying what another actor did, make an allegation: no stance for
# either side ("Moscow claimed Berlin had delivered missiles").
ALLEGE_VERBS = words("claim allege")
# Verbs whose subject takes a stance of its own ("Russia had agreed …", "Kyiv wants …").
ATTITUDE_VERBS = words(
    "agree accept reject refuse oppose support back endorse welcome drop abandon offer propose "
    "demand insist want seek rule concede signal consider commit pledge promise approve "
    "decline resume pause halt suspend freeze send deliver provide give supply ship deploy "
    "continue stop end block veto recognise recognize respect guarantee call urge press push "
    "plan prepare vow threaten dismiss deny condemn reaffirm keep favour favor prefer intend "
    "aim sign decide move shift reverse soften harden change cancel withdraw limit restrict cut "
    "scrap delay speed accelerate expand increase boost step rebuff allow ban bar exclude "
    "require hope expect retreat relent yield budge waver"
)
# Adjectives that state a stance after a form of "be" ("was ready to", "is open to").
ATTITUDE_ADJECTIVES = words(
    "ready willing prepared open opposed committed determined unwilling reluctant keen eager "
    "against firm adamant"
)
# Other verbs common right after a subject; they show that a noun group is a clause subject.
OTHER_VERBS = words(
    "make take hold set put get see view regard meet host invite discuss negotiate talk join "
    "leave visit travel arrive speak lead remain need ask accuse blame praise hail slam "
    "criticise criticize question open close lift impose permit let include tie link "
    "condition vote pass unveil launch begin start try fail seem appear look stand face use"
)
VERBS = REPORT_VERBS | ATTITUDE_VERBS | OTHER_VERBS
_IRREGULAR = {
    "said": "say",
    "says": "say",
    "told": "tell",
    "sent": "send",
    "gave": "give",
    "given": "give",
    "sought": "seek",
    "froze": "freeze",
    "frozen": "freeze",
    "kept": "keep",
    "made": "make",
    "took": "take",
    "taken": "take",
    "held": "hold",
    "thought": "think",
    "wrote": "write",
    "written": "write",
    "met": "meet",
    "left": "leave",
    "spoke": "speak",
    "led": "lead",
    "began": "begin",
    "stood": "stand",
    "saw": "see",
    "seen": "see",
    "withdrew": "withdraw",
    "withdrawn": "withdraw",
    "got": "get",
    "put": "put",
    "cut": "cut",
    "set": "set",
    "let": "let",
    "bid": "bid",
    "struck": "strike",
    "won": "win",
    "lost": "lose",
}
# Past forms equal to the base form: "Germany cut deliveries" is a clause, not a noun group.
INVARIANT_PAST = frozenset(k for k, v in _IRREGULAR.items() if k == v)
# Auxiliaries and modals that may stand between a subject and its verb.
AUXILIARIES = words(
    "has have had is are was were be been being will would could can may might shall should "
    "must did does do wo ca ought need needs"
)
BE_FORMS = words("is are was were be been being 's")
# Modals that make the clause a demand or a judgement of the speaker, not its subject's stance:
# "Zelensky said Russia must withdraw" is Ukraine's demand, not Russia's position.
DEONTIC = words("must should ought cannot ca need needs")
# Words allowed between a subject and its verb without breaking the clause.
ADVERBS = words(
    "also now still again never not n't already later earlier once reportedly apparently "
    "previously repeatedly further long yet then initially finally even just only no longer "
    "firmly flatly publicly privately swiftly quickly openly"
)
TITLES = words(
    "president vice prime minister ministers foreign defence defense interior secretary "
    "state spokesman spokeswoman spokesperson spokespeople envoy envoys ambassador official "
    "officials government ministry administration leader leaders negotiator negotiators "
    "delegation delegations diplomat diplomats authorities side office presidency cabinet "
    "adviser advisers advisor advisors aide aides counterpart head chief senior top deputy "
    "special parliament lawmakers legislators premier chancellor king queen commander general "
    "representative representatives embassy team press leadership "
    "spokesmen mission commissioner commissioners director governor senator senators chair "
    "chairman chairwoman executive regulator mayor"
)
# Pronouns that may refer back to the previous sentence's speaker.
ANAPHORS = words("he she it they")
DETERMINERS = words("the a an its his her their this that these those")
POSSESSIVE_PRONOUNS = words("its his her their")
# Words that negate what follows them.
NEGATORS = words("not n't never no nor neither without cannot none nothing")
# Capitalised words that open a sentence without naming anyone.
FUNCTION_WORDS = words(
    "the a an in on at by for from with to of and or but yet so as if when while after "
    "before since though although because meanwhile however earlier later separately also "
    "still now then there this that these those it he she they we i his her their its our "
    "both either neither not no asked speaking in addition instead even despite amid "
    "according last next monday tuesday wednesday thursday friday saturday sunday"
)
# A sentence may open with one of these and a comma before its subject ("On Tuesday, Kyiv …").
OPENERS = words(
    "on in at after before during meanwhile however earlier later separately also still now "
    "yet but and so speaking asked in addition instead late last this since despite amid "
    "following while as when unlike like along alongside besides under with without for by "
    "from through within over across throughout among against toward towards until upon"
)
PREPOSITIONS = words(
    "to for in into on onto against from with of at over about toward towards across inside "
    "within between among amid than including like without under behind via through by upon "
    "around beyond near after before since despite unlike versus per regarding concerning"
)
TIME_WORDS = words(
    "monday tuesday wednesday thursday friday saturday sunday today yesterday tonight week "
    "weekend month year morning evening night"
)

# --- hearsay: an actor's stance passed on second-hand (extract.py reads these) ---
# News style guides' markers of anonymous or indirect sourcing, chosen from how wire copy
# words them, not from any evaluation file. A sentence that carries one reports what is
# said about the actor, not what the actor said or did on the record.
#
# Words that mark hearsay wherever they stand: the reporter cannot vouch for it
# ("Moscow reportedly rejected …") or the source is unnamed ("on condition of anonymity").
HEARSAY_WORDS = words(
    "reportedly allegedly purportedly reputedly supposedly anonymity anonymously unnamed"
)
# Participles that, after a form of "be" and before "to" + verb or "that", report what is
# said of someone: "Beijing is said to be considering …", "It is understood that …".
HEARSAY_PARTICIPLES = words("said reported believed understood thought rumoured rumored alleged")
# Unnamed people who pass on an actor's stance ("people familiar with the matter",
# "officials briefed on the talks", "sources close to the Kremlin"), and the words after
# them that say they are unnamed (`HEARSAY_LINKS`).
UNNAMED_SOURCES = words(
    "people person persons official officials source sources diplomat diplomats insider "
    "insiders aide aides someone those"
)
HEARSAY_LINKS = (
    ("familiar", "with"),
    ("briefed", "on"),
    ("close", "to"),
    ("aware", "of"),
    ("with", "knowledge"),
    ("with", "direct", "knowledge"),
)
# Requests for anonymity, wherever they stand ("officials, who asked not to be named, …").
HEARSAY_PHRASES = (
    ("not", "to", "be", "named"),
    ("not", "to", "be", "identified"),
    ("declined", "to", "be", "named"),
    ("declined", "to", "be", "identified"),
    ("not", "authorised", "to", "speak"),
    ("not", "authorized", "to", "speak"),
    ("not", "authorised", "to", "discuss"),
    ("not", "authorized", "to", "discuss"),
)
# Speakers who are not the actor but pass on or read its stance from outside: anonymous
# sources and people, and analysts, experts and observers saying what an actor will do.
# They make a sentence hearsay when they speak (a reporting verb follows) or are cited
# ("according to two sources", "citing analysts").
HEARSAY_SPEAKERS = words(
    "source sources insider insiders people persons analyst analysts expert experts observer "
    "observers commentator commentators pundit pundits"
)
# Verbs, besides the reporting verbs, with which those speakers give their reading.
HEARSAY_SPEAKER_VERBS = words("expect predict see")
# What "according to" cites when the account is a report about the actor, not its own:
# "according to a report in …", "according to media reports".
REPORT_NOUNS = words("report reports")


# -ly words that are adjectives ("is likely to"), not adverbs between subject and verb.
_LY_ADJECTIVES = words("likely unlikely early only family friendly costly")
# After an auxiliary only these -ly adverbs are skipped ("had secretly delivered").
_LY_ADVERBS_AFTER_AUX = words(
    "secretly quietly quickly swiftly formally officially publicly privately effectively "
    "reportedly apparently repeatedly firmly flatly openly finally initially eventually "
    "already clearly"
)


# --- words of consent and refusal (polarity.py reads them; lemma() needs them too) ---
# Consent, support, continuation: the speaker is for the thing the clause names.
FOR_CUES = words(
    "agree accept back support endorse welcome approve pledge promise commit resume continue "
    "expand increase boost send deliver provide supply offer ready willing prepared open "
    "speed accelerate sign ratify favour favor allow permit irreversible help strengthen "
    "step ramp greenlight greenlit reaffirm remain lead deploy contribute"
)

# Refusal, stopping, limiting: against. As verbs they also negate what follows them
# ("refused to rule out" is for, "rejected calls to halt" is for).
AGAINST_VERBS = words(
    "reject refuse oppose halt pause suspend freeze stop end cut withdraw cancel block "
    "veto dismiss deny decline drop abandon scrap delay limit restrict curb condemn prevent "
    "bar ban exclude resist shelve postpone slow reduce cease rebuff reverse"
)

KNOWN_VERBS = VERBS | FOR_CUES | AGAINST_VERBS


def lemma(word: str) -> str:
    """A rough base form of an English verb: 'agreed' → 'agree', 'pauses' → 'pause'."""
    word = word.lower().replace("’", "'")
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    known = KNOWN_VERBS
    if word in known or word in AUXILIARIES:
        return word
    candidates: list[str] = []
    for suffix, repl in (
        ("ied", "y"),
        ("ies", "y"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            stem = word[: -len(suffix)] + repl
            candidates += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                candidates.append(stem[:-1])  # "stopped" → "stopp" → "stop"
    return next((c for c in candidates if c in known), word)


@dataclass(frozen=True)
class VerbGroup:
    """The verb of a clause: its auxiliaries/modals (lower case), main verb lemma, end index."""

    auxiliaries: tuple[str, ...]
    main: str | None
    end: int


def clause_verb(tokens: list[Tok], start: int) -> VerbGroup | None:
    """The verb group that starts at `start` (after a subject), or None if none starts there.

    Skips adverbs, a short time phrase ("on Tuesday") and auxiliaries; the main verb must be
    a known verb or a regular past form, so "Russian forces" is not read as a clause.
    """
    auxiliaries: list[str] = []
    i = start
    while i < len(tokens):
        tok = tokens[i]
        low = tok.low
        if tok.actor is not None or not tok.is_word:
            break
        manner = low.endswith("ly") and len(low) > 4 and low not in _LY_ADJECTIVES
        if low in ADVERBS or (manner and (not auxiliaries or low in _LY_ADVERBS_AFTER_AUX)):
            i += 1
            continue
        if low in ("on", "in", "late", "last", "this") and time_phrase_end(tokens, i):
            i = time_phrase_end(tokens, i)
            continue
        if low in AUXILIARIES:
            auxiliaries.append(low)
            i += 1
            if i < len(tokens) and tokens[i].low == "to" and low in ("have", "has", "had"):
                auxiliaries.append("to")  # "has to", "would have to": an obligation
                i += 1
            continue
        base = lemma(low)
        if base in VERBS or (low.endswith("ed") and len(low) > 4):
            return VerbGroup(tuple(auxiliaries), base, i + 1)
        if auxiliaries and (low in ATTITUDE_ADJECTIVES):
            return VerbGroup(tuple(auxiliaries), low, i + 1)
        break
    if auxiliaries:
        return VerbGroup(tuple(auxiliaries), None, i)
    return None


def time_phrase_end(tokens: list[Tok], i: int) -> int:
    """End index of a time phrase like "on Tuesday" / "late on Monday" at i, else 0."""
    j = i
    while j < len(tokens) and j - i < 3 and tokens[j].low in ("on", "in", "late", "last", "this"):
        j += 1
    if j < len(tokens) and j > i and tokens[j].low in TIME_WORDS:
        return j + 1
    return 0


def is_own_stance(verb: VerbGroup) -> bool:
    """True when the clause states its subject's own stance ("had agreed", "was ready to")."""
    if any(a in DEONTIC for a in verb.auxiliaries) or "to" in verb.auxiliaries:
        return False
    if verb.main is None:
        return False
    if verb.main in ATTITUDE_ADJECTIVES:
        return any(a in BE_FORMS for a in verb.auxiliaries)
    return verb.main in ATTITUDE_VERBS
