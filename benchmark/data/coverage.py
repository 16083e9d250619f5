"""How much of a transfer cell a model trained elsewhere can possibly get right: target coverage.

``transfer_coverage(train_catalog, test_catalog, test_samples, protocol)`` counts the test (sample, target)
pairs of the protocol (``all``, or ``fresh``: targets not already mentioned in the context) and the share whose
target film exists in the training catalogue (``benchmark.data.matching``), and, given the training dialogues,
the share that also has a CF vector (mentioned at least ``cf_min_count`` times in them; the dual-view
retriever's default ``RetrieverConfig.cf_min_count`` is 2). A pure function: no files, no model.

    python -m benchmark stats results/processed/redial/stats.json results/processed/inspired/stats.json
    # prints the coverage of every ordered pair of the given datasets after their split tables
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from benchmark.data.matching import match_items

PROTOCOLS = ("all", "fresh")


def _items(catalog) -> list[dict]:
    return list(getattr(catalog, "items", catalog))  # a Catalog or a plain list of item records


def target_pairs(samples: Iterable[dict], protocol: str) -> list[str]:
    """Target item ids of every (sample, target) pair of the protocol."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
    return [t for s in samples for t in s["targets"] if protocol == "all" or t not in s["context_items"]]


def transfer_coverage(train_catalog, test_catalog, test_samples: Sequence[dict], protocol: str = "fresh",
                      train_dialogues: Sequence[dict] | None = None, cf_min_count: int = 2,
                      same_dataset: bool = False) -> dict:
    """Shares of test pairs whose target is in the training catalogue (and has a CF vector); see the module doc.

    ``same_dataset`` matches by item id (within-dataset cells, where coverage is 1 by construction).
    """
    train, test = _items(train_catalog), _items(test_catalog)
    if same_dataset:
        index = {it["item_id"]: n for n, it in enumerate(train)}
        matches = [(index.get(it["item_id"], -1), "id" if it["item_id"] in index else "none") for it in test]
    else:
        matches = match_items(train, test)
    by_id = {it["item_id"]: m for it, m in zip(test, matches, strict=True)}
    pairs = target_pairs(test_samples, protocol)
    missing = sorted({t for t in pairs if t not in by_id})
    if missing:
        raise KeyError(f"test targets outside the test catalogue: {missing[:5]}")
    found = [by_id[t] for t in pairs]
    out = {"protocol": protocol, "pairs": len(pairs), "in_train_catalog": sum(n >= 0 for n, _ in found),
           "match_types": dict(sorted(Counter(how for n, how in found if n >= 0).items())),
           # catalogue overlap: test-catalogue items that have a training-catalogue match
           "catalog_overlap": sum(n >= 0 for n, _ in matches), "test_catalog_size": len(test),
           "train_catalog_size": len(train)}
    out["in_train_catalog_share"] = out["in_train_catalog"] / len(pairs) if pairs else None
    if train_dialogues is not None:
        mentions = Counter(i for d in train_dialogues for t in d["turns"] for i in t["items"])
        cf = sum(n >= 0 and mentions[train[n]["item_id"]] >= cf_min_count for n, _ in found)
        out.update(with_cf_vector=cf, with_cf_vector_share=cf / len(pairs) if pairs else None,
                   cf_min_count=cf_min_count)
    return out


def coverage_rows(processed_dirs: Sequence[str | Path], split: str = "test") -> list[list]:
    """One row per ordered pair (train dataset -> test dataset, protocol) of processed dataset folders."""
    from benchmark.io import read_jsonl

    data = {Path(d).name: Path(d) for d in processed_dirs}
    rows = []
    for a, da in data.items():
        cat_a, dia_a = read_jsonl(da / "catalog.jsonl"), read_jsonl(da / "train.dialogues.jsonl")
        for b, db in data.items():
            if a == b:
                continue
            cat_b, samples = read_jsonl(db / "catalog.jsonl"), read_jsonl(db / f"{split}.samples.jsonl")
            for protocol in PROTOCOLS:
                c = transfer_coverage(cat_a, cat_b, samples, protocol, train_dialogues=dia_a)
                rows.append([f"{a} -> {b}", protocol, c["pairs"], c["in_train_catalog_share"],
                             c["with_cf_vector_share"], ", ".join(f"{k} {v}" for k, v in c["match_types"].items())])
    return rows
