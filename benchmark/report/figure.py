"""Stage ``figures``: the report's figures (matplotlib, PNG, each with a ``.tsv`` of the plotted values beside it).

    python -m benchmark figures --metrics results/metrics/*/*/*/seed*.json --systems popularity,dualview \\
        --ablation semantic-only,cf-only,no-fusion,dualview --transfer <transfer metrics JSONs> \\
        --usersim results/usersim/eval/*/*/seed0.json --out-dir results/tables/plots

* ``main_fresh_recall.png``: fresh R@10 per system (one bar per cell) with its 95% interval;
* ``ablation_fresh_recall.png``: the same for the retriever ablation (the views and the fusion);
* ``recall_at_k.png``: fresh Recall@k against k, one line per system, one panel per cell;
* ``transfer_heatmap.png``: fresh R@10 of every transfer system (rows) on every train->test cell (columns);
* ``usersim.png``: simulator attribute F1 and target hit@10 per variant with their intervals, per dataset.

Intervals are those of the tables (``tables.interval_of``: t across 3+ seeds, else the dialogue-level bootstrap);
values are means over seeds. A figure is never the only record: its TSV holds every plotted number.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.io import read_json, write_text
from benchmark.recommender.plots import save_png
from benchmark.report.tables import cell_name, collect, interval_of, metric_label


def _results(paths) -> list[dict]:
    return [read_json(p, "a metrics JSON") for p in sorted(map(str, paths))]


def _cells(results) -> list[tuple[str, str]]:
    return list(dict.fromkeys((r["train_dataset"], r["test_dataset"]) for r in results))


def figure_points(results: Sequence[dict], systems: Sequence[str], metric: str, protocol: str) -> list[tuple]:
    """[(system, cell name, mean, low, high)] in system order, then cell order of first appearance."""
    values, _, _, _ = collect(results)
    points = []
    for system in systems:
        for cell in _cells(results):
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


def _tsv(out: Path, header: str, rows) -> None:
    write_text(out.with_suffix(".tsv"), header + "\n" + "".join("\t".join(map(str, r)) + "\n" for r in rows))


def bars(results, systems, metric: str, protocol: str, out: Path) -> Path:
    import matplotlib.pyplot as plt

    points = figure_points(results, systems, metric, protocol)
    cells = list(dict.fromkeys(p[1] for p in points))
    shown = [s for s in systems if any(p[0] == s for p in points)]
    height = 0.8 / len(cells)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(shown) * max(1, len(cells) / 2) + 1))
    for j, cell in enumerate(cells):
        pts = [p for p in points if p[1] == cell]
        ys = [shown.index(p[0]) + j * height for p in pts]
        err = [[p[2] - p[3] for p in pts], [p[4] - p[2] for p in pts]]
        ax.barh(ys, [p[2] for p in pts], height=height, xerr=err, capsize=2, label=cell)
    ax.set_yticks([i + height * (len(cells) - 1) / 2 for i in range(len(shown))], shown)
    ax.invert_yaxis()
    ax.set_xlabel(f"{protocol} {metric_label(metric)} (95% interval)")
    ax.legend(fontsize=8, loc="best")
    _tsv(out, "system\tcell\tmean\tlow\thigh", [(s, c, repr(m), repr(lo), repr(hi)) for s, c, m, lo, hi in points])
    return _close(fig, out)


def recall_curves(results, systems, protocol: str, out: Path) -> Path:
    import matplotlib.pyplot as plt

    values, _, _, _ = collect(results)
    cells = _cells(results)
    fig, axes = plt.subplots(1, len(cells), figsize=(4.2 * len(cells), 3.4), squeeze=False)
    rows = []
    for ax, cell in zip(axes[0], cells, strict=True):
        for system in systems:
            runs = values.get((protocol, system, cell))
            if not runs:
                continue
            ks = sorted(int(m.split("@")[1]) for m in runs[0] if m.startswith("recall@"))
            ys = [statistics.fmean(r[f"recall@{k}"]["mean"] for r in runs) for k in ks]
            ax.plot(ks, ys, marker=".", label=system)
            rows.extend((system, cell_name(*cell), k, repr(y)) for k, y in zip(ks, ys, strict=True))
        ax.set_xscale("log")
        ax.set_title(cell_name(*cell))
        ax.set_xlabel("k")
        ax.set_ylabel(f"{protocol} Recall@k")
    axes[0][-1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1))
    _tsv(out, "system\tcell\tk\trecall", rows)
    return _close(fig, out)


def transfer_heatmap(results, systems, metric: str, protocol: str, out: Path) -> Path:
    import matplotlib.pyplot as plt
    import numpy as np

    values, _, _, _ = collect(results)
    cells = sorted(_cells(results), key=lambda c: (c[1], c[0] != c[1]))  # per test set: in-domain, then transfer
    shown = [s for s in systems if any((protocol, s, c) in values for c in cells)]
    grid = np.full((len(shown), len(cells)), np.nan)
    for i, s in enumerate(shown):
        for j, c in enumerate(cells):
            if runs := values.get((protocol, s, c)):
                grid[i, j] = statistics.fmean(r[metric]["mean"] for r in runs)
    fig, ax = plt.subplots(figsize=(1.6 * len(cells) + 2.5, 0.45 * len(shown) + 1.5))
    im = ax.imshow(grid, cmap="viridis", aspect="auto")
    for i in range(len(shown)):
        for j in range(len(cells)):
            if not np.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center", fontsize=7,
                        color="white" if grid[i, j] < np.nanmax(grid) * 0.6 else "black")
    ax.set_xticks(range(len(cells)), [cell_name(*c) for c in cells], rotation=20, ha="right", fontsize=8)
    ax.set_yticks(range(len(shown)), shown, fontsize=8)
    fig.colorbar(im, ax=ax, label=f"{protocol} {metric_label(metric)}")
    _tsv(out, "system\tcell\tvalue", [(s, cell_name(*c), repr(grid[i, j])) for i, s in enumerate(shown)
                                      for j, c in enumerate(cells) if not np.isnan(grid[i, j])])
    return _close(fig, out)


def usersim_bars(paths, out: Path, keys=("attribute_f1", "target_hit@10")) -> Path:
    import matplotlib.pyplot as plt

    from benchmark.report.usersim_table import ORDER

    runs = [read_json(p, "a simulator evaluation JSON") for p in sorted(map(str, paths))]
    datasets = sorted({r["dataset"] for r in runs})
    fig, axes = plt.subplots(len(datasets), len(keys), figsize=(4.2 * len(keys), 2.6 * len(datasets)), squeeze=False)
    rows = []
    for i, dataset in enumerate(datasets):
        mine = sorted((r for r in runs if r["dataset"] == dataset and r["seed"] == min(x["seed"] for x in runs)),
                      key=lambda r: ORDER.index(r["variant"]) if r["variant"] in ORDER else 9)
        for ax, key in zip(axes[i], keys, strict=True):
            pts = [(r["variant"], r["metrics"][key], r.get("intervals", {}).get(key)) for r in mine
                   if r["metrics"].get(key) is not None]
            err = [[v - (ci["low"] if ci else v) for _, v, ci in pts],
                   [(ci["high"] if ci else v) - v for _, v, ci in pts]]
            ax.barh(range(len(pts)), [v for _, v, _ in pts], xerr=err, capsize=2, color="tab:green")
            ax.set_yticks(range(len(pts)), [n for n, _, _ in pts], fontsize=8)
            ax.invert_yaxis()
            ax.set_title(f"{dataset}: {key}", fontsize=9)
            rows.extend((dataset, n, key, repr(v)) for n, v, _ in pts)
    _tsv(out, "dataset\tvariant\tmetric\tvalue", rows)
    return _close(fig, out)


def _close(fig, out: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = save_png(fig, out)
    plt.close(fig)
    return path


def write_figures(out_dir: str | os.PathLike, metrics=(), systems=(), ablation=(), transfer=(), transfer_systems=(),
                  usersim=(), metric: str = "recall@10", protocol: str = "fresh") -> list[Path]:
    """Every figure whose inputs are given; returns the PNG paths."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a cluster node or CI
    out_dir = Path(out_dir)
    paths = []
    if metrics:
        results = _results(metrics)
        paths.append(bars(results, systems, metric, protocol, out_dir / "main_fresh_recall.png"))
        paths.append(recall_curves(results, systems, protocol, out_dir / "recall_at_k.png"))
        if ablation:
            paths.append(bars(results, ablation, metric, protocol, out_dir / "ablation_fresh_recall.png"))
    if transfer:
        paths.append(transfer_heatmap(_results(transfer), transfer_systems or systems, metric, protocol,
                                      out_dir / "transfer_heatmap.png"))
    if usersim:
        paths.append(usersim_bars(usersim, out_dir / "usersim.png"))
    if not paths:
        raise BenchmarkError("figures: nothing to plot (give --metrics, --transfer and/or --usersim)")
    return paths
