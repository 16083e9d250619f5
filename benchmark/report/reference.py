"""Compare freshly produced metrics with the committed reference metrics, cell by cell.

    python -m benchmark compare-reference --metrics results/tables/{metrics,usersim}_long.tsv \\
        --reference results/reference/{metrics,usersim}_long.tsv --tol 1e-9

Prints one line per (system, cell, seed, protocol, metric): ``OK``, ``OFF by <diff>``, ``MISSING`` (in the
reference but not produced) or ``NEW`` (produced, not in the reference: fine, but not checked). Tolerances:
the sanity baselines are deterministic given the seed, so the default is 1e-9 absolute; a system with
nondeterministic kernels (e.g. GPU training) states its own tolerance in results/reference/README.md.
"""

from __future__ import annotations

import os

from benchmark.errors import BenchmarkError
from benchmark.report.aggregate import read_long

KEY = ("system", "train_dataset", "test_dataset", "split", "seed", "protocol", "metric")


def compare(metrics: str | os.PathLike, reference: str | os.PathLike, tol: float = 1e-9,
            tolerances: dict[str, float] | None = None) -> list[dict]:
    ours = {tuple(r[k] for k in KEY): r["value"] for r in read_long(metrics)}
    ref = {tuple(r[k] for k in KEY): r["value"] for r in read_long(reference)}
    out = []
    for key in sorted(set(ours) | set(ref), key=str):
        t = (tolerances or {}).get(key[0], tol)
        if key not in ours:
            out.append({"key": key, "status": "MISSING", "reference": ref[key], "ok": False})
        elif key not in ref:
            out.append({"key": key, "status": "NEW", "value": ours[key], "ok": True})
        else:
            diff = ours[key] - ref[key]
            ok = abs(diff) <= t
            out.append({"key": key, "status": "OK" if ok else f"OFF by {diff:+.3g}", "value": ours[key],
                        "reference": ref[key], "ok": ok})
    return out


def main(metrics: list, reference: list, tol: float = 1e-9, quiet: bool = False) -> int:
    """``metrics`` and ``reference``: lists of long TSVs, compared pairwise."""
    if len(metrics) != len(reference):
        raise BenchmarkError(f"compare-reference: {len(metrics)} metrics files but {len(reference)} reference files")
    rows = [r for m, ref in zip(metrics, reference, strict=True) for r in compare(m, ref, tol)]
    for r in rows:
        if not quiet or not r["ok"]:
            print("\t".join(map(str, r["key"])) + f"\t{r['status']}")
    bad = [r for r in rows if not r["ok"]]
    checked = sum(r["status"] != "NEW" for r in rows)
    print(f"{checked - len(bad)}/{checked} reference cells reproduced within {tol:g}"
          + (f"; {len(bad)} off or missing" if bad else ""))
    return 1 if bad else 0
