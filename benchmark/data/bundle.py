"""The processed-dataset bundle (``results/processed/<dataset>/``) and its item catalogue, and catalogue alignment.

The data layer every stage reads through (systems, retrieval, simulator, recommender)::

    bundle = DatasetBundle("results/processed/redial")
    bundle.catalog.ids[:3], len(bundle.samples("test"))
    align(source_catalog, target_catalog)   # for each target item, its index in source (-1: no match)

When a test catalogue differs from the training catalogue (transfer runs), items map through ``align`` (IMDb id,
unified movie key, title and year; ``benchmark.data.matching``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

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
