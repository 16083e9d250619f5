"""Stage ``predict``: fit a registered system on a training dataset and write predictions for a test split.

    python -m benchmark predict popularity --train results/processed/redial --test results/processed/redial \\
        --split test --seed 0 --out results/predictions/popularity/redial/redial/seed0.jsonl

Writes the predictions file (the public format of ``benchmark.eval.predictions``) and, beside it,
``<name>.meta.json`` with the system parameters and the sha256 of the training inputs.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmark.eval.predictions import write_predictions
from benchmark.io import write_json
from benchmark.provenance import provenance
from benchmark.systems import SYSTEMS
from benchmark.systems.base import DatasetBundle


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def predict(system_name: str, train_dir: str | os.PathLike, test_dir: str | os.PathLike, split: str,
            out: str | os.PathLike, seed: int = 0, k: int = 50, params: dict | None = None,
            batch_size: int = 256, progress: bool = True) -> int:
    cls = SYSTEMS.get(system_name)
    seed_everything(seed)
    system = cls(**(params or {}))
    train, test = DatasetBundle(train_dir), DatasetBundle(test_dir)
    system.fit(train, seed=seed)
    samples = test.samples(split)
    rows = []
    for start in tqdm(range(0, len(samples), batch_size), desc=f"{system_name} {train.name}->{test.name}",
                      unit="batch", disable=not progress):
        batch = samples[start:start + batch_size]
        for s, ranked in zip(batch, system.recommend(batch, test.catalog, k), strict=True):
            rows.append({"sample_id": s["sample_id"], "ranked_items": ranked})
    out = Path(out)
    write_json(out.with_suffix(".meta.json"), {
        "system": system_name, "params": params or {}, "train_dataset": train.name, "test_dataset": test.name,
        "split": split, "k": k, "train_notes": train.stats.get("notes", []),
        "provenance": provenance(inputs={"train_catalog": train.dir / "catalog.jsonl",
                                         "train_dialogues": train.dir / "train.dialogues.jsonl",
                                         "test_samples": test.dir / f"{split}.samples.jsonl"}, seed=seed),
    })
    return write_predictions(out, rows)
