"""Graded comparison of freshly produced metrics with the committed reference, cell by cell.

    python -m benchmark compare-reference --metrics results/tables/{metrics,usersim}_long.tsv \\
        --reference results/reference/{metrics,usersim}_long.tsv --tol 1e-9 \\
        --exact random,popularity,repeat-context,repeat-context-only,bm25,usersim:trivial-popular

One line per (system, cell, seed, protocol, metric), in the style of pyserini's reproduction checks:

* ``OK``: within ``--tol`` (1e-9) of the reference;
* ``OKish``: a system that trains or runs a model (every system not named in ``--exact``) is off by more than
  ``--tol`` but within its band (below); expected on other hardware, never on the reference machine;
* ``FAIL``: off by more than the band (for ``--exact`` systems, more than ``--tol``: they are deterministic);
* ``NOT RUN``: in the reference but not produced by this run (a partial run; a failure only with
  ``--require-all``); ``NEW``: produced but not in the reference (not checked).

Band of a model cell = ``factor`` (3) x a measured spread, the first that exists:
1. the standard deviation over the reference's seeds of that very cell (the seed sweep);
2. the largest such deviation of the same system, protocol and metric on any other cell;
3. half the width of the cell's 95% dialogue-level bootstrap interval.
So the bands come from measured spread (seeds, or the data's own sampling error), never from a guess: INSPIRED
dualview moved fresh R@10 by 0.027 between an AVX2 and an AVX-512 host, which is about one bootstrap half-width.
The exit status is 1 if any cell FAILs (or, with ``--require-all``, was not run).
"""

from __future__ import annotations

import math
import os
import statistics
from collections import defaultdict

from benchmark.errors import BenchmarkError
from benchmark.report.aggregate import read_long

KEY = ("system", "train_dataset", "test_dataset", "split", "seed", "protocol", "metric")
FACTOR = 3.0


def spread_bands(reference: list[dict], factor: float = FACTOR) -> dict[tuple, tuple[float, str]]:
    """{key without seed: (band, how it was measured)} for every reference cell (see the module docstring)."""
    by_cell = defaultdict(list)
    for r in reference:
        by_cell[tuple(r[k] for k in KEY if k != "seed")].append(r)
    cell_sd = {c: statistics.stdev(x["value"] for x in rows) for c, rows in by_cell.items() if len(rows) >= 2}
    system_sd: dict[tuple, float] = {}
    for (system, _, _, _, protocol, metric), sd in cell_sd.items():
        k = (system, protocol, metric)
        system_sd[k] = max(system_sd.get(k, 0.0), sd)
    bands = {}
    for c, rows in by_cell.items():
        system, _, _, _, protocol, metric = c
        if c in cell_sd:
            bands[c] = (factor * cell_sd[c], f"{factor:g} x sd over {len(rows)} seeds")
        elif (system, protocol, metric) in system_sd:
            bands[c] = (factor * system_sd[(system, protocol, metric)], f"{factor:g} x the system's largest seed sd")
        else:
            half = statistics.fmean((x["ci_high"] - x["ci_low"]) / 2 for x in rows)
            bands[c] = ((factor * half, f"{factor:g} x bootstrap half-width") if not math.isnan(half)
                        else (0.0, "no measured spread"))
    return bands


def compare(metrics: str | os.PathLike, reference: str | os.PathLike, tol: float = 1e-9,
            exact: set[str] | None = None, require_all: bool = False, factor: float = FACTOR) -> list[dict]:
    """Graded rows (``status`` in OK, OKish, FAIL, NOT RUN, NEW; ``ok``). ``exact``: the deterministic systems;
    ``None`` = every system is held to ``tol`` (no bands)."""
    ours = {tuple(r[k] for k in KEY): r["value"] for r in read_long(metrics)}
    ref_rows = read_long(reference)
    ref = {tuple(r[k] for k in KEY): r["value"] for r in ref_rows}
    bands = spread_bands(ref_rows, factor) if exact is not None else {}
    out = []
    for key in sorted(set(ours) | set(ref), key=str):
        if key not in ours:
            status = "MISSING" if require_all else "NOT RUN"
            out.append({"key": key, "status": status, "reference": ref[key], "ok": not require_all})
            continue
        if key not in ref:
            out.append({"key": key, "status": "NEW", "value": ours[key], "ok": True})
            continue
        diff = ours[key] - ref[key]
        row = {"key": key, "value": ours[key], "reference": ref[key], "difference": diff}
        if abs(diff) <= tol:
            out.append({**row, "status": "OK", "ok": True})
            continue
        band, how = (0.0, "deterministic") if exact is None or key[0] in exact else \
            bands[tuple(k for i, k in enumerate(key) if KEY[i] != "seed")]
        graded = abs(diff) <= band
        out.append({**row, "status": f"{'OKish' if graded else 'FAIL'} (off by {diff:+.3g}; band {band:.3g}: {how})",
                    "ok": graded})
    return out


def main(metrics: list, reference: list, tol: float = 1e-9, quiet: bool = False, exact: set[str] | None = None,
         require_all: bool = False) -> int:
    """``metrics`` and ``reference``: lists of long TSVs, compared pairwise."""
    if len(metrics) != len(reference):
        raise BenchmarkError(f"compare-reference: {len(metrics)} metrics files but {len(reference)} reference files")
    rows = [r for m, ref in zip(metrics, reference, strict=True)
            for r in compare(m, ref, tol, exact=exact, require_all=require_all)]
    for r in rows:
        if not quiet or not r["ok"]:
            print("\t".join(map(str, r["key"])) + f"\t{r['status']}")
    counts = defaultdict(int)
    for r in rows:
        counts[r["status"].split(" (")[0]] += 1
    checked = counts["OK"] + counts["OKish"] + counts["FAIL"]
    print(f"{counts['OK']}/{checked} reference cells reproduced within {tol:g}; {counts['OKish']} OKish (within "
          f"their measured band), {counts['FAIL']} FAIL; {counts['NOT RUN'] + counts['MISSING']} not run"
          + (" (required)" if require_all else "") + f"; {counts['NEW']} new")
    return 1 if any(not r["ok"] for r in rows) else 0
