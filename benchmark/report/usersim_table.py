"""Simulator-quality table: variants x datasets (target hit@k, attribute P/R/F1, feedback, leakage).

Each cell is ``estimate [low, high]``: the 95% dialogue-level cluster-bootstrap interval stored by
``eval-usersim`` (``benchmark/eval/bootstrap.py``); with several seeds, the mean estimate and the widest
interval bounds over seeds. The trivial rows (``trivial-popular``: constant answers from the training split;
``trivial-context``: copy the dialogue) are the bars a trained simulator has to clear.

    python -m benchmark usersim-table results/usersim/eval/*/*/seed*.json --out results/tables/usersim.md \\
        --long results/tables/usersim_long.tsv

``--long`` also writes every number in the long-TSV layout of ``metrics_long.tsv`` (system ``usersim:<variant>``,
protocol ``usersim``, unrounded), so ``compare-reference`` checks simulator quality like any other metric.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from tabulate import tabulate

from benchmark.errors import BenchmarkError
from benchmark.io import read_json, read_jsonl, write_text
from benchmark.report.aggregate import write_long
from benchmark.usersim.evaluate import samples_path
from benchmark.usersim.scoring import paired_difference

COLUMNS = [("target_hit@1", "target hit@1"), ("target_hit@10", "target hit@10"),
           ("attribute_precision", "attr P"), ("attribute_recall", "attr R"), ("attribute_f1", "attr F1"),
           ("feedback_perplexity", "reply ppl"), ("feedback_token_f1", "reply tok-F1"),
           ("feedback_cosine", "reply cos"), ("leakage_rate", "leakage")]
ORDER = ["trivial-popular", "trivial-context", "base", "feedback-only", "multitask"]


def cell(runs: list[dict], key: str) -> str:
    values = [r["metrics"].get(key) for r in runs]
    if any(v is None for v in values):
        return "–"
    text = f"{statistics.fmean(values):.3f}"
    cis = [r.get("intervals", {}).get(key) for r in runs]
    if all(cis):
        text += f" [{min(c['low'] for c in cis):.3f}, {max(c['high'] for c in cis):.3f}]"
    return text


def long_rows(result: dict) -> list[dict]:
    m = result["metrics"]
    return [{"system": f"usersim:{result['variant']}", "train_dataset": result["dataset"],
             "test_dataset": result["dataset"], "split": "test", "seed": result["seed"], "protocol": "usersim",
             "metric": key, "value": float(m[key]), "se": float("nan"), "samples": m["samples"],
             "pairs": m["feedback_samples"]}
            for key, _ in COLUMNS if m.get(key) is not None]


def paired_block(dataset: str, pairs, files: dict) -> str:
    """Paired differences A - B (attribute F1, target hit@10) on the test turns both variants scored, from the
    per-sample rows beside the first seed's JSON of each variant."""
    rows = []
    for a, b in pairs:
        if (dataset, a) not in files or (dataset, b) not in files:
            continue
        ra, rb = (read_jsonl(samples_path(files[(dataset, v)]), "per-sample simulator outputs") for v in (a, b))
        for metric in ("attribute_f1", "target_hit@10"):
            d = paired_difference(ra, rb, metric)
            if not d["samples"]:
                continue
            sig = "yes" if d["low"] > 0 or d["high"] < 0 else "no"
            rows.append([f"{a} − {b}", metric, f"{d['a']:.3f}", f"{d['b']:.3f}", f"{d['difference']:+.3f}",
                         f"[{d['low']:+.3f}, {d['high']:+.3f}]", f"{d['p_value']:.3g}", sig, d["samples"]])
    if not rows:
        return ""
    return ("\n\nPaired differences (same test turns; paired dialogue-level bootstrap, 1000 resamples, seed 0; "
            "significant = the 95% interval excludes 0):\n\n"
            + tabulate(rows, headers=["A − B", "metric", "A", "B", "A − B", "95% interval", "p", "significant",
                                      "turns"], tablefmt="github", disable_numparse=True))


def write_usersim_table(paths, out, long_out=None, compare=()) -> str:
    """``compare``: (A, B) variant pairs whose paired differences follow each dataset's table."""
    runs = defaultdict(list)
    info = {}
    long = []
    files = {}
    for p in sorted(map(str, paths)):
        r = read_json(p, "a simulator evaluation JSON")
        runs[(r["dataset"], r["variant"])].append(r)
        files.setdefault((r["dataset"], r["variant"]), p)
        long.extend(long_rows(r))
        info[r["dataset"]] = r["metrics"]["samples"], r["metrics"]["feedback_samples"]
    blocks = []
    for dataset in sorted({d for d, _ in runs}):
        variants = sorted({v for d, v in runs if d == dataset}, key=lambda v: (ORDER.index(v) if v in ORDER else 9, v))
        rows = []
        for v in variants:
            rows.append([v] + [cell(runs[(dataset, v)], k) for k, _ in COLUMNS])
        n, nf = info[dataset]
        decodings = "; ".join(f"{v}: {d}" for v in variants
                              if (d := (runs[(dataset, v)][0].get("attribute_decoding") or {}).get("decoding")))
        blocks.append(f"### {dataset}\n\n" + tabulate(rows, headers=["variant"] + [c for _, c in COLUMNS],
                                                      tablefmt="github", disable_numparse=True)
                      + f"\n\n- {n} test turns with a fresh titled target (seeded sample); {nf} of them are followed "
                        "by a seeker turn (reply metrics)."
                      + (f"\n- Attribute decoding, chosen on valid (`results/usersim/decoding/`; docs/usersim.md): "
                         f"{decodings}." if decodings else "")
                      + paired_block(dataset, compare, files))
    text = ("# User-simulator quality (test split)\n\nRegenerate: `snakemake usersim`. Target hit@k: fuzzy-matched "
            "generated title; attributes: micro P/R/F1 of (field, value) pairs; reply: perplexity of the real seeker "
            "reply, unigram F1 and embedding cosine of the generated one; leakage: share of replies to a "
            "counterfactual offer that name a held-out target. Cells: estimate [95% dialogue-level bootstrap "
            "interval]. Per-sample outputs: `results/usersim/eval/<variant>/<dataset>/seed<N>.samples.jsonl`.\n\n"
            + "\n\n".join(blocks) + "\n")
    evaluated = {v for _, v in runs}
    for a, b in compare:
        if missing := [v for v in (a, b) if v not in evaluated]:
            raise BenchmarkError(f"usersim-table --compare {a}:{b}: no evaluation of {missing[0]} among the inputs")
    write_text(out, text)
    if long_out:
        write_long(long, long_out)
    return text
