"""Recommender plots (matplotlib, written next to the tables): reward curves of GRPO and Recall@10 against T.

    python -m benchmark plots --grpo results/models/recommender/grpo/*/redial/seed0/meta.json \\
        --turns 1=results/metrics/smtpo-t1/redial/redial/test-subset/seed0.json \\
                2=results/metrics/smtpo/redial/redial/test-subset/seed0.json \\
                3=results/metrics/smtpo-t3/redial/redial/test-subset/seed0.json \\
        --out-dir results/tables/plots

* ``grpo_rewards.png``: one panel per reward component (format, recommend, preference) and one for the weighted
  total, each against the GRPO step, one line per run. The values are TRL's per-step means
  (``rewards/<name>/mean``, ``reward``) that ``grpo.py`` copies from the trainer's log history into its meta.json
  as ``reward_log``; the components are unweighted, the total is weighted by the recipe's ``reward_weights``.
  ``--grpo`` also takes a ``grpo_rewards.tsv`` written before (e.g. the reference's), so a figure can be redrawn
  with runs whose models are gone; a meta.json wins over a TSV row of the same run.
* ``turns.png``: ``--metric`` (default fresh Recall@10) of one system evaluated with T = 1, 2, 3 inference turns,
  one line per (train, test) cell, with its 95% dialogue-level bootstrap interval as error bars.

Both figures are also written as a TSV of the plotted values (``*.tsv``) so a plot is never the only record.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.io import atomic_path, read_json, write_text

COMPONENTS = ("format", "recommend", "preference")
REWARD_COLUMNS = ("run", "component", "step", "reward")  # grpo_rewards.tsv: written by plot_rewards, read back here


def run_label(meta_path: str | os.PathLike) -> str:
    """``<variant>/<dataset>/seed<N>`` from ``.../grpo/<variant>/<dataset>/seed<N>/meta.json`` (else the folder)."""
    parts = Path(meta_path).parent.parts
    return "/".join(parts[-3:]) if len(parts) >= 3 else str(Path(meta_path).parent)


def reward_curves(meta: dict, where: str) -> dict[str, list[tuple[int, float]]]:
    """{component or "total": [(step, mean reward)]} from a GRPO meta.json's ``reward_log``."""
    log = meta.get("reward_log")
    if not log:
        raise BenchmarkError(f"{where}: no reward_log (not a meta.json written by train-recommender-grpo, or a run "
                             "with no logged step)")
    curves: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row in log:
        for name in COMPONENTS:
            if f"rewards/{name}/mean" in row:
                curves[name].append((int(row["step"]), float(row[f"rewards/{name}/mean"])))
        if "reward" in row:
            curves["total"].append((int(row["step"]), float(row["reward"])))
    return dict(curves)


def tsv_reward_curves(path: str | os.PathLike) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """{run: {component: [(step, reward)]}} read back from a ``grpo_rewards.tsv`` this module wrote."""
    runs: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    lines = Path(path).read_text().splitlines()
    if not lines or tuple(lines[0].split("\t")) != REWARD_COLUMNS:
        raise BenchmarkError(f"{path}: expected the header {'<TAB>'.join(REWARD_COLUMNS)!r} of a "
                             "grpo_rewards.tsv written by `python -m benchmark plots`")
    for n, line in enumerate(lines[1:], start=2):
        try:
            run, component, step, reward = line.split("\t")
            runs[run][component].append((int(step), float(reward)))
        except ValueError:
            raise BenchmarkError(f"{path}, line {n}: expected run, component, integer step, reward; "
                                 f"got {line!r}") from None
    return {r: dict(c) for r, c in runs.items()}


