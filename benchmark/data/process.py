"""Stage ``process``: parse a dataset's raw files into dialogues, samples, catalogue and ``stats.json``.

Everything is parsed and checked in memory first; files are written (each atomically) only when the whole
dataset parsed, so a malformed input leaves every earlier output untouched.

    python -m benchmark process redial --raw results/raw/redial --out results/processed/redial
"""

from __future__ import annotations

import os
from pathlib import Path

from benchmark.data import DATASETS
from benchmark.data.spec import SPLITS, DatasetSpec, build_samples
from benchmark.errors import BenchmarkError
from benchmark.io import read_json, write_json, write_jsonl
from benchmark.provenance import provenance


def split_stats(dialogues: list[dict], samples: list[dict]) -> dict:
    fresh = [[t for t in s["targets"] if t not in s["context_items"]] for s in samples]
    return {
        "dialogues": len(dialogues),
        "turns": sum(len(d["turns"]) for d in dialogues),
        "recommender_turns": sum(t["role"] == "recommender" for d in dialogues for t in d["turns"]),
        "samples": len(samples),
        "target_pairs_all": sum(len(s["targets"]) for s in samples),
        "samples_fresh": sum(bool(f) for f in fresh),
        "target_pairs_fresh": sum(len(f) for f in fresh),
        "distinct_targets": len({t for s in samples for t in s["targets"]}),
    }


def process(name: str, raw_dir: str | os.PathLike, out_dir: str | os.PathLike, seed: int = 0,
            options: dict | None = None, aux: dict[str, str] | None = None) -> dict:
    spec: DatasetSpec = DATASETS.get(name)
    raw_dir, out = Path(raw_dir), Path(out_dir)
    manifest = read_json(raw_dir / "manifest.json", f"the manifest written by `python -m benchmark acquire {name}`")
    parsed = spec.parse(raw_dir, seed=seed, options=options or {}, aux=aux or {})
    samples = {split: [s for d in parsed.dialogues[split] for s in build_samples(d)] for split in SPLITS}
    catalog_ids = {it["item_id"] for it in parsed.catalog}
    for split in SPLITS:  # every target must be a catalogue item: the metrics assume it
        stray = {t for s in samples[split] for t in s["targets"]} - catalog_ids
        if stray:
            raise BenchmarkError(f"{name}/{split}: targets outside the catalogue: {sorted(stray)[:5]}")
    stats = {
        "dataset": name,
        "splits": {split: split_stats(parsed.dialogues[split], samples[split]) for split in SPLITS},
        "catalog": {"items": len(parsed.catalog),
                    "with_metadata": sum(bool(it["genres"] or it["plot"]) for it in parsed.catalog),
                    "untitled": sum(not it["has_title"] for it in parsed.catalog)},
        "twins": parsed.twins["counts"] if parsed.twins else None,  # one identity per movie (twins.json)
        "expected_dialogues": spec.expected_dialogues,
        "notes": parsed.notes + manifest["warnings"],
        "raw_files": manifest["files"],
        "provenance": provenance(seed=seed, config=options),
    }
    mismatched = {s: (n, stats["splits"][s]["dialogues"]) for s, n in spec.expected_dialogues.items()
                  if stats["splits"][s]["dialogues"] != n and manifest["all_official"]}
    if mismatched:
        raise BenchmarkError(f"{name}: official files give unexpected dialogue counts {mismatched}")
    write_jsonl(out / "catalog.jsonl", parsed.catalog)
    # always written (a declared output of the `process` rule), empty when the dataset has no twin merging
    write_json(out / "twins.json", parsed.twins or {"counts": None, "groups": [], "conflicts": []})
    for split in SPLITS:
        write_jsonl(out / f"{split}.dialogues.jsonl", parsed.dialogues[split])
        write_jsonl(out / f"{split}.samples.jsonl", samples[split])
    write_json(out / "stats.json", stats)  # written last: its presence means the set is complete
    return stats
