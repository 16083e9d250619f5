"""Render the main results table (systems x cells x metrics, one table per protocol) in Markdown and LaTeX.

    python -m benchmark tables --metrics results/metrics --out-dir results/tables

Every table is followed by its protocol card (sample unit, variant, k, catalogue size, sample and pair counts,
seeds) and the dataset caveats, so a number is never read without the protocol that produced it. Values are
means over seeds; with several seeds the standard deviation over seeds follows in parentheses.
"""

from __future__ import annotations

import os
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from tabulate import tabulate

from benchmark.io import read_json, write_text

DATASET_NAMES = {"redial": "ReDial", "inspired": "INSPIRED"}
METRIC_NAMES = {"recall": "R", "ndcg": "N", "mrr": "MRR"}
LATEX = {"†": r"$^\dagger$", "→": r"$\rightarrow$", "–": "--"}  # after tabulate's escaping


def cell_name(train: str, test: str) -> str:
    if train == test:
        return DATASET_NAMES.get(test, test)
    return f"{DATASET_NAMES.get(train, train)}→{DATASET_NAMES.get(test, test)}"


def metric_label(metric: str) -> str:
    name, k = metric.split("@")
    return f"{METRIC_NAMES.get(name, name)}@{k}"


def collect(results: Sequence[dict]):
    """Group metrics JSONs: {(protocol, system, cell): [value dicts per seed]} plus cards and notes per cell."""
    values = defaultdict(list)
    cards, notes, seeds = {}, {}, defaultdict(set)
    for r in results:
        cell = (r["train_dataset"], r["test_dataset"])
        seeds[cell].add(r["seed"])
        notes.setdefault(cell, set()).update(r.get("notes", []))
        for protocol, block in r["protocols"].items():
            values[(protocol, r["system"], cell)].append(block["metrics"])
            cards[(protocol, cell)] = block["card"]
    return values, cards, notes, seeds


def fmt(vals: list[float], digits: int) -> str:
    mean = statistics.fmean(vals)
    if len(vals) > 1:
        return f"{mean:.{digits}f} ({statistics.stdev(vals):.{digits}f})"
    return f"{mean:.{digits}f}"


def render(results: Sequence[dict], metrics: Sequence[str], systems_order: Sequence[str] | None = None,
           cells_order: Sequence[tuple[str, str]] | None = None, digits: int = 4, fmt_name: str = "github") -> str:
    values, cards, notes, seeds = collect(results)
    protocols = [p for p in ("all", "fresh") if any(k[0] == p for k in values)]
    systems = list(systems_order or sorted({k[1] for k in values}))
    systems = [s for s in systems if any(k[1] == s for k in values)]
    cells = [c for c in (cells_order or sorted({k[2] for k in values})) if any(k[2] == c for k in values)]
    biased = {c for c in cells if c[0] == "inspired"}
    out = []
    for protocol in protocols:
        headers = ["system"] + [f"{cell_name(*c)}{' †' if c in biased else ''} {metric_label(m)}"
                                for c in cells for m in metrics]
        rows = []
        for system in systems:
            row = [system]
            for c in cells:
                runs = values.get((protocol, system, c))
                row.extend(fmt([r[m]["mean"] for r in runs], digits) if runs else "–" for m in metrics)
            rows.append(row)
        table = tabulate(rows, headers=headers, tablefmt=fmt_name, disable_numparse=True)
        card_lines = protocol_card(protocol, cells, cards, seeds)
        if fmt_name.startswith("latex"):
            for plain, tex in LATEX.items():
                table = table.replace(plain, tex)
            out.append(f"% protocol: {protocol}\n" + "\n".join(f"% {line}" for line in card_lines) + "\n" + table)
        else:
            out.append(f"### Protocol `{protocol}`\n\n{table}\n\n" + "\n".join(f"- {line}" for line in card_lines))
    caveats = sorted({n for c in cells for n in notes.get(c, ())})
    if biased:
        caveats.insert(0, "† trained on the reconstructed INSPIRED train file: its titles were recovered only for "
                          "films that also occur in dev/test, so these cells are biased toward test items; "
                          "ReDial→INSPIRED is the clean comparison.")
    prefix = "% " if fmt_name.startswith("latex") else "- "
    return "\n\n".join(out) + "\n\n" + ("" if fmt_name.startswith("latex") else "Dataset notes:\n\n") + \
        "\n".join(prefix + c for c in caveats) + "\n"


def protocol_card(protocol: str, cells, cards, seeds) -> list[str]:
    first = next(cards[(protocol, c)] for c in cells if (protocol, c) in cards)
    lines = [f"protocol card: variant `{protocol}`: {first['variant']}; unit = {first['unit']}; "
             f"k in {first['ks']}; metrics are means over pairs."]
    for c in cells:
        card = cards.get((protocol, c))
        if card:
            lines.append(f"{cell_name(*c)}: test split, catalogue {card['catalog_size']} items, "
                         f"{card['samples']} samples, {card['pairs']} pairs, seeds {sorted(seeds[c])}")
    return lines


def write_tables(metrics_paths: Sequence[str | os.PathLike], out_dir: str | os.PathLike, metrics: Sequence[str],
                 systems_order=None, cells_order=None, digits: int = 4, name: str = "main",
                 title: str = "Main results (test split)") -> dict[str, Path]:
    results = [read_json(p, "a metrics JSON") for p in sorted(map(str, metrics_paths))]
    out_dir = Path(out_dir)
    md = render(results, metrics, systems_order, cells_order, digits, "github")
    tex = render(results, metrics, systems_order, cells_order, digits, "latex_booktabs")
    head = f"# {title}\n\nRegenerate: `snakemake tables` (or `python -m benchmark tables`).\n\n"
    write_text(out_dir / f"{name}.md", head + md)
    write_text(out_dir / f"{name}.tex", tex)
    return {"md": out_dir / f"{name}.md", "tex": out_dir / f"{name}.tex"}
