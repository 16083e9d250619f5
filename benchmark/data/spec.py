"""What a dataset module provides, and the processed record formats every later stage reads.

Processed records (one JSON object per line):

* dialogue: ``{"dialogue_id", "split", "turns": [{"role": "seeker"|"recommender", "text", "items": [item ids]}],
  "meta": {...}}``; consecutive messages of one speaker are merged into one turn.
* item (``catalog.jsonl``): ``{"item_id", "title", "year", "name", "key", "genres", "director", "writer", "cast",
  "plot", "has_title", "sources", "field_sources", "aliases", "imdb_id"}``; ``key`` is the unified movie key
  (``benchmark.data.movies``); ``field_sources`` maps each filled metadata field to where it came from;
  ``aliases`` are the ids merged into this one (``benchmark.data.twins``; the mapping is also in ``twins.json``).
* sample (``<split>.samples.jsonl``): one per recommender turn that mentions at least one catalogue item:
  ``{"sample_id", "dialogue_id", "turn_index", "context": [turns before it], "targets": [items of the turn],
  "context_items": [items mentioned before it, first mention order]}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark.data.resources import Download, RawFile

SPLITS = ("train", "valid", "test")


@dataclass
class Parsed:
    """A dataset parsed from its raw files: dialogues per split and the item catalogue."""

    dialogues: dict[str, list[dict]]
    catalog: list[dict]
    notes: list[str] = field(default_factory=list)  # caveats printed in stats.json and on every table
    twins: dict | None = None  # benchmark.data.twins.report(): merged ids -> twins.json and stats["twins"]


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    files: tuple[RawFile, ...]
    downloads: tuple[Download, ...]
    parse: Callable[..., Parsed]  # parse(raw_dir: Path, seed: int, options: dict, aux: dict[str, Path]) -> Parsed
    needs: tuple[str, ...] = ()  # other datasets whose raw files the parser reads (INSPIRED -> ReDial metadata)
    expected_dialogues: dict[str, int] = field(default_factory=dict)  # counts asserted on the official files
    card: str = ""

    def file(self, relpath: str) -> RawFile:
        return next(f for f in self.files if f.relpath == relpath)


def build_samples(dialogue: dict) -> list[dict[str, Any]]:
    """One sample per recommender turn with at least one item; context = every turn before it."""
    samples = []
    seen: list[str] = []
    for i, turn in enumerate(dialogue["turns"]):
        if turn["role"] == "recommender" and turn["items"]:
            samples.append({
                "sample_id": f"{dialogue['dialogue_id']}#{i}",
                "dialogue_id": dialogue["dialogue_id"],
                "turn_index": i,
                "context": dialogue["turns"][:i],
                "targets": list(dict.fromkeys(turn["items"])),
                "context_items": list(seen),
            })
        for item in turn["items"]:
            if item not in seen:
                seen.append(item)
    return samples


def merge_turns(messages: list[tuple[str, str, list[str]]]) -> list[dict]:
    """Merge consecutive (role, text, items) messages of one speaker into turns (texts joined by a space)."""
    turns: list[dict] = []
    for role, text, items in messages:
        if turns and turns[-1]["role"] == role:
            turns[-1]["text"] = f"{turns[-1]['text']} {text}".strip()
            turns[-1]["items"].extend(i for i in items if i not in turns[-1]["items"])
        else:
            turns.append({"role": role, "text": text, "items": list(dict.fromkeys(items))})
    return turns


def raw_dir_of(results: Path, dataset: str) -> Path:
    return results / "raw" / dataset
