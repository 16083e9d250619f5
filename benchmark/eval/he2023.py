"""External cross-check: recompute He et al. (CIKM 2023) zero-shot LLM metrics from their released predictions.

Their protocol (described in ``../shared/external/he2023-zero-shot-crs/README.md``), expressed with this
package's own metric functions:

* unit = (test row, target name); prediction list = ``nearest_movie`` of each ``rec_list`` entry, in order;
* ``filtered=True`` keeps only entries with ``min_edit_distance <= 2``; ``exclude_seen=True`` drops predicted
  names that occur in ``prev_list``; positions are not otherwise changed;
* condition ``discussion`` = the target name occurs in ``prev_list``, else ``recommendation``; ``all`` = both;
* recall/ndcg/mrr@{1,5,10,20} with exact name matching; mean, se (n - 1) and ci = 1.96 * se.

    python -m benchmark crosscheck-he --root ../shared/external/he2023-zero-shot-crs \
        --processed results/processed/inspired --out results/crosscheck/he2023.json

With ``--processed`` the report also scores their predictions on our own INSPIRED test samples
(``he2023_ours``; key ``our_samples``): their test.jsonl is found beside the external folder
(``<root>/../../datasets/inspired/raw/llm_zero_shot_crs/test.jsonl``) or given with ``--he-test``.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from benchmark.errors import InputError
from benchmark.eval.metrics import METRICS, first_rank, mean_se
from benchmark.io import read_jsonl, require_file, write_json

MODELS = ("gpt-4", "gpt-3.5-turbo", "vicuna", "baize")
VARIANTS = ((False, False), (False, True), (True, False), (True, True))  # (filtered, exclude_seen) = r1..r4
CONDITIONS = ("recommendation", "discussion", "all")
KS = (1, 5, 10, 20)
IN_CATALOG_DISTANCE = 2


def prediction_list(row: dict, filtered: bool, exclude_seen: bool) -> list[str]:
    entries = row["rec_list"]
    if filtered:
        entries = [e for e in entries if e["min_edit_distance"] <= IN_CATALOG_DISTANCE]
    names = [e["nearest_movie"] for e in entries]
    if exclude_seen:
        seen = set(row["prev_list"])
        names = [n for n in names if n not in seen]
    return names


def summarise(rows: list[dict], filtered: bool, exclude_seen: bool, ks=KS) -> dict[str, dict[str, float]]:
    """``{condition: {"recall@1_mean": ..., "recall@1_se": ..., "recall@1_ci": ..., ...}}``."""
    ranks: dict[str, list] = {c: [] for c in CONDITIONS}
    for row in rows:
        predicted = prediction_list(row, filtered, exclude_seen)
        seen = set(row["prev_list"])
        for target in row["gt_list"]:
            rank = first_rank(predicted, target)
            ranks["discussion" if target in seen else "recommendation"].append(rank)
            ranks["all"].append(rank)
    out = {}
    for cond, rs in ranks.items():
        vals = {}
        for k in ks:
            for name, fn in METRICS.items():
                mean, se = mean_se([fn(r, k) for r in rs])
                vals.update({f"{name}@{k}_mean": mean, f"{name}@{k}_se": se, f"{name}@{k}_ci": 1.96 * se})
        vals["n"] = len(rs)
        out[cond] = vals
    return out


def read_summary(path: Path) -> dict[str, dict[str, float]]:
    require_file(path, "a summary.csv of He et al.")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    try:
        return {r["condition"]: {k: float(v) for k, v in r.items() if k != "condition"} for r in rows}
    except (KeyError, ValueError) as e:
        raise InputError(path, f"unexpected summary.csv content: {e}") from None


def crosscheck(root: str | os.PathLike, dataset: str = "inspired", models=MODELS, tol: float = 1e-6) -> dict:
    """Compare our recomputation with every value of every published summary; returns a report."""
    root = Path(root)
    cells, worst = [], 0.0
    for model in models:
        rows = read_jsonl(root / model / dataset / "extracted.jsonl", f"He et al. {model} extracted.jsonl")
        for filtered, exclude_seen in VARIANTS:
            variant = f"filtered_{filtered}_exclude_seen_{exclude_seen}"
            ours = summarise(rows, filtered, exclude_seen)
            published = read_summary(root / model / dataset / variant / "summary.csv")
            for cond in CONDITIONS:
                if cond not in published:
                    raise InputError(root / model / dataset / variant / "summary.csv", f"no row for {cond!r}")
                diffs = {key: abs(ours[cond][key] - value) for key, value in published[cond].items()}
                max_diff = max(diffs.values())
                worst = max(worst, max_diff)
                cells.append({"model": model, "variant": variant, "condition": cond, "pairs": ours[cond]["n"],
                              "values_compared": len(diffs), "max_abs_diff": max_diff, "ok": max_diff <= tol,
                              "recall@10": ours[cond]["recall@10_mean"], "ndcg@10": ours[cond]["ndcg@10_mean"]})
    return {"dataset": dataset, "tolerance": tol, "cells": cells, "max_abs_diff": worst,
            "all_ok": all(c["ok"] for c in cells)}


def default_test_rows(root: str | os.PathLike) -> Path:
    return Path(root).resolve().parent.parent / "datasets/inspired/raw/llm_zero_shot_crs/test.jsonl"


def main(root: str | os.PathLike, out: str | os.PathLike | None, tol: float = 1e-6,
         processed: str | os.PathLike | None = None, test_rows: str | os.PathLike | None = None) -> int:
    from tabulate import tabulate

    report = crosscheck(root, tol=tol)
    if processed:
        from benchmark.eval.he2023_ours import score_on_our_samples

        ours = score_on_our_samples(root, processed, require_file(test_rows or default_test_rows(root),
                                                                  "He et al.'s data/inspired/test.jsonl"))
        report["our_samples"] = ours
        r10 = {(m, p, k): v[k][p]["metrics"]["recall@10"]["mean"] for m, v in ours.items() for p in v["protocols"]
               for k in ("protocols", "protocols_joined_only")}
        print(tabulate([[m, v["joined_rows"], f"{v['joined_samples']}/{v['samples']}", p,
                         v["protocols"][p]["counts"]["pairs"], f"{r10[(m, p, 'protocols')]:.4f}",
                         f"{r10[(m, p, 'protocols_joined_only')]:.4f}"]
                        for m, v in ours.items() for p in v["protocols"]],
                       headers=["model", "rows joined", "our samples covered", "protocol", "pairs", "R@10 (ours)",
                                "R@10 (covered samples only)"], tablefmt="github"))
    print(tabulate([[c["model"], c["variant"], c["condition"], c["pairs"], f"{c['recall@10']:.4f}",
                     f"{c['max_abs_diff']:.1e}", "OK" if c["ok"] else "OFF"] for c in report["cells"]],
                   headers=["model", "variant", "condition", "pairs", "R@10", "max |diff|", ""], tablefmt="github"))
    print(f"\n{sum(c['ok'] for c in report['cells'])}/{len(report['cells'])} cells within {tol:g}; "
          f"largest difference {report['max_abs_diff']:.2e}")
    if out:
        write_json(out, report)
    return 0 if report["all_ok"] else 1
