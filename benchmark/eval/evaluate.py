"""Stage ``evaluate``: predictions + samples -> one metrics JSON (unrounded, counts, protocol card, provenance).

    python -m benchmark evaluate --predictions results/predictions/popularity/redial/redial/seed0.jsonl \\
        --processed results/processed/redial --split test --out results/metrics/popularity/redial/redial/seed0.json

The metrics JSON::

    {"system", "train_dataset", "test_dataset", "split", "seed",
     "protocols": {"all": {"metrics": {"recall@10": {"mean", "se", "ci_low", "ci_high"}, ...},
                           "counts": {...}, "card": {..., "interval", "dialogues"}},
                   "fresh": {...}},
     "notes": [dataset caveats], "provenance": {...}}

``se`` treats pairs as independent; ``ci_low``/``ci_high`` are the 95% dialogue-level cluster bootstrap interval
(whole dialogues resampled, ``BOOTSTRAP_RESAMPLES`` draws, seed ``BOOTSTRAP_SEED``; the card's ``interval`` names
the method). The bootstrap seed is fixed, not the system's seed, so two systems on the same samples are resampled
identically.

Counts are per protocol: ``missing_predictions`` etc. count the samples that protocol keeps (under ``fresh``, the
samples left with a fresh target). A cell whose predictions cover less than ``MIN_COVERAGE`` of its samples is
still scored (missing samples are misses) but prints a ``WARNING`` line, carries a note, and its card says
``incomplete: true`` (the table marks it). ``--test-dataset`` must name the processed directory's dataset.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.eval.bootstrap import METHOD
from benchmark.eval.metrics import KS, first_rank, score_ranks
from benchmark.eval.predictions import read_predictions
from benchmark.eval.protocols import get_protocol
from benchmark.io import read_json, read_jsonl, write_json
from benchmark.provenance import provenance

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0
# Below this share of a protocol's samples with a prediction, a cell is flagged: at 95% coverage a Recall can be
# understated by up to 5% relative (missing samples count as misses), the size of many published gaps.
MIN_COVERAGE = 0.95


def dialogue_of(sample: dict) -> str:
    """The cluster of a sample: its dialogue (``sample_id`` is ``<dialogue>#<turn>`` when the field is absent)."""
    return str(sample.get("dialogue_id") or sample["sample_id"].rsplit("#", 1)[0])


def pair_ranks(samples: Sequence[dict], lists: dict[str, list], protocol_name: str):
    """Per-pair ranks and dialogue ids under one protocol, and the number of samples kept."""
    protocol = get_protocol(protocol_name)
    ranks, clusters, n_samples = [], [], 0
    for s in samples:
        targets = protocol.targets(s)
        if not targets:
            continue
        n_samples += 1
        ranks.extend(first_rank(lists.get(s["sample_id"], []), t) for t in targets)
        clusters.extend([dialogue_of(s)] * len(targets))
    return ranks, clusters, n_samples


def evaluate_rankings(samples: Sequence[dict], predictions: dict[str, dict], catalog_ids: set[str],
                      protocol_names: Sequence[str] = ("all", "fresh"), ks: Sequence[int] = KS) -> dict:
    """Score every protocol variant; pure apart from its inputs (no I/O)."""
    lists = {s["sample_id"]: predictions.get(s["sample_id"], {}).get("ranked_items", []) for s in samples}
    out = {}
    for name in protocol_names:
        protocol = get_protocol(name)
        ranks, clusters, n_samples = pair_ranks(samples, lists, name)
        kept = [s["sample_id"] for s in samples if protocol.targets(s)]  # the samples this protocol scores
        list_counts = list_counts_of(kept, lists, predictions, catalog_ids, max(ks))
        metrics = score_ranks(ranks, ks, clusters=clusters, n_resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED)
        n_dialogues = len(set(clusters))
        coverage = 1 - list_counts["missing_predictions"] / n_samples if n_samples else 1.0
        out[name] = {
            "metrics": metrics,
            "counts": {"samples": n_samples, "pairs": len(ranks), "dialogues": n_dialogues, **list_counts},
            "card": {"protocol": name, "unit": "(recommender turn, mentioned catalogue item) pair",
                     "variant": protocol.description, "ks": list(ks), "catalog_size": len(catalog_ids),
                     "samples": n_samples, "pairs": len(ranks), "dialogues": n_dialogues,
                     "coverage": coverage, "incomplete": coverage < MIN_COVERAGE,
                     "interval": f"95% {METHOD.format(n=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED)} over "
                                 f"{n_dialogues} dialogues; se treats pairs as independent"},
        }
    return out


def list_counts_of(sample_ids: Sequence[str], lists: dict[str, list], predictions: dict[str, dict],
                   catalog_ids: set[str], top: int) -> dict:
    """Problems of the ranked lists of ``sample_ids`` (one protocol's samples)."""
    missing = [i for i in sample_ids if i not in predictions]
    mine = [lists[i] for i in sample_ids]
    return {
        "missing_predictions": len(missing),
        "missing_examples": missing[:5],
        "empty_lists": sum(not v for v in mine),
        "short_lists": sum(len(v) < top for v in mine),
        "unknown_items_in_top": sum(i not in catalog_ids for v in mine for i in v[:top]),
        "duplicate_items_in_top": sum(len(v[:top]) - len(set(v[:top])) for v in mine),
        "parse_failures": sum(predictions[i].get("parse_status", "ok") != "ok" for i in sample_ids if i in predictions),
        # predictions that carry a parse status (LLM systems): the denominator of the table's parse-failure rate
        "parsed_outputs": sum("parse_status" in predictions[i] for i in sample_ids if i in predictions),
    }


def coverage_warnings(protocols: dict, where: str) -> list[str]:
    """One line per protocol whose predictions cover less than ``MIN_COVERAGE`` of its samples."""
    return [f"WARNING: {where} [{name}]: predictions cover only {b['card']['coverage']:.1%} of "
            f"{b['counts']['samples']} samples ({b['counts']['missing_predictions']} missing, scored as misses; "
            f"below {MIN_COVERAGE:.0%})"
            for name, b in protocols.items() if b["card"]["incomplete"]]


def add_transfer_coverage(protocols: dict, train_dir: Path, catalog: list[dict], samples: list[dict]) -> None:
    """Transfer cells: put ``benchmark.data.coverage.transfer_coverage`` (the share of test pairs whose target is in
    the training catalogue, and has a CF vector: the ceiling of the cell) into each protocol's card."""
    from benchmark.data.coverage import transfer_coverage

    train_catalog = read_jsonl(train_dir / "catalog.jsonl", "the training catalogue (transfer coverage)")
    train_dialogues = read_jsonl(train_dir / "train.dialogues.jsonl", "the training dialogues (transfer coverage)")
    for name, block in protocols.items():
        block["card"]["transfer_coverage"] = transfer_coverage(train_catalog, catalog, samples, name,
                                                               train_dialogues=train_dialogues)


def predictions_meta_path(predictions_path: str | os.PathLike) -> Path:
    """``seed0.jsonl`` or ``seed0.jsonl.gz`` (a released reference file) -> ``seed0.meta.json`` beside it."""
    path = Path(predictions_path)
    return path.with_name(path.name.removesuffix(".gz").removesuffix(".jsonl") + ".meta.json")


def evaluate(predictions_path: str | os.PathLike, processed_dir: str | os.PathLike, split: str, out: str | os.PathLike,
             system: str, train_dataset: str, test_dataset: str, seed: int,
             protocol_names: Sequence[str] = ("all", "fresh"), ks: Sequence[int] = KS, config=None,
             train_processed: str | os.PathLike | None = None, subset: str | os.PathLike | None = None) -> dict:
    """Score, write and return the metrics JSON. ``train_processed`` (default: the sibling folder named
    ``train_dataset``) is read only for transfer cells, for their coverage. ``subset``: a committed ids file
    (``benchmark.recommender.subset``): only its samples are scored, the result's ``split`` is ``<split>-subset``
    and every card carries the subset's file, size and hash."""
    processed = Path(processed_dir)
    samples_path = processed / f"{split}.samples.jsonl"
    catalog_path = processed / "catalog.jsonl"
    samples = read_jsonl(samples_path, f"evaluation samples (from `python -m benchmark process {test_dataset}`)")
    subset_card = None
    if subset:
        from benchmark.recommender.subset import restrict, subset_info

        samples, subset_card = restrict(samples, subset), subset_info(subset)
    catalog = read_jsonl(catalog_path, "the item catalogue")
    catalog_ids = {it["item_id"] for it in catalog}
    predictions = read_predictions(predictions_path, (s["sample_id"] for s in samples))
    stats = read_json(processed / "stats.json", "processed dataset stats")
    if stats.get("dataset", test_dataset) != test_dataset:
        raise BenchmarkError(f"--test-dataset {test_dataset!r} does not match {processed}, which holds "
                             f"{stats['dataset']!r}: pass --test-dataset {stats['dataset']} or the right --processed")
    meta_path = predictions_meta_path(predictions_path)  # written by `predict`; absent for imports
    meta = read_json(meta_path, "predictions meta") if meta_path.is_file() else {}
    for key, given in (("train_dataset", train_dataset), ("test_dataset", test_dataset), ("split", split)):
        if meta.get(key, given) != given:
            raise BenchmarkError(f"{meta_path} says the predictions are for {key} {meta[key]!r}, not {given!r}")
    if meta and (meta.get("subset") or {}).get("sha256") != (subset_card or {}).get("sha256"):
        raise BenchmarkError(f"{meta_path}: the predictions were made on subset {meta.get('subset')}, but evaluate "
                             f"was given {subset_card}: pass the same --subset to predict and evaluate")
    notes = list(dict.fromkeys(meta.get("train_notes", []) + stats.get("notes", [])))
    protocols = evaluate_rankings(samples, predictions, catalog_ids, protocol_names, ks)
    for block in protocols.values():
        # null for imported predictions (no meta): the option is unknown there, not false
        block["card"]["exclude_context"] = meta.get("exclude_context", False) if meta else None
        block["card"]["subset"] = subset_card  # null: the whole split
    if train_dataset != test_dataset:
        train_dir = Path(train_processed) if train_processed else processed.parent / train_dataset
        if train_dir.is_dir():
            add_transfer_coverage(protocols, train_dir, catalog, samples)
        else:
            notes.append(f"transfer coverage not computed: no processed training dataset at {train_dir}")
    warnings = coverage_warnings(protocols, f"{system} {train_dataset}->{test_dataset} seed {seed}")
    for line in warnings:
        print(line, file=sys.stderr, flush=True)
    notes.extend(w.removeprefix("WARNING: ") for w in warnings)
    if config is None and meta:  # the system's constructor params and, for a trained model, its recipe
        config = {"params": meta.get("params", {}), "recipe": meta.get("recipe")}
    result = {
        "system": system, "train_dataset": train_dataset, "test_dataset": test_dataset,
        "split": f"{split}-subset" if subset_card else split,
        "seed": seed,
        "protocols": protocols,
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
