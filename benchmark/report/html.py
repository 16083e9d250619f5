"""Stage ``report``: one self-contained HTML page with every rendered table and figure of a run.

    python -m benchmark report results/tables/{main,transfer,comparisons,retrieval,usersim}.md \\
        --figures results/tables/plots/*.png --provenance results/metrics/*/*/*/seed*.json --out results/report.html

The page is built from the Markdown tables the workflow already renders (so it can never disagree with them),
converted with Python-Markdown's ``tables`` extension; figures are embedded as base64 PNG, so the file opens
offline and can be mailed or archived alone. A table of contents links every section. Each section names the
file it came from; a provenance section counts the git revisions, devices, torch versions and dates recorded in
the metrics files, so a report mixing runs says so.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Sequence
from pathlib import Path

import markdown

from benchmark.errors import InputError
from benchmark.io import write_text

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 110em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f0f0; position: sticky; top: 0; }
tbody tr:nth-child(even) { background: #fafafa; }
section { border-top: 2px solid #ddd; margin-top: 2em; overflow-x: auto; }
figure img { max-width: 100%; border: 1px solid #ddd; }
.source { color: #777; font-size: 0.8em; }
"""


def section_id(path: Path) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "section"


def provenance_summary(paths: Sequence[str | os.PathLike]) -> str:
    """An HTML table: how many result files name each git revision, device, torch version and run date."""
    from collections import Counter

    from tabulate import tabulate

    from benchmark.io import read_json

    counts: dict[str, Counter] = {k: Counter() for k in ("git revision", "device", "torch", "date (UTC day)")}
    for p in paths:
        prov = read_json(p, "a metrics JSON").get("provenance") or {}
        counts["git revision"][str(prov.get("git"))] += 1
        counts["device"][str(prov.get("device"))] += 1
        counts["torch"][str((prov.get("packages") or {}).get("torch"))] += 1
        counts["date (UTC day)"][str(prov.get("date", ""))[:10]] += 1
    rows = [[field, value, n] for field, c in counts.items() for value, n in sorted(c.items())]
    return tabulate(rows, headers=["field", "value", "result files"], tablefmt="html", disable_numparse=True)


def render_report(tables: Sequence[str | os.PathLike], figures: Sequence[str | os.PathLike] = (),
                  title: str = "SMTPO reproducibility benchmark: results",
                  provenance: Sequence[str | os.PathLike] = (), target: str = "report") -> str:
    """The HTML text of the report (see the module docstring); ``target``: the Snakemake target that rebuilds it."""
    sections, toc = [], []
    if provenance:
        toc.append('<li><a href="#provenance">Provenance</a></li>')
        sections.append(f'<section id="provenance">\n<h2>Provenance</h2>\n<p>From the <code>provenance</code> block '
                        f"of {len(provenance)} metrics files (each also records package versions, input sha256 and "
                        f"its seed).</p>\n{provenance_summary(provenance)}\n</section>")
    for path in map(Path, tables):
        if not path.is_file():
            raise InputError(path, "missing table: expected a Markdown table rendered by the workflow here")
        body = markdown.markdown(path.read_text(encoding="utf-8"), extensions=["tables"])
        sid = section_id(path)
        heading = re.search(r"<h1>(.*?)</h1>", body)
        name = re.sub(r"<[^>]+>", "", heading.group(1)) if heading else path.stem
        toc.append(f'<li><a href="#{sid}">{name}</a></li>')
        sections.append(f'<section id="{sid}">\n<p class="source">from <code>{html.escape(str(path))}</code></p>\n'
                        f"{body}\n</section>")
    for path in map(Path, figures):
        if not path.is_file() or path.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            raise InputError(path, "expected a PNG figure here")
        sid = "figure-" + section_id(path)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        toc.append(f'<li><a href="#{sid}">Figure: {html.escape(path.stem)}</a></li>')
        sections.append(f'<section id="{sid}">\n<h2>Figure: {html.escape(path.stem)}</h2>\n<figure>'
                        f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}"><figcaption '
                        f'class="source">from <code>{html.escape(str(path))}</code></figcaption></figure>\n</section>')
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{html.escape(title)}"
            f"</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
            "<p>Every table below is the Markdown table the workflow rendered, with its protocol card; regenerate "
            f"with <code>snakemake {html.escape(target)}</code>.</p>\n<nav><ul>\n" + "\n".join(toc) + "\n</ul></nav>\n"
            + "\n".join(sections) + "\n</body>\n</html>\n")


def write_report(tables, figures, out, title: str | None = None, provenance=(), target: str = "report") -> Path:
    text = render_report(tables, figures, provenance=provenance, target=target, **({"title": title} if title else {}))
    write_text(out, text)
    return Path(out)
