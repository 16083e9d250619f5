"""Sanity baselines: random, popularity, repeat-context. Any learned system must beat them to mean anything.

Card: ``baselines/sanity/README.md``.

* ``random``: a seeded uniform sample of ``k`` catalogue items per sample (seeded by (seed, sample_id), so the
  list of a sample does not depend on batch order).
* ``popularity``: items by how many training-dialogue turns mention them (ties: item id), the same list for
  every sample. Across datasets the counts are carried through the unified movie key.
* ``repeat-context``: the items already mentioned in the context, most recent first, then (``fill:
  popularity``) the popularity list. Under the ``fresh`` protocol its context part can never hit, which is
  exactly what it is for: it measures how much of an ``all``-protocol number is repetition.

    python -m benchmark predict popularity --train results/processed/redial --test results/processed/redial \\
        --split test --seed 0 --out results/predictions/popularity/redial/redial/seed0.jsonl
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence

import numpy as np

from benchmark.data.bundle import Catalog, DatasetBundle, align
from benchmark.data.context import recent_context_items
from benchmark.errors import BenchmarkError


class RandomSystem:
    """Uniform random catalogue items, seeded per sample."""

    name = "random"

    def __init__(self):
        self.seed = 0

    def fit(self, train: DatasetBundle, seed: int) -> None:
        self.seed = seed

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        out = []
        for s in samples:
            rng = np.random.default_rng([self.seed, zlib.crc32(s["sample_id"].encode())])
            picks = rng.choice(len(catalog), size=min(k, len(catalog)), replace=False)
            out.append([catalog.ids[i] for i in picks])
        return out


class PopularitySystem:
    """Items by training mention count, the same list for every sample."""

    name = "popularity"

    def __init__(self):
        self.counts: Counter = Counter()
        self.train_catalog: Catalog | None = None
        self._ranked: dict[str, list[str]] = {}

    def fit(self, train: DatasetBundle, seed: int) -> None:
        self.train_catalog = train.catalog
        self.counts = Counter(i for d in train.dialogues("train") for t in d["turns"] for i in t["items"])
        if not self.counts:
            raise BenchmarkError(f"{train.dir}: the training split mentions no items; popularity is undefined")

    def scores(self, catalog: Catalog) -> dict[str, float]:
        """Mention count per item of ``catalog`` (by id on the training dataset, through ``align`` elsewhere)."""
        if self.train_catalog is not None and catalog.dataset == self.train_catalog.dataset:
            return {i: float(self.counts.get(i, 0)) for i in catalog.ids}
        if self.train_catalog is None:
            return dict.fromkeys(catalog.ids, 0.0)
        source = align(self.train_catalog, catalog)  # the same film in the training catalogue (IMDb id, key, year)
        return {i: float(self.counts.get(self.train_catalog.ids[j], 0)) if j >= 0 else 0.0
                for i, j in zip(catalog.ids, source, strict=True)}

    def ranking(self, catalog: Catalog) -> list[str]:
        if catalog.dataset not in self._ranked:
            scores = self.scores(catalog)
            self._ranked[catalog.dataset] = sorted(catalog.ids, key=lambda i: (-scores[i], i))
        return self._ranked[catalog.dataset]

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        top = self.ranking(catalog)[:k]
        return [list(top) for _ in samples]


class RepeatContextSystem:
    """The context's items, most recent first, then (fill) the popularity list."""

    name = "repeat-context"

    def __init__(self, fill: str = "popularity"):
        if fill not in ("popularity", "none"):
            raise BenchmarkError(f"repeat-context: fill must be 'popularity' or 'none', got {fill!r}")
        self.fill = fill
        self.popularity = PopularitySystem()

    def fit(self, train: DatasetBundle, seed: int) -> None:
        if self.fill == "popularity":
            self.popularity.fit(train, seed)

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        filler = self.popularity.ranking(catalog)[: 2 * k] if self.fill == "popularity" else []
        out = []
        for s in samples:
            ranked = [i for i in recent_context_items(s) if i in catalog][:k]
            seen = set(ranked)
            ranked.extend(i for i in filler if i not in seen)
            out.append(ranked[:k])
        return out
