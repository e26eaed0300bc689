"""Where an alert already shows the passage a topic matched, so it is not printed twice.

The best passage is usually the headline or the lead, and the summary opens with the lead:
printed again on its own line, the same sentence would appear two or three times in one
card. A renderer shows a passage by itself only when the card does not already hold it.
"""

from __future__ import annotations

from bot.models import Alert, StanceLine, TopicLine
from bot.summarize import headline_keys, normalised
from bot.text import split_sentences

_ORDINALS = ("first", "second", "third", "fourth", "fifth")


def shown_at(alert: Alert, topic: TopicLine) -> str | None:
    """Where the card already shows `topic`'s passage ("the headline", "the summary's first
    sentence"), or None when it does not and the passage must be shown by itself."""
    return _place(alert, topic.passage)


def restated_at(alert: Alert, stance: StanceLine) -> str | None:
    """Where the card already shows a restated position's quote, or None.

    Only for restatements: a shift's quote is the evidence for the claim the card makes
    next to it, and stays there whatever else shows it.
    """
    return None if stance.is_shift else _place(alert, stance.now_quote)


def _place(alert: Alert, text: str) -> str | None:
    passage = normalised(text)
    if not passage:
        return None
    if passage in headline_keys(alert.title):  # also without an outlet's signature
        return "the headline"
    for index, sentence in enumerate(split_sentences(alert.summary)):
        if normalised(sentence) == passage and index < len(_ORDINALS):
            return f"the summary's {_ORDINALS[index]} sentence"
    # Only a whole sentence counts: a passage that is part of a longer sentence was not
    # what the summary shows, and a sentence the summary split otherwise is shown apart.
    return None
