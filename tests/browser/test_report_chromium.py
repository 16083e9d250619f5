"""Browser tier: the HTML report opened in headless Chromium (the Debian package `chromium`; .ci/run installs it).
Skips with a reason when no Chromium is on PATH. The screenshot is kept in ``test-artifacts/`` (or
``$BENCHMARK_TEST_ARTIFACTS``) for a person to look at."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from benchmark.report.figure import write_figures
from benchmark.report.html import write_report
from benchmark.report.tables import write_tables
from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.browser
METRICS = sorted((FIXTURES / "metrics").glob("*.json"))


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("no Chromium on PATH (Debian: apt-get install chromium)")


def headless(*args: str) -> subprocess.CompletedProcess:
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_report_renders_every_table_and_figure_in_chromium(tmp_path):
    write_tables(METRICS, tmp_path, ["recall@10", "ndcg@10"], name="main")
    figures = write_figures(tmp_path / "plots", METRICS, ["random", "popularity"], ["popularity"])
    report = write_report([tmp_path / "main.md"], figures, tmp_path / "report.html", provenance=METRICS)
    url = report.resolve().as_uri()

    dom = headless("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    tables = re.findall(r"<table>.*?</table>", dom.stdout, flags=re.S)
    # two protocols of the main table + the provenance table, each with body rows
    assert len(tables) == 3 and all("<td>" in t for t in tables)
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,', dom.stdout)) == len(figures) == 3

    shot = tmp_path / "report.png"
    res = headless(f"--screenshot={shot}", "--window-size=1400,6000", url)
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    from PIL import Image

    pixels = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 24)
    # matplotlib's first bar colour (tab:blue) only appears if the embedded figures were decoded and painted
    assert any(abs(r - 31) + abs(g - 119) + abs(b - 180) < 30 for _, (r, g, b) in pixels)
    artefacts = Path(os.environ.get("BENCHMARK_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    artefacts.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, artefacts / "report_screenshot.png")
