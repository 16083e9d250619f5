"""Stage ``evaluate``: predictions + samples -> one metrics JSON (unrounded, counts, protocol card, provenance).

    python -m benchmark evaluate --predictions results/predictions/popularity/redial/redial/seed0.jsonl \\
        --processed results/processed/redial --split test --out results/metrics/popularity/redial/redial/seed0.json

The metrics JSON::

    {"system", "train_dataset", "test_dataset", "split", "seed",
     "protocols": {"all": {"metrics": {"recall@10": {"mean", "se"}, ...}, "counts": {...}, "card": {...}},
                   "fresh": {...}},
     "notes": [dataset caveats], "provenance": {...}}
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from benchmark.eval.metrics import KS, first_rank, score_ranks
from benchmark.eval.predictions import read_predictions
from benchmark.eval.protocols import get_protocol
from benchmark.io import read_json, read_jsonl, write_json
from benchmark.provenance import provenance


def evaluate_rankings(samples: Sequence[dict], predictions: dict[str, dict], catalog_ids: set[str],
                      protocol_names: Sequence[str] = ("all", "fresh"), ks: Sequence[int] = KS) -> dict:
    """Score every protocol variant; pure apart from its inputs (no I/O)."""
    missing = [s["sample_id"] for s in samples if s["sample_id"] not in predictions]
    lists = {s["sample_id"]: predictions.get(s["sample_id"], {}).get("ranked_items", []) for s in samples}
    all_items = [i for ranked in lists.values() for i in ranked[: max(ks)]]
    list_counts = {
        "missing_predictions": len(missing),
        "missing_examples": missing[:5],
        "empty_lists": sum(not v for v in lists.values()),
        "short_lists": sum(len(v) < max(ks) for v in lists.values()),
        "unknown_items_in_top": sum(i not in catalog_ids for i in all_items),
        "duplicate_items_in_top": sum(len(v[: max(ks)]) - len(set(v[: max(ks)])) for v in lists.values()),
        "parse_failures": sum(p.get("parse_status", "ok") != "ok" for p in predictions.values()),
    }
    out = {}
    for name in protocol_names:
        protocol = get_protocol(name)
        ranks, n_samples = [], 0
        for s in samples:
            targets = protocol.targets(s)
            if not targets:
                continue
            n_samples += 1
            ranks.extend(first_rank(lists[s["sample_id"]], t) for t in targets)
        out[name] = {
            "metrics": score_ranks(ranks, ks),
            "counts": {"samples": n_samples, "pairs": len(ranks), **list_counts},
            "card": {"protocol": name, "unit": "(recommender turn, mentioned catalogue item) pair",
                     "variant": protocol.description, "ks": list(ks), "catalog_size": len(catalog_ids),
                     "samples": n_samples, "pairs": len(ranks)},
        }
    return out


def evaluate(predictions_path: str | os.PathLike, processed_dir: str | os.PathLike, split: str, out: str | os.PathLike,
             system: str, train_dataset: str, test_dataset: str, seed: int,
             protocol_names: Sequence[str] = ("all", "fresh"), ks: Sequence[int] = KS, config=None) -> dict:
    processed = Path(processed_dir)
    samples_path = processed / f"{split}.samples.jsonl"
    catalog_path = processed / "catalog.jsonl"
    samples = read_jsonl(samples_path, f"evaluation samples (from `python -m benchmark process {test_dataset}`)")
    catalog_ids = {it["item_id"] for it in read_jsonl(catalog_path, "the item catalogue")}
    predictions = read_predictions(predictions_path, (s["sample_id"] for s in samples))
    stats = read_json(processed / "stats.json", "processed dataset stats")
    meta_path = Path(predictions_path).with_suffix(".meta.json")  # written by `predict`; absent for imports
    meta = read_json(meta_path, "predictions meta") if meta_path.is_file() else {}
    notes = list(dict.fromkeys(meta.get("train_notes", []) + stats.get("notes", [])))
    result = {
        "system": system, "train_dataset": train_dataset, "test_dataset": test_dataset, "split": split,
        "seed": seed,
        "protocols": evaluate_rankings(samples, predictions, catalog_ids, protocol_names, ks),
        "notes": notes,
        "provenance": provenance(
            inputs={"predictions": predictions_path, "samples": samples_path, "catalog": catalog_path},
            config=config, seed=seed,
            extra={"predictions_meta": meta.get("provenance"),
                   "raw_files": [{"file": f["file"], "sha256": f["sha256"], "official": f["official"]}
                                 for f in stats.get("raw_files", [])]}),
    }
    write_json(out, result)
    return result
