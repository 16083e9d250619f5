"""Render the main results table (systems x cells x metrics, one table per protocol) in Markdown and LaTeX.

    python -m benchmark tables --metrics results/metrics --out-dir results/tables

Every table is followed by its protocol card (sample unit, variant, k, catalogue size, sample and pair counts,
seeds) and the dataset caveats, so a number is never read without the protocol that produced it. Values are
means over seeds; with several seeds the standard deviation over seeds follows in parentheses. ``[low, high]`` is
a 95% interval (``interval_of``): across seeds (t) where a cell has at least ``MIN_SEEDS_FOR_T`` seeds, otherwise
the dialogue-level cluster bootstrap stored by ``evaluate`` (its bounds averaged over the seeds); metrics JSONs
written before intervals existed show no interval. Transfer cells (train != test) also show in their card the
share of test pairs whose target exists in the training catalogue, when ``evaluate`` recorded it.
"""

from __future__ import annotations

import math
import os
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from scipy import stats as scipy_stats
from tabulate import tabulate

from benchmark.errors import InputError
from benchmark.eval.bootstrap import METHOD
from benchmark.eval.evaluate import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED
from benchmark.io import read_json, write_text

DATASET_NAMES = {"redial": "ReDial", "inspired": "INSPIRED"}
METRIC_NAMES = {"recall": "R", "ndcg": "N", "mrr": "MRR"}
BOOTSTRAP_METHOD = METHOD.format(n=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED)
MIN_SEEDS_FOR_T = 3  # issue 12.2: across seeds where there are at least 3, else the dialogue-level bootstrap
LATEX = {"†": r"$^\dagger$", "‡": r"$^\ddagger$", "→": r"$\rightarrow$", "–": "--"}  # after tabulate's escaping


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
            cards.setdefault(("counts", (protocol, r["system"], cell)), []).append(block["counts"])
            cards[(protocol, cell)] = block["card"]
            if block["card"].get("incomplete"):  # evaluate.MIN_COVERAGE: marked with ‡ in the table
                cards[("incomplete", (protocol, r["system"], cell))] = block["card"]["coverage"]
            if block["card"].get("exclude_context") is not None:
                cards.setdefault(("exclude_context", r["system"]), set()).add(block["card"]["exclude_context"])
    return values, cards, notes, seeds


def interval_of(runs: list[dict]) -> tuple[float, float, str] | None:
    """95% interval of the mean over seeds of one metric (``runs``: its value dict per seed), and its method."""
    vals = [r["mean"] for r in runs]
    if len(vals) >= MIN_SEEDS_FOR_T:
        half = scipy_stats.t.ppf(0.975, len(vals) - 1) * statistics.stdev(vals) / math.sqrt(len(vals))
        mean = statistics.fmean(vals)
        return mean - half, mean + half, "t"
    if all("ci_low" in r for r in runs):
        return (statistics.fmean(r["ci_low"] for r in runs), statistics.fmean(r["ci_high"] for r in runs),
                "bootstrap")
    return None


def fmt(runs: list[dict], digits: int) -> str:
    vals = [r["mean"] for r in runs]
    text = f"{statistics.fmean(vals):.{digits}f}"
    if len(vals) > 1:
        text += f" ({statistics.stdev(vals):.{digits}f})"
    ci = interval_of(runs)
    if ci is not None:
        text += f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
    return text


def parse_failure_rate(counts: list[dict]) -> str:
    """Share of a cell's LLM outputs (over seeds) that did not parse cleanly; "–" for a system without LLM output."""
    outputs = sum(c.get("parsed_outputs", 0) for c in counts)
    if not outputs:
        return "–"
    return f"{100 * sum(c.get('parse_failures', 0) for c in counts) / outputs:.1f}%"


