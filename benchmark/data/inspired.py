"""INSPIRED (Hayati et al., EMNLP 2020) in its official ``dialog_data/{train,dev,test}.tsv`` layout.

Splits: ``train`` = train.tsv, ``valid`` = dev.tsv, ``test`` = test.tsv. Rows are sentences; consecutive rows
of one speaker form a turn. Items are the films of the ``movies`` column (id = ``"Title (Year)"``) and, in the
reconstructed train file of the mirror, ``[UNKNOWN_MOVIE_<n>]`` tokens: real, distinct films whose title is
unknown (id ``"UNKNOWN_MOVIE_<n>"``, ``has_title: false``); nothing is guessed for them.

INSPIRED has no movie table here: metadata comes from ReDial's ``id2info.json`` through the unified movie key,
and, for films without such a match, from genres/people annotated on the same sentence as a single film.
Card: docs/datasets/inspired.md.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

from benchmark.data import movies
from benchmark.data.resources import INSPIRED_DOWNLOADS, INSPIRED_FILES
from benchmark.data.spec import DatasetSpec, Parsed, merge_turns
from benchmark.errors import InputError
from benchmark.io import require_file

COLUMNS = ("dialog_id utt_id speaker turn_id text text_with_placeholder movies genres people_names movie_dict "
           "genre_dict actor_dict director_dict others_dict expert_label second_label fine_label coarse_label "
           "movie_id").split()
ROLES = {"SEEKER": "seeker", "RECOMMENDER": "recommender"}
UNKNOWN = re.compile(r"\[UNKNOWN_MOVIE_(\d+)\]")
SPLIT_FILES = {"train": "dialog_data/train.tsv", "valid": "dialog_data/dev.tsv", "test": "dialog_data/test.tsv"}


def _names(field: str) -> list[str]:
    return [x.strip() for x in field.split(";") if x.strip()]


def item_id(raw_title: str) -> str:
    title, year = movies.split_year(raw_title)
    return movies.display(title, year)


def read_tsv(path: Path, split: str, annotations: dict[str, Counter]) -> list[dict]:
    """Parse one INSPIRED TSV (no quoting: plain tab split, 19 columns) into dialogues."""
    require_file(path, f"INSPIRED {split} dialogues ({path.name}, official layout dialog_data/*.tsv)")
    rows_by_dialogue: dict[str, list] = {}
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        if tuple(header) != tuple(COLUMNS):
            raise InputError(path, f"expected the 19 INSPIRED columns {COLUMNS}, got {header}", line=1)
        last = None
        for lineno, line in enumerate(fh, start=2):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != len(COLUMNS):
                hint = " (the file looks truncated)" if not line.endswith("\n") else ""
                raise InputError(path, f"expected {len(COLUMNS)} tab-separated fields, got {len(fields)}{hint}",
                                 line=lineno)
            row = dict(zip(COLUMNS, fields, strict=True))
            if row["speaker"] not in ROLES:
                raise InputError(path, f"speaker must be SEEKER or RECOMMENDER, got {row['speaker']!r}", line=lineno)
            did = row["dialog_id"]
            if did != last and did in rows_by_dialogue:
                raise InputError(path, f"rows of dialogue {did} are not contiguous", line=lineno)
            last = did
            rows_by_dialogue.setdefault(did, []).append((lineno, row))
    dialogues = []
    for did, rows in rows_by_dialogue.items():
        messages = []
        for _, row in rows:
            titled = [item_id(t) for t in _names(row["movies"])]
            unknown = [f"UNKNOWN_MOVIE_{n}" for n in UNKNOWN.findall(row["text"])]
            text = row["text"].replace("QUOTATION_MARK", '"')
            messages.append((ROLES[row["speaker"]], text, titled + unknown))
            if len(titled) == 1:  # attributes said in the same sentence as exactly one film
                annotations[titled[0]].update(f"genre:{g.lower()}" for g in _names(row["genres"]))
                annotations[titled[0]].update(f"person:{p}" for p in _names(row["people_names"]))
        dialogues.append({"dialogue_id": did, "split": split, "turns": merge_turns(messages),
                          "meta": {"first_line": rows[0][0]}})
    return dialogues


def build_catalog(dialogues: dict[str, list[dict]], annotations: dict[str, Counter],
                  redial_items: list[dict]) -> list[dict]:
    by_key: dict[str, dict] = {}
    for it in redial_items:  # several ReDial ids can share a key: keep the one with metadata, most mentioned
        best = by_key.get(it["key"])
        rank = (len(it["sources"]), it.get("nb_mentions", 0))
        if best is None or rank > (len(best["sources"]), best.get("nb_mentions", 0)):
            by_key[it["key"]] = it
    ids = list(dict.fromkeys(i for split in ("train", "valid", "test") for d in dialogues[split]
                             for t in d["turns"] for i in t["items"]))
    catalog = []
    for iid in sorted(ids):
        if iid.startswith("UNKNOWN_MOVIE_"):
            catalog.append({"item_id": iid, "title": None, "year": None, "name": None, "key": None,
                            "genres": [], "director": [], "writer": [], "cast": [], "plot": "",
                            "has_title": False, "sources": ["train.tsv [UNKNOWN_MOVIE_<n>] token"]})
            continue
        title, year = movies.split_year(iid)
        key = movies.movie_key(title, year)
        item = {"item_id": iid, "title": title, "year": year, "name": iid, "key": key, "genres": [],
                "director": [], "writer": [], "cast": [], "plot": "", "has_title": True, "sources": ["movies column"]}
        match = by_key.get(key)
        if match is not None and "id2info.json" in match["sources"]:
            item.update({f: match[f] for f in ("genres", "director", "writer", "cast", "plot")})
            item["sources"].append(f"redial id2info.json via key (ReDial id {match['item_id']})")
        elif annotations.get(iid):
            ann = annotations[iid]
            item["genres"] = sorted(a[6:] for a in ann if a.startswith("genre:"))
            item["cast"] = sorted(a[7:] for a in ann if a.startswith("person:"))  # actors or directors: unknown
            item["sources"].append("INSPIRED same-sentence annotations")
        catalog.append(item)
    return catalog


def parse(raw_dir: Path, seed: int = 0, options: dict | None = None, aux: dict | None = None) -> Parsed:
    from benchmark.data.redial import read_catalog

    if not aux or "redial" not in aux:
        raise InputError(raw_dir, "INSPIRED metadata needs ReDial's raw files (aux['redial'])")
    annotations: dict[str, Counter] = defaultdict(Counter)
    dialogues = {split: read_tsv(raw_dir / rel, split, annotations) for split, rel in SPLIT_FILES.items()}
    catalog = build_catalog(dialogues, annotations, read_catalog(Path(aux["redial"])))
    n_unknown = sum(not it["has_title"] for it in catalog)
    notes = [
        "INSPIRED valid = the official dev split (99 dialogues).",
        f"INSPIRED train in this mirror is a reconstruction: {n_unknown} catalogue items are untitled "
        "[UNKNOWN_MOVIE_<n>] films, and titles were recovered only for films that also occur in dev/test, so "
        "anything learned from INSPIRED train is biased toward test items; ReDial-trained runs evaluated on "
        "INSPIRED are the clean comparison.",
    ]
    return Parsed(dialogues=dialogues, catalog=catalog, notes=notes)


DATASET = DatasetSpec(
    name="inspired", files=INSPIRED_FILES, downloads=INSPIRED_DOWNLOADS, parse=parse, needs=("redial",),
    expected_dialogues={"valid": 99, "test": 99}, card="docs/datasets/inspired.md",
)
