"""Where an alert already shows the passage a topic matched, so it is not printed twice.

The best passage is usually the headline or the lead, and the summary opens with the lead:
printed again on its own line, the same sentence would appear two or three times in one
card. A renderer shows a passage by itself only when the card does not already hold it.
"""

from __future__ import annotations

from bot.models import Alert, TopicLine
from bot.summarize import normalised
from bot.text import split_sentences

_ORDINALS = ("first", "second", "third", "fourth", "fifth")


def shown_at(alert: Alert, topic: TopicLine) -> str | None:
    """Where the card already shows `topic`'s passage ("the headline", "the summary's first
    sentence"), or None when it does not and the passage must be shown by itself."""
    passage = normalised(topic.passage)
    if not passage:
        return None
    if passage == normalised(alert.title):
        return "the headline"
    for index, sentence in enumerate(split_sentences(alert.summary)):
        if normalised(sentence) == passage and index < len(_ORDINALS):
            return f"the summary's {_ORDINALS[index]} sentence"
    # Only a whole sentence counts: a passage that is part of a longer sentence was not
    # what the summary shows, and a sentence the summary split otherwise is shown apart.
    return None
