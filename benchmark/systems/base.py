"""The System protocol every recommender implements, and the processed-dataset bundle it is fit on.

A system is fit once on a training dataset and then ranks catalogue items for batches of evaluation samples::

    system = SYSTEMS.get("popularity")(**params)
    system.fit(DatasetBundle("results/processed/redial"), seed=0)
    ranked = system.recommend(samples, catalog, k=50)   # list of item-id lists, best first

``catalog`` is the *test* dataset's catalogue; when it differs from the training catalogue (transfer runs),
systems map items through the unified movie key (``Catalog.key_of``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from benchmark.io import read_json, read_jsonl


class Catalog:
    """The item catalogue of one dataset (``catalog.jsonl``) with id and key lookups."""

    def __init__(self, items: Sequence[dict], dataset: str = ""):
        self.dataset = dataset
        self.items = list(items)
        self.ids = [it["item_id"] for it in self.items]
        self.by_id = {it["item_id"]: it for it in self.items}

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self.by_id

    def key_of(self, item_id: str) -> str | None:
        return self.by_id[item_id]["key"] if item_id in self.by_id else None


class DatasetBundle:
    """Lazy, cached access to ``results/processed/<dataset>/`` (catalogue, dialogues and samples per split)."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self.name = self.dir.name

    @functools.cached_property
    def catalog(self) -> Catalog:
        return Catalog(read_jsonl(self.dir / "catalog.jsonl", "the processed item catalogue"), self.name)

    @functools.cached_property
    def stats(self) -> dict:
        return read_json(self.dir / "stats.json", "processed dataset stats")

    @functools.cache  # noqa: B019  (one bundle per run; caching the parsed split is the point)
    def dialogues(self, split: str) -> list[dict]:
        return read_jsonl(self.dir / f"{split}.dialogues.jsonl", f"processed {split} dialogues")

    @functools.cache  # noqa: B019
    def samples(self, split: str) -> list[dict]:
        return read_jsonl(self.dir / f"{split}.samples.jsonl", f"processed {split} samples")


@runtime_checkable
class System(Protocol):
    """What ``python -m benchmark predict`` needs from a recommender."""

    name: str

    def fit(self, train: DatasetBundle, seed: int) -> None:
        """Learn whatever the system needs from the training dataset (may be a no-op)."""

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        """For each sample, up to ``k`` item ids of ``catalog``, best first."""


def align_matches(source: Catalog, target: Catalog) -> list[tuple[int, str]]:
    """For each item of ``target``: (index of the same film in ``source`` or -1, match type).

    Same dataset: identity by id (type ``id``). Other dataset: ``benchmark.data.matching.match_items`` (IMDb id,
    then unified key, then the same title with the year one off or missing, then up to an article).
    """
    if source.dataset == target.dataset:
        index = {i: n for n, i in enumerate(source.ids)}
        return [(index[i], "id") if i in index else (-1, "none") for i in target.ids]
    from benchmark.data.matching import match_items

    return match_items(source.items, target.items)


def align(source: Catalog, target: Catalog) -> list[int]:
    """For each item of ``target``, the index of the same film in ``source`` (-1 if none); see ``align_matches``."""
    return [n for n, _ in align_matches(source, target)]