def render(results: Sequence[dict], metrics: Sequence[str], systems_order: Sequence[str] | None = None,
           cells_order: Sequence[tuple[str, str]] | None = None, digits: int = 4, fmt_name: str = "github",
           parse_failures: bool = False, protocols: Sequence[str] = ("all", "fresh")) -> str:
    """``parse_failures``: one more column per cell, the share of LLM answers that did not parse (status not ok:
    the ranking fell back to, or was filled from, the retriever order). ``protocols``: which to render."""
    values, cards, notes, seeds = collect(results)
    protocols = [p for p in protocols if any(k[0] == p for k in values)]
    systems = list(systems_order or sorted({k[1] for k in values}))
    systems = [s for s in systems if any(k[1] == s for k in values)]
    cells = [c for c in (cells_order or sorted({k[2] for k in values})) if any(k[2] == c for k in values)]
    biased = {c for c in cells if c[0] == "inspired"}
    out = []
    for protocol in protocols:
        extra = ["parse fail."] if parse_failures else []
        headers = ["system"] + [f"{cell_name(*c)}{' †' if c in biased else ''} {label}"
                                for c in cells for label in [metric_label(m) for m in metrics] + extra]
        rows = []
        for system in systems:
            row = [system]
            for c in cells:
                runs = values.get((protocol, system, c))
                mark = " ‡" if ("incomplete", (protocol, system, c)) in cards else ""
                row.extend(fmt([r[m] for r in runs], digits) + mark if runs else "–" for m in metrics)
                if parse_failures:
                    row.append(parse_failure_rate(cards.get(("counts", (protocol, system, c)), [])))
            rows.append(row)
        table = tabulate(rows, headers=headers, tablefmt=fmt_name, disable_numparse=True)
        card_lines = protocol_card(protocol, cells, cards, seeds, values)
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
    if any(k[0] == "incomplete" for k in cards):
        caveats.insert(0, "‡ the predictions of this cell cover less than 95% of its samples (evaluate.MIN_COVERAGE); "
                          "the missing samples are scored as misses, so the value is a lower bound.")
    prefix = "% " if fmt_name.startswith("latex") else "- "
    return "\n\n".join(out) + "\n\n" + ("" if fmt_name.startswith("latex") else "Dataset notes:\n\n") + \
        "\n".join(prefix + c for c in caveats) + "\n"


def protocol_card(protocol: str, cells, cards, seeds, values=None) -> list[str]:
    first = next(cards[(protocol, c)] for c in cells if (protocol, c) in cards)
    lines = [f"protocol card: variant `{protocol}`: {first['variant']}; unit = {first['unit']}; "
             f"k in {first['ks']}; metrics are means over pairs."]
    methods = {ci[2] for (p, _, _), runs in (values or {}).items() if p == protocol
               for m in runs[0] if (ci := interval_of([r[m] for r in runs]))}
    parts = []
    if "bootstrap" in methods:
        parts.append(f"95% {BOOTSTRAP_METHOD} where a cell has fewer than {MIN_SEEDS_FOR_T} seeds "
                     "(bounds averaged over its seeds)")
    if "t" in methods:
        parts.append(f"95% t interval across seeds where a cell has {MIN_SEEDS_FOR_T} or more")
    if parts:
        lines.append("[low, high] = " + "; ".join(parts) + "; (sd) = standard deviation over seeds.")
    excluded = {s: flags for (kind, s), flags in cards.items() if kind == "exclude_context"}
    if excluded:
        on = sorted(s for s, flags in excluded.items() if True in flags)
        lines.append("exclude_context (items already in the context removed from the ranking): "
                     + (", ".join(on) if on else "no system") + "; all other systems rank them like any item.")
    for c in cells:
        card = cards.get((protocol, c))
        if card:
            dialogues = f", {card['dialogues']} dialogues" if "dialogues" in card else ""
            subset = card.get("subset")
            split = (f"fixed subset of {subset['n']} test samples ({subset['file']}, ids sha256 "
                     f"{subset['sha256'][:12]})" if subset else "test split")
            line = (f"{cell_name(*c)}: {split}, catalogue {card['catalog_size']} items, "
                    f"{card['samples']} samples, {card['pairs']} pairs{dialogues}, seeds {sorted(seeds[c])}")
            if c[0] != c[1] and card.get("transfer_coverage"):
                line += f"; {coverage_text(card['transfer_coverage'])}"
            lines.append(line)
    return lines


