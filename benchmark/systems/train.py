"""Stage ``train-system``: train a registered system that has a training stage, once per (dataset, seed).

    python -m benchmark train-system sasrec --train results/processed/redial --seed 0 \\
        --params '{}' --out results/models/sasrec/redial/seed0

A trainable system implements, beside the System protocol, ``save(out)`` (its weights, atomically) and
``train_info()`` (best epoch, valid scores, ...), and accepts ``model=<directory>`` to load instead of train in
``fit``. This stage does what ``predict`` would do before ranking (seed everything, construct, ``fit``), so a model
trained here ranks exactly like one trained inside ``predict``; it then writes the weights and ``meta.json``
(parameters, wall seconds, peak RSS, provenance). Snakemake rules ``train_sasrec`` and ``train_kbrd`` call it, and
``predict`` loads the directory through the config's ``uses: trained/<name>``.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

from benchmark.data.bundle import DatasetBundle
from benchmark.errors import BenchmarkError
from benchmark.io import write_json
from benchmark.provenance import provenance
from benchmark.seeding import seed_everything
from benchmark.systems import SYSTEMS


def train_system(system_name: str, train_dir: str | os.PathLike, out: str | os.PathLike, seed: int = 0,
                 params: dict | None = None) -> dict:
    cls = SYSTEMS.get(system_name)
    if not callable(getattr(cls, "save", None)):
        raise BenchmarkError(f"system {system_name!r} ({SYSTEMS.target(system_name)}) has no training stage "
                             "(no save()); it is fit inside `predict`")
    params = dict(params or {})
    if params.get("model"):
        raise BenchmarkError(f"train-system {system_name}: params must not name a trained `model` "
                             f"(got {params['model']!r}); that is what this stage writes")
    seed_everything(seed)
    started = time.time()
    system = cls(**params)
    train = DatasetBundle(train_dir)
    system.fit(train, seed=seed)
    train_seconds = time.time() - started
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    system.save(out)
    meta = {
        "system": system_name, "params": params, "dataset": train.name, "seed": seed,
        "train_seconds": train_seconds,
        # ru_maxrss is KiB on Linux: peak of the whole process (data loading + training)
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        # CPU seconds of this process: on a shared machine wall time also counts other jobs' load
        "cpu_seconds": (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(resource.RUSAGE_SELF)),
        **system.train_info(),
        "provenance": provenance(inputs={"train_catalog": train.dir / "catalog.jsonl",
                                         "train_samples": train.dir / "train.samples.jsonl",
                                         "valid_samples": train.dir / "valid.samples.jsonl"}, seed=seed),
    }
    write_json(out / "meta.json", meta)
    return meta
