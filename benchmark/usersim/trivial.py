"""Trivial answerers for the simulator-quality table: the bars a trained simulator has to clear.

They answer the three tasks without a model, through the same interface as ``UserSimulator`` (``feedback``,
``attributes``, ``target``; no ``reply_nll``, so no perplexity), and their replies pass the same reply guard.

* ``popular``: constant answers from the training split: the most frequent attribute values (the top-k genres,
  k chosen to maximise micro-F1 on the training targets; director and cast ``none``, since no single name is
  frequent enough to pay), the most mentioned titled training item as the target, and the most frequent seeker
  reply as feedback.
* ``context``: copy the dialogue: the last titled item mentioned in the context as the target, the attributes of
  the last mentioned item that has metadata (else the ``popular`` answer), and the last seeker turn as feedback.

    python -m benchmark eval-usersim --variant trivial-popular ... (the --llm given is not loaded)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from benchmark.data.bundle import DatasetBundle
from benchmark.usersim import guard, scoring, templates

TRIVIAL = ("popular", "context")


def _first_with_meta(items: Sequence[dict]) -> dict | None:
    return next((t for t in items if any(templates.attribute_values(t).values())), None)


def training_attribute_golds(bundle: DatasetBundle) -> list[dict[str, list[str]]]:
    """Attributes of the first target with metadata of every training sample (the SFT answers' source)."""
    return [templates.attribute_values(t) for s in bundle.samples("train")
            if (t := _first_with_meta([bundle.catalog.by_id[i] for i in s["targets"]]))]


def constant_attributes(bundle: DatasetBundle) -> dict[str, list[str]]:
    """Top-k genres of the training targets, k (1..8) maximising micro-F1 on those targets."""
    golds = training_attribute_golds(bundle)
    ranked = [g for g, _ in sorted(Counter(g.lower() for v in golds for g in v["genres"]).items(),
                                   key=lambda kv: (-kv[1], kv[0]))]
    answers = [{"genres": ranked[:k], "director": [], "cast": []} for k in range(1, min(8, len(ranked)) + 1)]
    if not answers:
        return {"genres": [], "director": [], "cast": []}
    text = [templates.format_attributes(a) for a in answers]
    f1 = [scoring.micro_prf([scoring.attribute_counts(t, g)[:3] for g in golds])[2] for t in text]
    return answers[max(range(len(answers)), key=lambda i: (f1[i], -i))]


class TrivialSimulator:
    def __init__(self, kind: str, bundle: DatasetBundle):
        if kind not in TRIVIAL:
            raise ValueError(f"unknown trivial simulator {kind!r}; choose from {TRIVIAL}")
        self.kind, self.catalog, self.guard_events = kind, bundle.catalog, []
        self.constant_attributes = constant_attributes(bundle)
        counts = Counter(i for d in bundle.dialogues("train") for t in d["turns"] for i in t["items"]
                         if self.catalog.by_id[i]["has_title"])
        self.popular_title = self.catalog.by_id[min(counts, key=lambda i: (-counts[i], i))]["name"] if counts else ""
        replies = Counter(t["text"].strip() for d in bundle.dialogues("train") for t in d["turns"]
                          if t["role"] == "seeker")
        self.popular_reply = min(replies, key=lambda r: (-replies[r], r)) if replies else ""

    def _context_items(self, history) -> list[dict]:
        return [self.catalog.by_id[i] for t in reversed(history) for i in reversed(t.get("items", []))
                if i in self.catalog.by_id]

    def target(self, requests) -> list[str]:
        if self.kind == "popular":
            return [self.popular_title for _ in requests]
        return [next((it["name"] for it in self._context_items(r.history) if it["has_title"]), "") for r in requests]

    def attributes(self, requests) -> list[str]:
        out = []
        for r in requests:
            item = _first_with_meta(self._context_items(r.history)) if self.kind == "context" else None
            out.append(templates.format_attributes(templates.attribute_values(item) if item
                                                   else self.constant_attributes))
        return out

    def feedback(self, requests) -> list[str]:
        if self.kind == "popular":
            replies = [self.popular_reply for _ in requests]
        else:
            replies = [next((t["text"] for t in reversed(r.history) if t["role"] == "seeker"), "") for r in requests]
        return guard.guard_replies(requests, replies, self.guard_events)

