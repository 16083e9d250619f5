"""Stage ``compare``: is system A better than system B on the same samples? Paired dialogue-level bootstrap.

    python -m benchmark compare --a results/predictions/dualview/redial/redial/seed0.jsonl \\
        --b results/predictions/cf-only/redial/redial/seed0.jsonl --processed results/processed/redial \\
        --metrics recall@10,ndcg@10 --out results/compare/dualview_vs_cf-only.json

Both predictions files are scored pair by pair on the same test samples (both protocols); the difference of
means ``A - B`` gets a 95% interval and a two-sided p-value from ``benchmark.eval.bootstrap.paired_bootstrap``,
which resamples whole dialogues and applies each resample to both systems. A sample missing from one file is a
miss for that system (as in ``evaluate``), so both are always compared on identical pairs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from tabulate import tabulate

from benchmark.errors import BenchmarkError
from benchmark.eval.bootstrap import METHOD, paired_bootstrap
from benchmark.eval.evaluate import pair_ranks
from benchmark.eval.metrics import per_pair_values
from benchmark.eval.predictions import read_predictions
from benchmark.io import read_jsonl, write_json


def compare_rankings(samples: Sequence[dict], lists_a: dict[str, list], lists_b: dict[str, list],
                     metrics: Sequence[str], protocol_names: Sequence[str] = ("all", "fresh"),
                     n_resamples: int = 1000, seed: int = 0) -> dict:
    """``{protocol: {metric: {"a", "b", "difference", "low", "high", "p_value", "n_clusters", "pairs"}}}``."""
    bad = [m for m in metrics if not re.fullmatch(r"(recall|ndcg|mrr)@[1-9][0-9]*", m)]
    if bad:
        raise BenchmarkError(f"compare: unknown metric(s) {bad}; use e.g. recall@10, ndcg@10, mrr@10")
    ks = sorted({int(m.split("@")[1]) for m in metrics})
    out = {}
    for protocol in protocol_names:
        ranks_a, clusters, _ = pair_ranks(samples, lists_a, protocol)
        ranks_b, _, _ = pair_ranks(samples, lists_b, protocol)
        vals_a, vals_b = per_pair_values(ranks_a, ks), per_pair_values(ranks_b, ks)
        block = {}
        for m in metrics:
            a, b = vals_a[m], vals_b[m]
            res = paired_bootstrap(a, b, clusters, n_resamples=n_resamples, seed=seed)
            block[m] = {"a": sum(a) / len(a) if a else float("nan"), "b": sum(b) / len(b) if b else float("nan"),
                        **res, "pairs": len(a)}
        out[protocol] = block
    return out


def compare(a_path: str | os.PathLike, b_path: str | os.PathLike, processed_dir: str | os.PathLike,
            split: str = "test", metrics: Sequence[str] = ("recall@10", "ndcg@10"),
            protocol_names: Sequence[str] = ("all", "fresh"), n_resamples: int = 1000, seed: int = 0,
            out: str | os.PathLike | None = None) -> dict:
    samples = read_jsonl(Path(processed_dir) / f"{split}.samples.jsonl", "evaluation samples")
    ids = [s["sample_id"] for s in samples]
    lists = [{sid: p["ranked_items"] for sid, p in read_predictions(path, ids).items()} for path in (a_path, b_path)]
    result = {"a": str(a_path), "b": str(b_path), "samples": str(Path(processed_dir) / f"{split}.samples.jsonl"),
              "method": f"paired {METHOD.format(n=n_resamples, seed=seed)}; difference = A - B; two-sided p",
              "protocols": compare_rankings(samples, lists[0], lists[1], metrics, protocol_names, n_resamples, seed)}
    if out:
        write_json(out, result)
    return result


def render(result: dict, digits: int = 4) -> str:
    rows = [[p, m, f"{r['a']:.{digits}f}", f"{r['b']:.{digits}f}", f"{r['difference']:+.{digits}f}",
             f"[{r['low']:+.{digits}f}, {r['high']:+.{digits}f}]", f"{r['p_value']:.3g}", r["pairs"], r["n_clusters"]]
            for p, block in result["protocols"].items() for m, r in block.items()]
    table = tabulate(rows, headers=["protocol", "metric", "A", "B", "A - B", "95% interval", "p", "pairs",
                                    "dialogues"], disable_numparse=True)
    return f"A = {result['a']}\nB = {result['b']}\n{table}\n{result['method']}"


def comparison_table(pairs: Sequence[tuple[str, str]], cells: Sequence[tuple[str, str]],
                     predictions_root: str | os.PathLike, processed_root: str | os.PathLike, seed: int = 0,
                     metrics: Sequence[str] = ("recall@10", "ndcg@10"), protocol: str = "fresh",
                     n_resamples: int = 1000, bootstrap_seed: int = 0) -> list[dict]:
    """Every configured comparison (A, B) on every cell: one row per metric with A, B, A - B, its paired 95%
    interval and p. Predictions: ``<predictions_root>/<system>/<train>/<test>/seed<seed>.jsonl``."""
    rows = []
    for train, test in cells:
        samples = read_jsonl(Path(processed_root) / test / "test.samples.jsonl", "evaluation samples")
        ids = [s["sample_id"] for s in samples]
        lists = {}
        for system in dict.fromkeys(x for pair in pairs for x in pair):
            path = Path(predictions_root) / system / train / test / f"seed{seed}.jsonl"
            lists[system] = {sid: p["ranked_items"] for sid, p in read_predictions(path, ids).items()}
        for a, b in pairs:
            block = compare_rankings(samples, lists[a], lists[b], metrics, (protocol,), n_resamples,
                                     bootstrap_seed)[protocol]
            rows.extend({"a_system": a, "b_system": b, "train": train, "test": test, "metric": m, **r}
                        for m, r in block.items())
    return rows


def render_table(rows: Sequence[dict], protocol: str, n_resamples: int, seed: int, digits: int = 4,
                 tablefmt: str = "github", bootstrap_seed: int = 0) -> str:
    from benchmark.report.tables import cell_name, metric_label

    body = [[f"{r['a_system']} − {r['b_system']}", cell_name(r["train"], r["test"]), metric_label(r["metric"]),
             f"{r['a']:.{digits}f}", f"{r['b']:.{digits}f}", f"{r['difference']:+.{digits}f}",
             f"[{r['low']:+.{digits}f}, {r['high']:+.{digits}f}]", f"{r['p_value']:.3g}",
             "yes" if r["low"] > 0 or r["high"] < 0 else "no", r["pairs"], r["n_clusters"]] for r in rows]
    table = tabulate(body, headers=["A − B", "cell", "metric", "A", "B", "A − B", "95% interval", "p",
                                    "significant", "pairs", "dialogues"], tablefmt=tablefmt, disable_numparse=True)
    card = (f"protocol `{protocol}`; paired {METHOD.format(n=n_resamples, seed=bootstrap_seed)} over the same (sample, "
            f"target) pairs, seed-{seed} predictions of both systems; significant = the 95% interval excludes 0 "
            "(no correction for the number of comparisons).")
    if tablefmt.startswith("latex"):
        return f"% {card}\n{table.replace('−', '--')}\n"
    return f"# Paired comparisons\n\nRegenerate: `snakemake comparisons`.\n\n{table}\n\n- {card}\n"
