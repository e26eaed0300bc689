"""SetFit-style contrastive fine-tuning of the embedding model on a watchlist's own positions.

For every topic, two texts (label or example) of the same position form a positive pair
(target cosine 1), two texts of different positions a negative pair (target 0). The model
is trained briefly with a cosine-similarity loss (a plain torch loop: no `datasets` needed)
and saved under a cache folder keyed by a hash of the base model, the topics' positions and
the training settings, so it is trained once per watchlist change. Only the position
assigner uses it; topic matching keeps the base model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from pathlib import Path

from bot.models import Topic

log = logging.getLogger(__name__)

Pair = tuple[str, str, float]


@dataclass(frozen=True)
class TrainSettings:
    """How the fine-tune runs; part of the cache key."""

    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 2e-5
    seed: int = 0
    # Each pair list is repeated this many times per epoch (shuffled), as SetFit's
    # `num_iterations` does for tiny example sets.
    repeats: int = 1


def training_pairs(topics: Sequence[Topic]) -> list[Pair]:
    """Same-position pairs (1.0) and different-position pairs of the same topic (0.0)."""
    pairs: list[Pair] = []
    for topic in topics:
        groups = [(p.label, *p.examples) for p in topic.positions]
        for group in groups:
            pairs.extend((a, b, 1.0) for a, b in combinations(group, 2))
        for first, second in combinations(range(len(groups)), 2):
            pairs.extend((a, b, 0.0) for a in groups[first] for b in groups[second])
    return pairs


def cache_root() -> Path:
    """`$STANCEWATCH_CACHE`, else ~/.cache/stancewatch."""
    configured = os.environ.get("STANCEWATCH_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "stancewatch"


def cache_key(base_model: str, topics: Sequence[Topic], settings: TrainSettings) -> str:
    """A short hash of everything that changes the fine-tuned model."""
    content = {
        "base": str(base_model),
        "topics": [
            {
                "id": t.id,
                "positions": [
                    {"id": p.id, "label": p.label, "examples": list(p.examples)}
                    for p in t.positions
                ],
            }
            for t in topics
            if t.positions
        ],
        "settings": asdict(settings),
    }
    raw = json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def finetuned_model(
    base_model: str,
    topics: Sequence[Topic],
    settings: TrainSettings | None = None,
    cache: Path | None = None,
) -> Path:
    """The folder of the fine-tuned model, training and saving it first if not cached."""
    settings = settings or TrainSettings()
    folder = (cache or cache_root()) / f"positions-{cache_key(base_model, topics, settings)}"
    if (folder / "modules.json").exists():
        return folder
    started = time.perf_counter()
    model = train(base_model, training_pairs(topics), settings)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    model.save(str(tmp))
    tmp.replace(folder) if not folder.exists() else None
    log.info("fine-tuned %s in %.1f s → %s", base_model, time.perf_counter() - started, folder)
    return folder


def train(base_model: str, pairs: Sequence[Pair], settings: TrainSettings) -> object:
    """Fine-tune a sentence-transformers model on (text, text, target cosine) pairs."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    model = SentenceTransformer(base_model, device="cpu")
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate)
    for _ in range(settings.epochs):
        order = [pair for _ in range(settings.repeats) for pair in pairs]
        rng.shuffle(order)
        for start in range(0, len(order), settings.batch_size):
            batch = order[start : start + settings.batch_size]
            left = _embed(model, [a for a, _, _ in batch])
            right = _embed(model, [b for _, b, _ in batch])
            target = torch.tensor([t for _, _, t in batch], dtype=torch.float32)
            cosine = torch.nn.functional.cosine_similarity(left, right)
            loss = torch.nn.functional.mse_loss(cosine, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    return model


def _embed(model: object, texts: list[str]) -> object:
    features = model.tokenize(texts)  # type: ignore[attr-defined]
    return model(features)["sentence_embedding"]  # type: ignore[operator]
