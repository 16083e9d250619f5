"""Training cost table of the retriever variants (from their meta.json): time per phase, peak memory, steps.

    python -m benchmark costs results/models/retriever/*/*/seed*/meta.json --out results/tables/costs.md

``total min`` is everything a variant needs from scratch: the semantic view (fine-tuning + encoding, shared by all
variants of a dataset), the warm-start variant's fusion training when there is one, its own CF view and fusion
training, and its index build.
"""

from __future__ import annotations

from pathlib import Path

from tabulate import tabulate

from benchmark.config import stored_path
from benchmark.io import read_json, write_text


def write_costs(metas, out) -> str:
    rows = []
    for path in sorted(map(str, metas)):
        m = read_json(path, "a retriever meta.json")
        here = Path(path).parent  # paths inside a retriever meta.json are relative to its directory
        sem = read_json(stored_path(m["semantic_dir"], here) / "meta.json", "the semantic view meta.json")
        warm = 0.0
        if m.get("init"):
            init = read_json(stored_path(m["init"], here) / "meta.json", "the warm-start variant's meta.json")
            warm = init["cf_seconds"] + init["fusion_seconds"]
        total = m["semantic_seconds"] + warm + m["cf_seconds"] + m["fusion_seconds"] + m["index_seconds"]
        variant = Path(path).parts[-4]
        rows.append([variant, m["dataset"], m["seed"], sem["steps"], sem["pairs"], f"{m['semantic_seconds']:.0f}",
                     f"{warm:.0f}", f"{m['cf_seconds']:.0f}", f"{m['fusion_seconds']:.0f}", m["best_epoch"],
                     f"{m['index_seconds']:.0f}", f"{total / 60:.1f}", f"{m['peak_rss_mb']:.0f}"])
    headers = ["variant", "dataset", "seed", "semantic steps", "pairs", "semantic s (train+encode)", "warm start s",
               "CF s", "fusion s", "best epoch", "index s", "total min", "peak RSS MB"]
    table = tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)
    text = ("# Retriever training cost\n\nRegenerate: `snakemake tables` (rule costs_table). Wall-clock seconds on "
            "the machine that ran the workflow (see each meta.json's provenance); peak RSS of the fusion stage.\n\n"
            + table + "\n")
    write_text(out, text)
    return text
