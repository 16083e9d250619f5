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

import numpy as np
from tabulate import tabulate

from benchmark.errors import BenchmarkError
from benchmark.eval.bootstrap import METHOD, paired_bootstrap
from benchmark.eval.evaluate import pair_ranks, predictions_meta_path
from benchmark.eval.metrics import per_pair_values
from benchmark.eval.predictions import read_predictions
from benchmark.io import read_json, read_jsonl, write_json
from benchmark.recommender.subset import restrict, subset_info


def metric_cutoffs(metrics: Sequence[str]) -> list[int]:
    """The cut-offs k of ``metrics`` (``recall@10`` ...), or a clear error for a name that is not one."""
    bad = [m for m in metrics if not re.fullmatch(r"(recall|ndcg|mrr)@[1-9][0-9]*", m)]
    if bad:
        raise BenchmarkError(f"compare: unknown metric(s) {bad}; use e.g. recall@10, ndcg@10, mrr@10")
    return sorted({int(m.split("@")[1]) for m in metrics})


def compare_rankings(samples: Sequence[dict], lists_a: dict[str, list], lists_b: dict[str, list],
                     metrics: Sequence[str], protocol_names: Sequence[str] = ("all", "fresh"),
                     n_resamples: int = 1000, seed: int = 0) -> dict:
    """``{protocol: {metric: {"a", "b", "difference", "low", "high", "p_value", "n_clusters", "pairs"}}}``."""
    ks = metric_cutoffs(metrics)
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
            out: str | os.PathLike | None = None, subset: str | os.PathLike | None = None) -> dict:
    """``subset``: a committed sample-ids file (``make-subset``); only its samples are compared, as ``evaluate
    --subset`` scores them (predictions made on a subset would otherwise count every other sample as a miss)."""
    samples = read_jsonl(Path(processed_dir) / f"{split}.samples.jsonl", "evaluation samples")
    if subset is not None:
        samples = restrict(samples, subset)
    ids = [s["sample_id"] for s in samples]
    lists = [{sid: p["ranked_items"] for sid, p in read_predictions(path, ids).items()} for path in (a_path, b_path)]
    result = {"a": str(a_path), "b": str(b_path), "samples": str(Path(processed_dir) / f"{split}.samples.jsonl"),
              "subset": None if subset is None else subset_info(subset),
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


def prediction_device(path: str | os.PathLike) -> str | None:
    """The ``provenance.device`` of the ``seed<N>.meta.json`` beside a predictions file (``seed<N>.jsonl[.gz]``), or
    None when there is none (hand-made files, tests).

    Why it matters: greedy LLM decoding and training move with the CPU's instruction set (the INSPIRED ``smtpo``
    test answers made with AVX2 kernels and a rerun with AVX-512 kernels agree on 29 of 100 turn-1 answers;
    docs/recommender.md, "A reproducibility defect, pinned"), so two files made with different kernels differ by
    more than the test samples."""
    meta = predictions_meta_path(path)
    if not meta.is_file():
        return None
    return (read_json(meta, "a predictions meta.json").get("provenance") or {}).get("device")


def _seed_lists(predictions_root, system: str, train: str, test: str, seeds: Sequence[int], ids: list[str],
                split_dir: str = "", allow_none: bool = False) -> tuple[dict[int, dict[str, list]], list[str]]:
    """``{seed: {sample_id: ranked_items}}`` of the seeds whose predictions exist (``.jsonl`` or ``.jsonl.gz``)
    under ``<root>/<system>/<train>/<test>/<split_dir>``, and the distinct devices that made them (sorted). No file
    at all is an error unless ``allow_none`` (then ``({}, [])``); a malformed file is always one."""
    out, devices = {}, set()
    for seed in seeds:
        base = Path(predictions_root) / system / train / test / split_dir / f"seed{seed}.jsonl"
        path = next((p for p in (base, base.with_name(base.name + ".gz")) if p.exists()), None)
        if path is not None:
            out[seed] = {sid: p["ranked_items"] for sid, p in read_predictions(path, ids).items()}
            if (device := prediction_device(path)) is not None:
                devices.add(device)
    if not out and not allow_none:
        raise BenchmarkError(f"comparisons: no predictions of {system} on {train}->{test} for seeds "
                             f"{list(seeds)} (looked for {base} and its .gz); run its predict rule first")
    return out, sorted(devices)


def _seed_mean_values(samples, per_seed: dict[int, dict], protocol: str, ks) -> tuple[dict, list, dict]:
    """Per-pair metric values averaged over the seeds, the pairs' dialogues, and each seed's means."""
    by_seed = {}
    for seed, lists in per_seed.items():
        ranks, clusters, _ = pair_ranks(samples, lists, protocol)
        by_seed[seed] = per_pair_values(ranks, ks)
    first = next(iter(by_seed.values()))
    mean = {m: np.mean([v[m] for v in by_seed.values()], axis=0).tolist() for m in first}
    means = {seed: {m: (sum(v) / len(v) if v else float("nan")) for m, v in vals.items()}
             for seed, vals in by_seed.items()}
    return mean, clusters, means


def comparison_table(pairs: Sequence[tuple[str, str]], cells: Sequence[tuple[str, str]],
                     predictions_root: str | os.PathLike, processed_root: str | os.PathLike,
                     seeds: Sequence[int] = (0,), metrics: Sequence[str] = ("recall@10", "ndcg@10"),
                     protocol: str = "fresh", n_resamples: int = 1000, bootstrap_seed: int = 0,
                     subsets: dict[str, str | os.PathLike] | None = None, skip_missing: bool = False) -> list[dict]:
    """Every configured comparison (A, B) on every cell: one row per metric with A, B, A - B, its paired 95%
    interval and p. Predictions: ``<predictions_root>/<system>/<train>/<test>/seed<N>.jsonl[.gz]``.

    ``subsets`` (test dataset -> committed ids file): that dataset's cells compare only the subset's samples, read
    from ``.../<test>/test-subset/seed<N>.jsonl`` (the LLM systems' layout, ``predict --subset``); a cell whose
    test dataset has no entry is refused, so a table never mixes the whole split with a subset.

    Seeds: each system's per-pair values are averaged over those of ``seeds`` it has predictions for (a model-free
    system has one); the bootstrap resamples dialogues of the seed-averaged values, so the interval is about the
    test samples. ``seed_sd`` is the standard deviation of the per-seed difference over the seeds both systems
    have (None below 2): the training noise the interval does not cover.

    ``skip_missing``: a system without predictions in a cell is an error by default (the workflow makes them all);
    with it, that cell's pairs involving the system become ``{"a_system", "b_system", "train", "test", "missing":
    [systems]}`` entries, which ``render_table`` lists under the table as not compared (a partial reference, e.g. a
    transfer cell whose GRPO run did not fit a session)."""
    if not seeds:
        raise BenchmarkError("comparisons: give at least one seed")
    ks = metric_cutoffs(metrics)
    rows = []
    for train, test in cells:
        samples = read_jsonl(Path(processed_root) / test / "test.samples.jsonl", "evaluation samples")
        split_dir = ""
        if subsets is not None:
            if test not in subsets:
                raise BenchmarkError(f"comparisons: cell {train}:{test} has no subset file (given for "
                                     f"{sorted(subsets)}); give --subset {test}=<ids file>")
            samples, split_dir = restrict(samples, subsets[test]), "test-subset"
        ids = [s["sample_id"] for s in samples]
        values, devices = {}, {}
        for system in dict.fromkeys(x for pair in pairs for x in pair):
            lists, devices[system] = _seed_lists(predictions_root, system, train, test, seeds, ids, split_dir,
                                                 allow_none=skip_missing)
            if lists:  # absent only with skip_missing: its pairs are listed below, not compared
                values[system] = (*_seed_mean_values(samples, lists, protocol, ks), sorted(lists))
        for a, b in pairs:
            if gone := [x for x in (a, b) if x not in values]:
                rows.append({"a_system": a, "b_system": b, "train": train, "test": test, "missing": gone})
                continue
            (va, clusters, means_a, seeds_a), (vb, _, means_b, seeds_b) = values[a], values[b]
            # the files of A and B were made on different machines (None: a meta.json is missing, unknown)
            mixed = bool(devices[a] and devices[b]) and set(devices[a]) != set(devices[b])
            common = [s for s in seeds_a if s in seeds_b]
            for m in metrics:
                res = paired_bootstrap(va[m], vb[m], clusters, n_resamples=n_resamples, seed=bootstrap_seed)
                diffs = [means_a[s][m] - means_b[s][m] for s in common]
                sd = float(np.std(diffs, ddof=1)) if len(diffs) >= 2 else None
                rows.append({"a_system": a, "b_system": b, "train": train, "test": test, "metric": m,
                             "a": sum(va[m]) / len(va[m]) if va[m] else float("nan"),
                             "b": sum(vb[m]) / len(vb[m]) if vb[m] else float("nan"), **res, "pairs": len(va[m]),
                             "a_seeds": seeds_a, "b_seeds": seeds_b, "seed_sd": sd,
                             "a_devices": devices[a], "b_devices": devices[b], "mixed_devices": mixed})
    return rows


def render_table(rows: Sequence[dict], protocol: str, n_resamples: int, digits: int = 4,
                 tablefmt: str = "github", bootstrap_seed: int = 0, title: str = "Paired comparisons",
                 target: str = "comparisons", subsets: dict | None = None, regenerate: str | None = None) -> str:
    from benchmark.report.tables import cell_name, metric_label

    def seeds(r):
        return f"{len(r['a_seeds'])}/{len(r['b_seeds'])}"

    def label(r):  # ‡ : A's and B's files come from different devices (card below)
        return f"{r['a_system']} − {r['b_system']}" + (" ‡" if r.get("mixed_devices") else "")

    body = [[label(r), cell_name(r["train"], r["test"]), metric_label(r["metric"]),
             f"{r['a']:.{digits}f}", f"{r['b']:.{digits}f}", f"{r['difference']:+.{digits}f}",
             f"[{r['low']:+.{digits}f}, {r['high']:+.{digits}f}]", f"{r['p_value']:.3g}",
             "yes" if r["low"] > 0 or r["high"] < 0 else "no", seeds(r),
             "—" if r["seed_sd"] is None else f"{r['seed_sd']:.{digits}f}", r["pairs"], r["n_clusters"]]
            for r in rows if "missing" not in r]
    table = tabulate(body, headers=["A − B", "cell", "metric", "A", "B", "A − B", "95% interval", "p",
                                    "significant", "seeds A/B", "seed sd", "pairs", "dialogues"], tablefmt=tablefmt,
                     disable_numparse=True)
    card = (f"protocol `{protocol}`; paired {METHOD.format(n=n_resamples, seed=bootstrap_seed)} over the same (sample, "
            "target) pairs; each system's per-pair values are averaged over its seeds (`seeds A/B`), so the interval "
            "covers the test samples, and `seed sd` is the standard deviation of A − B over the seeds both have (the "
            "training noise; — below 2 seeds); significant = the 95% interval excludes 0 (no correction for the "
            "number of comparisons).")
    mixed = {f"{r['a_system']} ({', '.join(r['a_devices'])}) − {r['b_system']} ({', '.join(r['b_devices'])})": None
             for r in rows if r.get("mixed_devices")}
    if mixed:
        card += (" ‡ A's and B's predictions were made on different devices or CPU kernels (their meta.json "
                 "`provenance.device`): "
                 + "; ".join(mixed) + ". LLM decoding and training move with the CPU's instruction set, so such a "
                 "difference also holds device noise the interval does not cover (docs/recommender.md).")
    if subsets:
        card += " Samples: only those of the subset files " + ", ".join(
            f"{d} `{path}` ({subset_info(path)['n']} ids)" for d, path in sorted(subsets.items())) + "."
    if skipped := [r for r in rows if "missing" in r]:
        card += " Not compared (no predictions): " + "; ".join(
            f"{r['a_system']} − {r['b_system']} on {cell_name(r['train'], r['test'])} ({', '.join(r['missing'])})"
            for r in skipped) + "."
    if tablefmt.startswith("latex"):
        return f"% {card}\n{table.replace('−', '--').replace('—', '--')}\n"
    # a table no Snakemake target makes (the remedies: scripts) names where its commands are instead
    how = regenerate or f"`snakemake {target}`"
    return f"# {title}\n\nRegenerate: {how}.\n\n{table}\n\n- {card}\n"
