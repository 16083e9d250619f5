"""Stage ``release``: turn one finished run into the committed reference (metrics, tables, predictions, costs).

    python -m benchmark release --results results --out results/reference

What lands in ``--out`` (a hand-written ``README.md`` there is kept; everything else is replaced):

* the rendered tables and long TSVs of ``<results>/tables`` (``main.md``, ``metrics_long.tsv``, ...) and its
  ``plots/``;
* every metrics JSON (``metrics/<system>/<train>/<test>/[<split>/]seed<N>.json``) and simulator evaluation
  (``usersim/eval/...``);
* the predictions behind every metrics JSON, gzip-compressed byte for byte
  (``predictions/<system>/<train>/<test>/[<split>/]seed<N>.jsonl.gz``, plus its ``seed<N>.meta.json``), so
  anyone can recompute a cell: ``python -m benchmark evaluate --predictions <that .jsonl.gz> ...``;
* ``costs.tsv``: wall seconds, peak RSS and CPU seconds of every heavy step (Snakemake ``benchmark:`` files) and
  a ``TOTAL`` row (sum of seconds, max of peak RSS; steps ran up to ``cores`` at a time, so the sum exceeds the
  main job's wall time);
* ``MANIFEST.tsv``: size and sha256 of every file above.

The new reference is assembled in ``<out>.partial`` and swapped in only when complete (``io.atomic_dir``), so an
interrupted release leaves the previous reference untouched. A metrics JSON without its predictions is an error:
a reference cell nobody can recompute is not released.

``--merge`` overlays a run of part of the workflow (e.g. ``snakemake usersim`` after a simulator change) on the
existing reference instead of replacing it: every file the run has replaces the reference's file of the same
path, everything else is kept, and ``costs.tsv`` keeps the old rows of the steps the run did not repeat (TOTAL and
``MANIFEST.tsv`` recomputed). Tables derived from files the run did not make (e.g. ``report.html``) are only as
fresh as the run's own copy of them: render them into ``<results>/tables`` first (results/reference/README.md).

    python -m benchmark release --results results --out results/reference --merge
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import shutil
from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.io import atomic_dir, sha256_file, write_text

KEEP = ("README.md",)  # hand-written files of the reference folder
TABLE_SUFFIXES = (".md", ".tex", ".tsv", ".html")
COST_COLUMNS = ("step", "seconds", "max_rss_mb", "cpu_seconds")


def gzip_copy(src: Path, dst: Path) -> None:
    """Compress ``src`` into ``dst`` reproducibly (no name or mtime in the header: same bytes in, same bytes out)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, open(dst, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)


def cost_rows(benchmarks: Path) -> list[dict]:
    """One row per Snakemake benchmark TSV under ``benchmarks`` (its last line: a rerun appends), then TOTAL."""
    rows = []
    for path in sorted(benchmarks.rglob("*.tsv")):
        with open(path, encoding="utf-8", newline="") as fh:
            records = list(csv.DictReader(fh, delimiter="\t"))
        if not records or "s" not in records[-1]:
            raise BenchmarkError(f"{path}: not a Snakemake benchmark file (expected a header with 's', max_rss)")
        r = records[-1]
        rows.append({"step": path.relative_to(benchmarks).with_suffix("").as_posix(), "seconds": float(r["s"]),
                     "max_rss_mb": _number(r.get("max_rss")), "cpu_seconds": _number(r.get("cpu_time"))})
    return with_total(rows)


def with_total(rows: list[dict]) -> list[dict]:
    """``rows`` and a TOTAL row (sum of seconds and CPU seconds, max of peak RSS); [] stays []."""
    if not rows:
        return []
    return rows + [{"step": "TOTAL", "seconds": sum(r["seconds"] for r in rows),
                    "max_rss_mb": max(r["max_rss_mb"] for r in rows),
                    "cpu_seconds": sum(r["cpu_seconds"] for r in rows)}]


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):  # Snakemake writes "NA" where it could not measure
        return 0.0


def costs_tsv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(COST_COLUMNS)
    for r in rows:
        w.writerow([r["step"], f"{r['seconds']:.2f}", f"{r['max_rss_mb']:.1f}", f"{r['cpu_seconds']:.2f}"])
    return buf.getvalue()


def read_costs(path: Path) -> list[dict]:
    """The step rows of a released ``costs.tsv`` (TOTAL dropped); [] when there is none."""
    if not path.is_file():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return [{"step": r["step"], "seconds": float(r["seconds"]), "max_rss_mb": float(r["max_rss_mb"]),
                 "cpu_seconds": float(r["cpu_seconds"])}
                for r in csv.DictReader(fh, delimiter="\t") if r["step"] != "TOTAL"]


