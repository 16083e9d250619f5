"""ReDial (Li et al., NeurIPS 2018; CC BY 4.0) in its official layout, plus iEvaLM-CRS ``id2info.json``.

Splits: ``test`` = ``test_data.jsonl``; ``train``/``valid`` = a seeded carve-out of ``train_data.jsonl``
(``valid_fraction`` of the dialogues, chosen by sha256 of ``"<seed>:<conversationId>"``, so the same seed
always gives the same split whatever the file order). Ids that are one film (same IMDb id and title) are
merged into one item unless ``options["merge_twins"]`` is false (``benchmark.data.twins``).
Card: docs/datasets/redial.md.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from pathlib import Path

from benchmark.data import movies, twins
from benchmark.data.resources import REDIAL_DOWNLOADS, REDIAL_FILES
from benchmark.data.spec import DatasetSpec, Parsed, merge_turns
from benchmark.errors import InputError
from benchmark.io import iter_jsonl, read_json, require_file

MENTION = re.compile(r"@(\d+)")
FIELDS = {"genres": "genre", "director": "director", "writer": "writer", "cast": "star", "plot": "plot"}
REQUIRED_KEYS = ("conversationId", "messages", "initiatorWorkerId", "respondentWorkerId")


def read_catalog(raw_dir: Path) -> list[dict]:
    """All movies of ``movies_with_mentions.csv`` with ``id2info.json`` metadata joined on the movie id."""
    csv_path = require_file(raw_dir / "movies_with_mentions.csv", "ReDial's movies_with_mentions.csv")
    info = read_json(raw_dir / "id2info.json", "iEvaLM-CRS id2info.json (ReDial movie metadata)")
    items = []
    with open(csv_path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header != ["movieId", "movieName", "nbMentions"]:
            raise InputError(csv_path, f"expected header movieId,movieName,nbMentions, got {header}", line=1)
        for lineno, row in enumerate(reader, start=2):
            if len(row) != 3 or not row[0].isdigit():
                raise InputError(csv_path, f"expected 3 fields movieId,movieName,nbMentions, got {row!r}", line=lineno)
            movie_id, name, nb_mentions = row
            title, year = movies.split_year(name)
            meta = info.get(movie_id, {})
            items.append({
                "item_id": movie_id, "title": title, "year": year, "name": movies.display(title, year),
                "key": movies.movie_key(title, year),
                "genres": meta.get("genre", []), "director": meta.get("director", []),
                "writer": meta.get("writer", []), "cast": meta.get("star", []), "plot": meta.get("plot", ""),
                "has_title": True, "nb_mentions": int(nb_mentions) if nb_mentions.isdigit() else 0,
                "imdb_id": meta.get("imdb_id") or None, "aliases": [],
                "sources": ["movies_with_mentions.csv"] + (["id2info.json"] if meta else []),
                "field_sources": {f: "id2info.json" for f, k in FIELDS.items() if meta.get(k)},
            })
    return items


def merge_twins(catalog: list[dict], dialogues: dict[str, list[dict]] | None = None) -> tuple[list[dict], dict]:
    """Merge ids sharing an IMDb id with agreeing titles (``benchmark.data.twins``); remaps ``dialogues`` in place."""
    groups, conflicts = twins.imdb_twins(catalog)
    merged, alias_of, records = twins.merge(catalog, groups, twins.default_rank(Counter()), "same IMDb id + title")
    rewritten = twins.remap_dialogues(dialogues or {}, alias_of)
    names = {it["item_id"]: it["name"] for it in catalog}
    return merged, twins.report(records, conflicts, len(catalog), len(merged), rewritten, names)


def read_dialogues(path: Path, split: str, names: dict[str, str]) -> list[dict]:
    """Parse one ReDial JSON-lines file; ``@<id>`` becomes the movie name in ``text`` and the id in ``items``."""
    dialogues = []
    for lineno, obj in iter_jsonl(path, f"ReDial {split} dialogues"):
        missing = [k for k in REQUIRED_KEYS if k not in obj]
        if missing:
            raise InputError(path, f"dialogue record lacks {missing}", line=lineno)
        roles = {obj["initiatorWorkerId"]: "seeker", obj["respondentWorkerId"]: "recommender"}
        messages = []
        for m in obj["messages"]:
            if "text" not in m or m.get("senderWorkerId") not in roles:
                raise InputError(path, f"message {m!r} has no text or an unknown senderWorkerId", line=lineno)
            ids = [i for i in MENTION.findall(m["text"]) if i in names]
            text = MENTION.sub(lambda mm: names.get(mm.group(1), mm.group(0)), m["text"])
            messages.append((roles[m["senderWorkerId"]], text, ids))
        dialogues.append({
            "dialogue_id": str(obj["conversationId"]), "split": split, "turns": merge_turns(messages),
            "meta": {"source_line": lineno, "turn_merged_upstream": not all("messageId" in m for m in obj["messages"])},
        })
    return dialogues


def carve_validation(dialogues: list[dict], fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Deterministic hold-out: the ``fraction`` of dialogues with the smallest sha256(seed:id) go to valid."""
    def rank(d: dict) -> str:
        return hashlib.sha256(f"{seed}:{d['dialogue_id']}".encode()).hexdigest()

    n_valid = round(len(dialogues) * fraction)
    valid_ids = {d["dialogue_id"] for d in sorted(dialogues, key=rank)[:n_valid]}
    train = [dict(d, split="train") for d in dialogues if d["dialogue_id"] not in valid_ids]
    valid = [dict(d, split="valid") for d in dialogues if d["dialogue_id"] in valid_ids]
    return train, valid


def parse(raw_dir: Path, seed: int = 0, options: dict | None = None, aux: dict | None = None) -> Parsed:
    options = options or {}
    catalog = read_catalog(raw_dir)
    names = {item["item_id"]: item["name"] for item in catalog}
    full_train = read_dialogues(raw_dir / "train_data.jsonl", "train", names)
    test = read_dialogues(raw_dir / "test_data.jsonl", "test", names)
    train, valid = carve_validation(full_train, float(options.get("valid_fraction", 0.1)), seed)
    dialogues = {"train": train, "valid": valid, "test": test}
    report = None
    if options.get("merge_twins", True):
        catalog, report = merge_twins(catalog, dialogues)
    notes = [f"ReDial valid = {len(valid)} of the {len(full_train)} train-file dialogues "
             f"(valid_fraction={options.get('valid_fraction', 0.1)}, seed={seed})."]
    if len(full_train) < 10006:
        notes.append(f"ReDial train file has {len(full_train)} of the official 10,006 dialogues (partial mirror): "
                     "trained systems see less data than in published work.")
    if report:
        c = report["counts"]
        notes.append(f"ReDial twins: {c['aliases']} ids merged into {c['groups']} films sharing an IMDb id and title "
                     f"(catalogue {c['items_before']} -> {c['items_after']}); {c['conflict_groups']} IMDb ids shared "
                     "by different titles kept apart (twins.json).")
    return Parsed(dialogues=dialogues, catalog=catalog, notes=notes, twins=report)


DATASET = DatasetSpec(
    name="redial", files=REDIAL_FILES, downloads=REDIAL_DOWNLOADS, parse=parse,
    expected_dialogues={"test": 1342}, card="docs/datasets/redial.md",
)