def turn_points(specs: Sequence[str], metric: str, protocol: str) -> dict[str, list[tuple[int, float, float, float]]]:
    """{cell: [(T, value, ci_low, ci_high)]} from ``T=metrics.json`` specs, sorted by T."""
    points: dict[str, list] = defaultdict(list)
    for spec in specs:
        turns, sep, path = spec.partition("=")
        if not sep or not turns.isdigit():
            raise BenchmarkError(f"--turns {spec!r}: expected T=<metrics JSON>, e.g. 2=results/metrics/.../seed0.json")
        r = read_json(path, "a metrics JSON written by `python -m benchmark evaluate`")
        block = r["protocols"].get(protocol)
        if block is None or metric not in block["metrics"]:
            raise BenchmarkError(f"{path}: no {protocol} {metric}")
        m = block["metrics"][metric]
        cell = f"{r['train_dataset']}->{r['test_dataset']} ({r['split']})"
        points[cell].append((int(turns), m["mean"], m.get("ci_low", m["mean"]), m.get("ci_high", m["mean"])))
    return {c: sorted(v) for c, v in points.items()}


def save_png(fig, path: Path) -> Path:
    """Write a matplotlib figure atomically as PNG, without a version stamp (same figure, same bytes)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight", metadata={"Software": None})  # no version stamp
    return path


def plot_rewards(metas: Sequence[str], out: Path) -> Path:
    import matplotlib.pyplot as plt

    runs = {}
    for p in (p for p in metas if str(p).endswith(".tsv")):  # stored runs first: a meta.json of the same run wins
        runs.update(tsv_reward_curves(p))
    runs.update({run_label(p): reward_curves(read_json(p, "a GRPO meta.json"), p)
                 for p in metas if not str(p).endswith(".tsv")})
    panels = [c for c in (*COMPONENTS, "total") if any(c in r for r in runs.values())]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2), squeeze=False)
    rows = ["\t".join(REWARD_COLUMNS)]
    for ax, name in zip(axes[0], panels, strict=True):
        for label, curves in runs.items():
            if name in curves:
                steps, values = zip(*curves[name], strict=True)
                ax.plot(steps, values, marker=".", label=label)
                rows.extend(f"{label}\t{name}\t{s}\t{v!r}" for s, v in curves[name])
        ax.set_title(name if name != "total" else "weighted total")
        ax.set_xlabel("GRPO step")
        ax.set_ylabel("mean reward")
    axes[0][0].legend(fontsize=7)
    write_text(out.with_suffix(".tsv"), "\n".join(rows) + "\n")
    path = save_png(fig, out)
    plt.close(fig)
    return path


def plot_turns(specs: Sequence[str], out: Path, metric: str, protocol: str) -> Path:
    import matplotlib.pyplot as plt

    points = turn_points(specs, metric, protocol)
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    rows = ["cell\tturns\tvalue\tci_low\tci_high"]
    for cell, pts in points.items():
        t, v, lo, hi = zip(*pts, strict=True)
        below = [a - b for a, b in zip(v, lo, strict=True)]
        above = [b - a for a, b in zip(v, hi, strict=True)]
        ax.errorbar(t, v, yerr=[below, above], marker="o", capsize=3, label=cell)
        rows.extend(f"{cell}\t{p[0]}\t{p[1]!r}\t{p[2]!r}\t{p[3]!r}" for p in pts)
    ax.set_xticks(sorted({p[0] for pts in points.values() for p in pts}))
    ax.set_xlabel("inference turns T")
    ax.set_ylabel(f"{protocol} {metric}")
    ax.legend(fontsize=7)
    write_text(out.with_suffix(".tsv"), "\n".join(rows) + "\n")
    path = save_png(fig, out)
    plt.close(fig)
    return path


def main(grpo: Sequence[str], turns: Sequence[str], out_dir: str | os.PathLike, metric: str = "recall@10",
         protocol: str = "fresh") -> list[Path]:
    """Write the figures whose inputs are given (both, normally); returns their paths."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a cluster node or CI
    out_dir = Path(out_dir)
    paths = []
    if grpo:
        paths.append(plot_rewards(grpo, out_dir / "grpo_rewards.png"))
    if turns:
        paths.append(plot_turns(turns, out_dir / "turns.png", metric, protocol))
    if not paths:
        raise BenchmarkError("plots: nothing to plot (give --grpo meta.json files and/or --turns T=metrics.json)")
    return paths