def merge_costs(old: list[dict], new: list[dict]) -> list[dict]:
    """Step rows of ``old`` replaced or extended by ``new`` (by step name), sorted, with a fresh TOTAL row.

    >>> old = [{"step": "a", "seconds": 1.0, "max_rss_mb": 5.0, "cpu_seconds": 1.0},
    ...        {"step": "b", "seconds": 2.0, "max_rss_mb": 9.0, "cpu_seconds": 2.0}]
    >>> new = [{"step": "b", "seconds": 4.0, "max_rss_mb": 3.0, "cpu_seconds": 3.0},
    ...        {"step": "TOTAL", "seconds": 4.0, "max_rss_mb": 3.0, "cpu_seconds": 3.0}]
    >>> [(r["step"], r["seconds"], r["max_rss_mb"]) for r in merge_costs(old, new)]
    [('a', 1.0, 5.0), ('b', 4.0, 3.0), ('TOTAL', 5.0, 5.0)]
    """
    steps = {r["step"]: r for r in old if r["step"] != "TOTAL"}
    steps.update({r["step"]: r for r in new if r["step"] != "TOTAL"})
    return with_total([steps[k] for k in sorted(steps)])


def release(results: str | os.PathLike, out: str | os.PathLike, merge: bool = False) -> dict:
    """Copy a finished run into ``out`` (see the module docstring); returns counts of what was released.

    With ``merge`` the run is overlaid on the existing ``out`` (only the paths it has are replaced)."""
    results, out = Path(results), Path(out)
    metrics = sorted((results / "metrics").rglob("seed*.json")) if (results / "metrics").is_dir() else []
    if merge and not out.is_dir():
        raise BenchmarkError(f"--merge: {out} is not a released reference to merge into (release without --merge)")
    if not metrics and not (merge and ((results / "tables").is_dir() or (results / "usersim/eval").is_dir())):
        raise BenchmarkError(f"{results}/metrics holds no metrics JSON: run the workflow first (snakemake all)")
    missing = [m for m in metrics if not _predictions_of(results, m).is_file()]
    if missing:
        raise BenchmarkError(f"{len(missing)} metrics JSON(s) without predictions, e.g. {missing[0]} (expected "
                             f"{_predictions_of(results, missing[0])}); rerun its predict rule before releasing")
    counts = {"metrics": 0, "predictions": 0, "tables": 0, "usersim": 0, "costs": 0}
    with atomic_dir(out) as tmp:
        if merge:  # start from the whole current reference; the run's files overwrite theirs below
            shutil.copytree(out, tmp, dirs_exist_ok=True)
            (tmp / "MANIFEST.tsv").unlink(missing_ok=True)
        for name in KEEP:
            if (out / name).is_file():
                shutil.copy2(out / name, tmp / name)
        for path in sorted((results / "tables").iterdir()) if (results / "tables").is_dir() else []:
            if path.is_file() and path.suffix in TABLE_SUFFIXES:
                shutil.copy2(path, tmp / path.name)
                counts["tables"] += 1
        if (results / "report.html").is_file():  # the HTML report (rule report_html) lives at the results root
            shutil.copy2(results / "report.html", tmp / "report.html")
            counts["tables"] += 1
        if (results / "tables/plots").is_dir():
            shutil.copytree(results / "tables/plots", tmp / "plots", dirs_exist_ok=True)
        for m in metrics:
            rel = m.relative_to(results)
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(m, tmp / rel)
            pred = _predictions_of(results, m)
            dst = tmp / pred.relative_to(results).with_name(pred.name + ".gz")
            gzip_copy(pred, dst)
            if (meta := pred.with_name(pred.name.removesuffix(".jsonl") + ".meta.json")).is_file():
                shutil.copy2(meta, dst.parent / meta.name)
            counts["metrics"] += 1
            counts["predictions"] += 1
        if (results / "usersim/eval").is_dir():
            shutil.copytree(results / "usersim/eval", tmp / "usersim/eval", dirs_exist_ok=True)
            counts["usersim"] = len(list((tmp / "usersim/eval").rglob("*.json")))
        rows = cost_rows(results / "benchmarks") if (results / "benchmarks").is_dir() else []
        if merge:
            rows = merge_costs(read_costs(out / "costs.tsv"), rows)
        if rows:
            write_text(tmp / "costs.tsv", costs_tsv(rows))
            counts["costs"] = len(rows)
        manifest = ["path\tbytes\tsha256"] + [
            f"{p.relative_to(tmp).as_posix()}\t{p.stat().st_size}\t{sha256_file(p)}"
            for p in sorted(tmp.rglob("*")) if p.is_file()]
        write_text(tmp / "MANIFEST.tsv", "\n".join(manifest) + "\n")
    return counts


def _predictions_of(results: Path, metrics_json: Path) -> Path:
    """results/metrics/<s>/<tr>/<te>/[<split>/]seedN.json -> results/predictions/<same>/seedN.jsonl."""
    rel = metrics_json.relative_to(results / "metrics")
    return results / "predictions" / rel.with_suffix(".jsonl")