def coverage_text(cov: dict) -> str:
    """One phrase from ``benchmark.data.coverage.transfer_coverage``'s result (the ceiling of a transfer cell)."""
    text = ""
    if cov.get("catalog_overlap") is not None:
        text = (f"catalogue overlap: {cov['catalog_overlap']} of {cov['test_catalog_size']} test items match one of "
                f"{cov['train_catalog_size']} training items; ")
    text += (f"transfer coverage: {100 * cov['in_train_catalog_share']:.1f}% of {cov['pairs']} test pairs have their "
             "target in the training catalogue")
    if cov.get("with_cf_vector_share") is not None:
        text += f", {100 * cov['with_cf_vector_share']:.1f}% with a CF vector"
    return text


PUBLISHED_HEADING = "reported in papers, not reproduced here"


def published_block(path: str | os.PathLike, metrics: Sequence[str], digits: int, tablefmt: str) -> str:
    """The numbers papers report (``baselines/published.yaml``), apart from ours: one row per entry."""
    import yaml

    entries = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["entries"]
    rows = [[e["system"], DATASET_NAMES.get(e["dataset"], e["dataset"]), e.get("protocol", ""), e["matches_ours"]]
            + [f"{e['metrics'][m]:.{digits}f}" if m in e["metrics"] else "–" for m in metrics] for e in entries]
    table = tabulate(rows, headers=["system", "dataset", "closest protocol", "matches ours"]
                     + [metric_label(m) for m in metrics], tablefmt=tablefmt, disable_numparse=True)
    if tablefmt.startswith("latex"):
        return f"\n% {PUBLISHED_HEADING} (from {path})\n{table}\n"
    return (f"\n\n## {PUBLISHED_HEADING}\n\nFrom `{path}` (citation, metric definition and source of every row "
            f"there); their samples, catalogues and matching differ from ours.\n\n{table}\n")


def check_one_file_per_run(paths: Sequence[str], results: Sequence[dict]) -> None:
    """Two files of the same run (system, cell, split, seed) would be averaged as two seeds, with a (0.0000)
    spread: a copy of a released file given beside the run that made it, say. Refuse, naming both."""
    seen = {}
    for path, r in zip(paths, results, strict=True):
        key = (r["system"], r["train_dataset"], r["test_dataset"], r.get("split"), r["seed"])
        if key in seen:
            raise InputError(path, f"the same run as {seen[key]} (system {key[0]}, {key[1]}->{key[2]}, split "
                                   f"{key[3]}, seed {key[4]}); give one file per run, or the cell counts it twice")
        seen[key] = path


def write_tables(metrics_paths: Sequence[str | os.PathLike], out_dir: str | os.PathLike, metrics: Sequence[str],
                 systems_order=None, cells_order=None, digits: int = 4, name: str = "main",
                 title: str = "Main results (test split)", parse_failures: bool = False,
                 published: str | os.PathLike | None = None,
                 protocols: Sequence[str] = ("all", "fresh"), target: str = "tables") -> dict[str, Path]:
    """``target``: the Snakemake target that regenerates the table, named under its heading."""
    paths = sorted(set(map(str, metrics_paths)))  # one path given twice is read once
    results = [read_json(p, "a metrics JSON") for p in paths]
    check_one_file_per_run(paths, results)
    out_dir = Path(out_dir)
    md = render(results, metrics, systems_order, cells_order, digits, "github", parse_failures, protocols)
    tex = render(results, metrics, systems_order, cells_order, digits, "latex_booktabs", parse_failures, protocols)
    if published:  # a separate block, never mixed into the rows measured here
        md += published_block(published, metrics, digits, "github")
        tex += published_block(published, metrics, digits, "latex_booktabs")
    head = f"# {title}\n\nRegenerate: `snakemake {target}` (or `python -m benchmark tables`).\n\n"
    write_text(out_dir / f"{name}.md", head + md)
    write_text(out_dir / f"{name}.tex", tex)
    return {"md": out_dir / f"{name}.md", "tex": out_dir / f"{name}.tex"}
