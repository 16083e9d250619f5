"""Save and load a trained baseline's weights with the catalogue they index (``model.pt`` in its model folder).

    save_checkpoint(out, model, catalog, hp=hp)             # + any other picklable fields
    state = load_checkpoint(directory, train, "kbrd")      # error if trained on another catalogue

Scores are per training-catalogue position, so a checkpoint is only valid with the exact item list it was trained
on; loading it beside another processed dataset (or a reprocessed one whose twins merged differently) is an error
that names both, never a silent misalignment.
"""

from __future__ import annotations

from pathlib import Path

import torch

from benchmark.data.bundle import Catalog, DatasetBundle
from benchmark.errors import BenchmarkError
from benchmark.io import atomic_path

MODEL_FILE = "model.pt"


def save_checkpoint(out: str | Path, model: torch.nn.Module, catalog: Catalog, **fields) -> Path:
    state = {"model": {k: v.cpu() for k, v in model.state_dict().items()}, "item_ids": catalog.ids,
             "dataset": catalog.dataset, **fields}
    path = Path(out) / MODEL_FILE
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def load_checkpoint(directory: str | Path, train: DatasetBundle, name: str) -> dict:
    """The saved state (weights on the CPU), checked against the training catalogue ``train``."""
    path = Path(directory) / MODEL_FILE
    if not path.is_file():
        raise BenchmarkError(f"{path}: no {name} checkpoint (run its training rule: train_{name})")
    state = torch.load(path, map_location="cpu")
    if state["dataset"] != train.name or state["item_ids"] != train.catalog.ids:
        raise BenchmarkError(f"{name} model {directory} was trained on {state['dataset']!r} "
                             f"({len(state['item_ids'])} items), not on {train.dir} ({len(train.catalog)} items)")
    return state
