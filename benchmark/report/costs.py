"""Training cost table of the retriever variants (from their meta.json): time per phase, peak memory, steps.

    python -m benchmark costs results/models/retriever/*/*/seed*/meta.json --out results/tables/costs.md
"""

from __future__ import annotations

from tabulate import tabulate

from benchmark.io import read_json, write_text


def write_costs(metas, out) -> str:
    rows = []
    for path in sorted(map(str, metas)):
        m = read_json(path, "a retriever meta.json")
        sem = read_json(f"{m['semantic_dir']}/meta.json", "the semantic view meta.json")
        total = m["semantic_seconds"] + m["cf_seconds"] + m["fusion_seconds"] + m["index_seconds"]
        variant = path.split("/retriever/")[1].split("/")[0]
        rows.append([variant, m["dataset"], m["seed"], sem["steps"], sem["pairs"],
                     f"{m['semantic_seconds']:.0f}", f"{m['cf_seconds']:.0f}", f"{m['fusion_seconds']:.0f}",
                     m["best_epoch"], f"{m['index_seconds']:.0f}", f"{total / 60:.1f}", f"{m['peak_rss_mb']:.0f}"])
    headers = ["variant", "dataset", "seed", "semantic steps", "pairs", "semantic s (train+encode)"]
    table = tabulate(rows, headers=headers + ["CF s", "fusion s", "best epoch", "index s", "total min", "peak RSS MB"],
                     tablefmt="github", disable_numparse=True)
    text = ("# Retriever training cost\n\nRegenerate: `snakemake tables` (rule costs_table). The semantic view is "
            "trained once per dataset and seed and shared by every variant; its time is repeated on each row.\n\n"
            + table + "\n")
    write_text(out, text)
    return text
