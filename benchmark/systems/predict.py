"""Stage ``predict``: fit a registered system on a training dataset and write predictions for a test split.

    python -m benchmark predict popularity --train results/processed/redial --test results/processed/redial \\
        --split test --seed 0 --out results/predictions/popularity/redial/redial/seed0.jsonl

Writes the predictions file (the public format of ``benchmark.eval.predictions``) and, beside it,
``<name>.meta.json`` with the system parameters, ``exclude_context`` and the sha256 of the training inputs.

``exclude_context`` (``--exclude-context``; config ``systems.<name>.exclude_context``) is applied here, the same
way for every system: the system is asked for ``k`` plus the most context items of any sample in the batch, the
items already mentioned in the sample's context are dropped, and the list is cut to ``k``. Such items can never
score under the ``fresh`` protocol (ReDial: they fill 10-13% of the retrieval systems' top-10 slots), while under
``all`` they can; the choice is therefore recorded in the meta file and shown in the protocol card.
"""

from __future__ import annotations

import os
from pathlib import Path

from tqdm import tqdm

from benchmark.data.bundle import DatasetBundle
from benchmark.eval.predictions import write_predictions
from benchmark.io import write_json
from benchmark.provenance import provenance
from benchmark.seeding import seed_everything
from benchmark.systems import SYSTEMS


def drop_context(ranked: list[str], sample: dict, k: int) -> list[str]:
    """``ranked`` without the items mentioned in ``sample``'s context, cut to ``k``."""
    seen = set(sample["context_items"])
    return [i for i in ranked if i not in seen][:k]


def predict(system_name: str, train_dir: str | os.PathLike, test_dir: str | os.PathLike, split: str,
            out: str | os.PathLike, seed: int = 0, k: int = 50, params: dict | None = None,
            batch_size: int = 256, progress: bool = True, exclude_context: bool = False,
            subset: str | os.PathLike | None = None) -> int:
    """``subset``: a committed ids file (``benchmark.recommender.subset``); only those samples are predicted."""
    cls = SYSTEMS.get(system_name)
    seed_everything(seed)
    system = cls(**(params or {}))
    train, test = DatasetBundle(train_dir), DatasetBundle(test_dir)
    system.fit(train, seed=seed)
    samples = test.samples(split)
    if subset:
        from benchmark.recommender.subset import restrict

        samples = restrict(samples, subset)
    rows = []
    for start in tqdm(range(0, len(samples), batch_size), desc=f"{system_name} {train.name}->{test.name}",
                      unit="batch", disable=not progress):
        batch = samples[start:start + batch_size]
        more = max((len(set(s["context_items"])) for s in batch), default=0) if exclude_context else 0
        ranked_lists = system.recommend(batch, test.catalog, k + more)
        details = getattr(system, "last_details", None) or [{}] * len(batch)  # raw_text, parse_status (LLMs)
        for s, ranked, extra in zip(batch, ranked_lists, details, strict=True):
            ranked = drop_context(ranked, s, k) if exclude_context else ranked
            rows.append({"sample_id": s["sample_id"], "ranked_items": ranked, **extra})
    out = Path(out)
    write_json(out.with_suffix(".meta.json"), {
        "system": system_name, "params": params or {}, "train_dataset": train.name, "test_dataset": test.name,
        "split": split, "k": k, "exclude_context": exclude_context, "train_notes": train.stats.get("notes", []),
        "subset": _subset_info(subset),  # null: the whole split
        "recipe": getattr(system, "recipe", None),  # a trained model's recipe (metrics provenance), else null
        "provenance": provenance(inputs={"train_catalog": train.dir / "catalog.jsonl",
                                         "train_dialogues": train.dir / "train.dialogues.jsonl",
                                         "test_samples": test.dir / f"{split}.samples.jsonl"}, seed=seed),
    })
    return write_predictions(out, rows)


def _subset_info(path) -> dict | None:
    from benchmark.recommender.subset import subset_info

    return subset_info(path) if path else None
