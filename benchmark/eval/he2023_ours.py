"""He et al. (CIKM 2023) end to end: their released INSPIRED predictions scored on *our* test samples.

``he2023.py`` checks their arithmetic on their own 228 rows. Here each row is joined to a sample of
``results/processed/inspired/test.samples.jsonl`` and scored with ``evaluate.evaluate_rankings`` under our
``all``/``fresh`` protocols, so their numbers and ours are comparable. Join and mapping rules:

* row -> sample: their ``dialog_id`` ``test_<n>`` is the n-th dialogue of our test split (the official file order,
  which ``process`` keeps) and their ``turn_id`` ``test_<t>`` is our ``turn_index`` t; the join is checked by
  comparing their reply text ``resp`` with our turn t after normalising quotes and spaces.
* predicted name -> item id: their names are DBpedia names without year (``nearest_movie``). A name equal (after
  ``norm``) to the title of one of the sample's targets becomes that target (their protocol matches names without
  year); else the first catalogue item with that title; else a placeholder id that is never a hit.
* the prediction list is their variant ``filtered_False_exclude_seen_False`` (r1, the raw generated order).

Our samples the join misses (265 - 228 = 37 on INSPIRED: their targets have no DBpedia link, so He et al.'s data
has no row for them) get no prediction and score as misses, exactly as a missing line does in ``evaluate``.

    python -m benchmark crosscheck-he --root ../shared/external/he2023-zero-shot-crs \\
        --processed results/processed/inspired \\
        --he-test ../shared/datasets/inspired/raw/llm_zero_shot_crs/test.jsonl --out results/crosscheck/he2023.json
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from benchmark.errors import InputError
from benchmark.eval.evaluate import evaluate_rankings
from benchmark.eval.he2023 import MODELS, prediction_list
from benchmark.io import read_jsonl


def norm(text: str) -> str:
    """Lowercase, parenthesised parts and punctuation removed, spaces collapsed (their entity-name rule, loosely)."""
    text = re.sub(r"\([^)]*\)", " ", text.lower()).replace("-", " ").replace("_", " ")
    return " ".join(re.sub(r"[^\w\s]", "", text).split())


def join_rows(rows: list[dict], dialogues: list[dict], samples: list[dict], source: str) -> dict[int, str]:
    """``{row index: our sample_id}`` for every row; raises if a row does not land on an existing sample."""
    by_id = {s["sample_id"] for s in samples}
    out, text_mismatch = {}, 0
    for row in rows:
        try:
            n, t = int(row["dialog_id"].removeprefix("test_")), int(row["turn_id"].removeprefix("test_"))
            dialogue = dialogues[n]
        except (KeyError, ValueError, IndexError):
            raise InputError(source, f"row {row.get('index')}: cannot join dialog_id {row.get('dialog_id')!r} / "
                                     f"turn_id {row.get('turn_id')!r} to our test dialogues") from None
        sid = f"{dialogue['dialogue_id']}#{t}"
        if sid not in by_id:
            raise InputError(source, f"row {row.get('index')}: joined to {sid!r}, which is not one of our samples")
        text_mismatch += norm(row["resp"]) != norm(dialogue["turns"][t]["text"])
        out[row["index"]] = sid
    if text_mismatch > len(rows) // 20:  # a wrong join would mismatch nearly every reply, not a few
        raise InputError(source, f"{text_mismatch}/{len(rows)} joined replies differ from our turn text")
    return out


def to_item_ids(names: list[str], sample: dict, titles: dict[str, str], item_title: dict[str, str]) -> list[str]:
    by_target = {norm(item_title.get(t, t)): t for t in sample["targets"]}
    return [by_target.get(norm(n)) or titles.get(norm(n)) or f"he2023-unmatched:{n}" for n in names]


def score_on_our_samples(root: str | os.PathLike, processed_dir: str | os.PathLike, test_rows: str | os.PathLike,
                         models=MODELS, split: str = "test") -> dict:
    """``{model: {"joined_rows", "samples", "protocols": evaluate_rankings(...)}}`` for every model.

    ``test_rows``: their ``data/inspired/test.jsonl`` (``dialog_id``/``turn_id`` of each ``extracted.jsonl`` row,
    joined by line number = ``index``).
    """
    root, processed = Path(root), Path(processed_dir)
    samples = read_jsonl(processed / f"{split}.samples.jsonl", "our INSPIRED test samples")
    dialogues = read_jsonl(processed / f"{split}.dialogues.jsonl", "our INSPIRED test dialogues")
    catalog = read_jsonl(processed / "catalog.jsonl", "our INSPIRED catalogue")
    item_title = {it["item_id"]: it.get("title") or it["item_id"] for it in catalog}
    titles: dict[str, str] = {}
    for it in catalog:
        titles.setdefault(norm(item_title[it["item_id"]]), it["item_id"])
    by_sid = {s["sample_id"]: s for s in samples}
    test = read_jsonl(test_rows, "He et al.'s data/inspired/test.jsonl (datasets/inspired/raw/llm_zero_shot_crs)")
    out = {}
    for model in models:
        path = root / model / "inspired" / "extracted.jsonl"
        rows = read_jsonl(path, f"He et al. {model} extracted.jsonl")
        if len(rows) != len(test):
            raise InputError(path, f"{len(rows)} rows but their test.jsonl has {len(test)}; not the same release")
        joined = join_rows([{**t, "index": r["index"]} for r, t in zip(rows, test, strict=True)], dialogues, samples,
                           str(test_rows))
        preds = {sid: {"ranked_items": to_item_ids(prediction_list(r, False, False), by_sid[sid], titles, item_title)}
                 for r in rows for sid in [joined[r["index"]]]}
        covered = [s for s in samples if s["sample_id"] in preds]  # the 37 unjoined samples left out
        out[model] = {"joined_rows": len(joined), "samples": len(samples), "joined_samples": len(covered),
                      "protocols": evaluate_rankings(samples, preds, set(item_title)),
                      "protocols_joined_only": evaluate_rankings(covered, preds, set(item_title))}
    return out

