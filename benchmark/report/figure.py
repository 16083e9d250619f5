"""Stage ``figure``: the main table as a picture: one metric per system and cell, with its 95% interval.

    python -m benchmark figure results/metrics/*/*/*/seed0.json --systems popularity,dualview \\
        --metric recall@10 --protocol fresh --out results/tables/plots/main_fresh_recall.png

Horizontal bars (one group per system, one bar per (train, test) cell) at the mean over seeds, with the same
interval as the tables (``tables.interval_of``: t across 3+ seeds, else the dialogue-level bootstrap). The plotted
values are also written beside the figure as ``<out>.tsv``, so a figure is never the only record.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.io import read_json, write_text
from benchmark.recommender.plots import _save
from benchmark.report.tables import cell_name, collect, interval_of, metric_label


def figure_points(results: Sequence[dict], systems: Sequence[str], metric: str, protocol: str) -> list[tuple]:
    """[(system, cell name, mean, low, high)] in system order, then cell order of first appearance."""
    values, _, _, _ = collect(results)
    cells = list(dict.fromkeys((r["train_dataset"], r["test_dataset"]) for r in results))
    points = []
    for system in systems:
        for cell in cells:
            runs = values.get((protocol, system, cell))
            if not runs or metric not in runs[0]:
                continue
            series = [r[metric] for r in runs]
            mean = statistics.fmean(s["mean"] for s in series)
            ci = interval_of(series)
            points.append((system, cell_name(*cell), mean, ci[0] if ci else mean, ci[1] if ci else mean))
    if not points:
        raise BenchmarkError(f"figure: no {protocol} {metric} for systems {list(systems)} in the metrics given")
    return points


def write_figure(metrics_paths: Sequence[str | os.PathLike], systems: Sequence[str], metric: str, protocol: str,
                 out: str | os.PathLike) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = [read_json(p, "a metrics JSON") for p in sorted(map(str, metrics_paths))]
    points = figure_points(results, systems, metric, protocol)
    cells = list(dict.fromkeys(p[1] for p in points))
    shown = [s for s in systems if any(p[0] == s for p in points)]
    height = 0.8 / len(cells)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(shown) * max(1, len(cells) / 2) + 1))
    for j, cell in enumerate(cells):
        pts = [p for p in points if p[1] == cell]
        ys = [shown.index(p[0]) + j * height for p in pts]
        means = [p[2] for p in pts]
        err = [[p[2] - p[3] for p in pts], [p[4] - p[2] for p in pts]]
        ax.barh(ys, means, height=height, xerr=err, capsize=2, label=cell)
    ax.set_yticks([i + height * (len(cells) - 1) / 2 for i in range(len(shown))], shown)
    ax.invert_yaxis()
    ax.set_xlabel(f"{protocol} {metric_label(metric)} (95% interval)")
    ax.legend(fontsize=8, loc="lower right")
    out = Path(out)
    write_text(out.with_suffix(".tsv"), "system\tcell\tmean\tlow\thigh\n"
               + "".join(f"{s}\t{c}\t{m!r}\t{lo!r}\t{hi!r}\n" for s, c, m, lo, hi in points))
    path = _save(fig, out)
    plt.close(fig)
    return path
