"""Collect metrics JSONs into one long TSV (one row per system x cell x seed x protocol x metric).

    python -m benchmark aggregate results/metrics/*/*/*/seed*.json --out results/tables/metrics_long.tsv

Columns: system, train_dataset, test_dataset, split, seed, protocol, metric, value, se, samples, pairs, ci_low,
ci_high (the 95% dialogue-level bootstrap interval; ``nan`` for metrics written before intervals existed).
Values are unrounded (``repr`` of the float), so the TSV can be compared with a reference to any tolerance.
``read_long`` also reads TSVs in the older 11-column layout (committed references), with NaN intervals.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable
from pathlib import Path

from benchmark.errors import InputError
from benchmark.io import read_json, write_text

COLUMNS = ("system", "train_dataset", "test_dataset", "split", "seed", "protocol", "metric", "value", "se",
           "samples", "pairs", "ci_low", "ci_high")
LEGACY_COLUMNS = COLUMNS[:-2]  # before the dialogue-level intervals (issue 8.6)


def rows_from_metrics(result: dict) -> list[dict]:
    rows = []
    for protocol, block in result["protocols"].items():
        for metric, value in block["metrics"].items():
            rows.append({"system": result["system"], "train_dataset": result["train_dataset"],
                         "test_dataset": result["test_dataset"], "split": result["split"], "seed": result["seed"],
                         "protocol": protocol, "metric": metric, "value": value["mean"], "se": value["se"],
                         "samples": block["counts"]["samples"], "pairs": block["counts"]["pairs"],
                         "ci_low": value.get("ci_low", math.nan), "ci_high": value.get("ci_high", math.nan)})
    return rows


def aggregate(paths: Iterable[str | os.PathLike], out: str | os.PathLike) -> list[dict]:
    rows = []
    for path in sorted(map(str, paths)):
        result = read_json(path, "a metrics JSON written by `python -m benchmark evaluate`")
        if "protocols" not in result:
            raise InputError(path, "not a metrics JSON (no 'protocols' key)")
        rows.extend(rows_from_metrics(result))
    write_long(rows, out)
    return rows


def write_long(rows: list[dict], out: str | os.PathLike) -> None:
    """Write rows with ``COLUMNS`` as the long TSV (floats as ``repr``, i.e. unrounded), atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    for r in rows:
        row = {k: r.get(k, math.nan) for k in COLUMNS}  # rows without an interval (e.g. simulator) get nan
        writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in row.items()})
    write_text(out, buf.getvalue())


def read_long(path: str | os.PathLike) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "missing long metrics TSV (run `python -m benchmark aggregate` / `snakemake tables`)")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        if tuple(reader.fieldnames or ()) not in (COLUMNS, LEGACY_COLUMNS):
            raise InputError(path, f"expected columns {COLUMNS}, got {reader.fieldnames}", line=1)
        rows = []
        for lineno, r in enumerate(reader, start=2):
            try:
                rows.append({**r, "seed": int(r["seed"]), "value": float(r["value"]), "se": float(r["se"]),
                             "samples": int(r["samples"]), "pairs": int(r["pairs"]),
                             "ci_low": float(r.get("ci_low", "nan")), "ci_high": float(r.get("ci_high", "nan"))})
            except (TypeError, ValueError) as e:
                raise InputError(path, f"bad value: {e}", line=lineno) from None
    return rows
