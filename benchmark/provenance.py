"""Provenance block embedded in every metrics JSON and model meta.json (no timestamps in file names)."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform
import subprocess
from pathlib import Path
from typing import Any

from benchmark.io import sha256_file

# Packages whose versions can change a number in a table.
TRACKED_PACKAGES = ("smtpo-benchmark", "numpy", "torch", "transformers", "trl", "peft", "sentence-transformers",
                    "datasets", "bm25s", "snakemake", "tabulate")


def git_revision(root: str | Path | None = None) -> str:
    root = Path(root or Path(__file__).resolve().parent.parent)
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def package_versions() -> dict[str, str]:
    out = {}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def device() -> str:
    """``cuda:<GPU name>`` or ``cpu:<machine>:<torch CPU capability>`` (see ``benchmark.device.describe``)."""
    from benchmark.device import describe

    return describe()


def provenance(inputs: dict[str, str | Path] | None = None, config: Any = None, seed: int | None = None,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything needed to tell two result files apart: code, packages, inputs (sha256), config, seed."""
    block: dict[str, Any] = {
        "git": git_revision(),
        "python": platform.python_version(),
        "packages": package_versions(),
        "device": device(),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": seed,
        "config": config,
        "inputs": {name: {"path": str(p), "sha256": sha256_file(p)} for name, p in (inputs or {}).items()},
    }
    block["threads"] = threads()
    if extra:
        block.update(extra)
    return block


def threads() -> dict[str, Any]:
    """torch's intra-op thread count and the thread variables of the environment: bf16 greedy generation on the CPU
    gave different answers for 4 of 16 prompts on one thread against two (docs/recommender.md, "A reproducibility
    defect, pinned"), so a result file says how many threads made it (None: torch is not imported by this stage).

    >>> sorted(threads())
    ['MKL_NUM_THREADS', 'OMP_NUM_THREADS', 'torch']
    """
    import os
    import sys

    torch = sys.modules.get("torch")  # never import torch only to record this
    return {"torch": torch.get_num_threads() if torch is not None else None,
            **{k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
