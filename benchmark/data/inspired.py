"""INSPIRED (Hayati et al., EMNLP 2020) in its official ``dialog_data/{train,dev,test}.tsv`` layout.

Splits: ``train`` = train.tsv, ``valid`` = dev.tsv, ``test`` = test.tsv. Rows are sentences; consecutive rows
of one speaker form a turn. Items are the films of the ``movies`` column (id = ``"Title (Year)"``) and, in the
reconstructed train file of the mirror, ``[UNKNOWN_MOVIE_<n>]`` tokens: real, distinct films whose title is
unknown (id ``"UNKNOWN_MOVIE_<n>"``, ``has_title: false``); nothing is guessed for them.

INSPIRED has no movie table here: metadata comes from ReDial's ``id2info.json`` through the unified movie key
(``benchmark.data.matching``) and, for fields still empty, from genres/people annotated on the same sentence as a
single film in the **train and dev** files only (``METADATA_SPLITS``): nothing about a film comes from a test
dialogue. Titles equal up to an article ("Matrix" / "The Matrix") are one film (``benchmark.data.twins``).
Card: docs/datasets/inspired.md.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

from benchmark.data import movies, twins
from benchmark.data.matching import match_items
from benchmark.data.redial import merge_twins as merge_redial_twins
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
METADATA_SPLITS = ("train", "valid")  # splits whose annotations may describe items (issue 8: never test)
META_FIELDS = ("genres", "director", "writer", "cast", "plot")
ANNOTATION_SOURCE = "INSPIRED train/dev same-sentence annotations"


def _names(field: str) -> list[str]:
    return [x.strip() for x in field.split(";") if x.strip()]


def item_id(raw_title: str) -> str:
    title, year = movies.split_year(raw_title)
    return movies.display(title, year)


def read_tsv(path: Path, split: str) -> tuple[list[dict], dict[str, Counter]]:
    """Parse one INSPIRED TSV (no quoting: plain tab split, 19 columns) into dialogues and, per film, the genres
    and people annotated on sentences that name exactly that one film."""
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
    dialogues, annotations = [], defaultdict(Counter)
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
    return dialogues, annotations


def _skeleton(iid: str) -> dict:
    empty = {"genres": [], "director": [], "writer": [], "cast": [], "plot": "", "imdb_id": None, "aliases": [],
             "field_sources": {}}
    if iid.startswith("UNKNOWN_MOVIE_"):
        return {"item_id": iid, "title": None, "year": None, "name": None, "key": None, **empty,
                "has_title": False, "sources": ["train.tsv [UNKNOWN_MOVIE_<n>] token"]}
    title, year = movies.split_year(iid)
    return {"item_id": iid, "title": title, "year": year, "name": iid, "key": movies.movie_key(title, year),
            **empty, "has_title": True, "sources": ["movies column"]}


def add_metadata(catalog: list[dict], annotations: dict[str, Counter], redial_items: list[dict]) -> None:
    """Fill metadata in place, per field: ReDial id2info.json through ``match_items`` first, then the given
    (train/dev only) annotations; ``field_sources`` records where each filled field came from."""
    for item, (n, how) in zip(catalog, match_items(redial_items, catalog), strict=True):
        if n >= 0 and "id2info.json" in redial_items[n]["sources"]:
            src = redial_items[n]
            via = f"redial id2info.json (ReDial id {src['item_id']}, match {how})"
            for f in META_FIELDS:
                if src[f]:
                    item[f] = src[f]
                    item["field_sources"][f] = via
            item["sources"].append(via)
        ann = annotations.get(item["item_id"])
        if not ann:
            continue
        filled = {"genres": sorted(a[6:] for a in ann if a.startswith("genre:")),
                  "cast": sorted(a[7:] for a in ann if a.startswith("person:"))}  # actors or directors: unknown
        used = [f for f, v in filled.items() if v and not item[f]]
        for f in used:
            item[f] = filled[f]
            item["field_sources"][f] = ANNOTATION_SOURCE
        if used:
            item["sources"].append(ANNOTATION_SOURCE)


def build_catalog(dialogues: dict[str, list[dict]], annotations: dict[str, Counter], redial_items: list[dict],
                  merge_twins: bool = True) -> tuple[list[dict], dict | None]:
    """Catalogue = every film mentioned in any split; ``annotations`` must hold train/dev rows only. Title twins
    are merged (``benchmark.data.twins``) and ``dialogues`` remapped in place; returns (catalogue, twins report)."""
    ids = sorted({i for split in dialogues.values() for d in split for t in d["turns"] for i in t["items"]})
    catalog = [_skeleton(iid) for iid in ids]
    report = None
    if merge_twins:
        mentions = Counter(i for split in dialogues.values() for d in split for t in d["turns"] for i in t["items"])
        names = {it["item_id"]: it["name"] for it in catalog}
        merged, alias_of, records = twins.merge(catalog, twins.title_twins(catalog), twins.default_rank(mentions),
                                                "same title up to an article, years within 1")
        rewritten = twins.remap_dialogues(dialogues, alias_of)
        merged_ann: dict[str, Counter] = defaultdict(Counter)
        for iid, ann in annotations.items():
            merged_ann[alias_of.get(iid, iid)].update(ann)
        catalog, annotations = merged, merged_ann
        report = twins.report(records, [], len(ids), len(catalog), rewritten, names)
    redial_catalog, _ = merge_redial_twins(redial_items)  # one ReDial item per film: fewer ambiguous keys
    add_metadata(catalog, annotations, redial_catalog)
    return catalog, report


def parse(raw_dir: Path, seed: int = 0, options: dict | None = None, aux: dict | None = None) -> Parsed:
    from benchmark.data.redial import read_catalog

    options = options or {}
    if not aux or "redial" not in aux:
        raise InputError(raw_dir, "INSPIRED metadata needs ReDial's raw files (aux['redial'])")
    dialogues, annotations = {}, defaultdict(Counter)
    for split, rel in SPLIT_FILES.items():
        dialogues[split], found = read_tsv(raw_dir / rel, split)
        if split in METADATA_SPLITS:  # nothing about a film may come from a test dialogue
            for iid, ann in found.items():
                annotations[iid].update(ann)
    catalog, report = build_catalog(dialogues, annotations, read_catalog(Path(aux["redial"])),
                                    merge_twins=options.get("merge_twins", True))
    n_unknown = sum(not it["has_title"] for it in catalog)
    notes = [
        "INSPIRED valid = the official dev split (99 dialogues).",
        f"INSPIRED train in this mirror is a reconstruction: {n_unknown} catalogue items are untitled "
        "[UNKNOWN_MOVIE_<n>] films, and titles were recovered only for films that also occur in dev/test, so "
        "anything learned from INSPIRED train is biased toward test items; ReDial-trained runs evaluated on "
        "INSPIRED avoid that bias.",
        "INSPIRED item metadata comes from ReDial's id2info.json (through the unified movie key) and train/dev "
        "annotations only, never from test dialogues; the item set includes films named only in test dialogues "
        "(there is no official movie table here).",
    ]
    if report:
        c = report["counts"]
        notes.append(f"INSPIRED twins: {c['aliases']} titles merged into {c['groups']} films (same title up to an "
                     f"article, years within 1; catalogue {c['items_before']} -> {c['items_after']}; twins.json).")
    return Parsed(dialogues=dialogues, catalog=catalog, notes=notes, twins=report)


DATASET = DatasetSpec(
    name="inspired", files=INSPIRED_FILES, downloads=INSPIRED_DOWNLOADS, parse=parse, needs=("redial",),
    expected_dialogues={"valid": 99, "test": 99}, card="docs/datasets/inspired.md",
)
