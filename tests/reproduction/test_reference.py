"""Reproduction tier (opt-in: ``pytest -m reproduction``): run the main workflow from the mirror into a
temporary directory and compare every metric with ``results/reference/{metrics,usersim}_long.tsv``."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from benchmark.config import CONFIG
from benchmark.report.reference import compare
from tests.conftest import ROOT, mirror_or_skip

pytestmark = pytest.mark.reproduction
# model-free systems, held to the tolerance; the others are graded OK / OKish / FAIL (benchmark/report/reference.py)
EXACT = {"random", "popularity", "repeat-context", "repeat-context-only", "bm25", "usersim:trivial-popular",
         "usersim:trivial-context"}


def test_fresh_run_matches_reference(tmp_path):
    config = yaml.safe_load(Path(CONFIG).read_text())
    config["results"] = str(tmp_path / "results")
    for name in ("redial", "inspired"):
        config["datasets"][name]["mirror"] = str(mirror_or_skip(name))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHMARK_MIRROR_")}
    res = subprocess.run([sys.executable, "-m", "snakemake", "--workflow-profile", "workflow/profiles/default",
                          "all", "--configfile", str(cfg)], cwd=ROOT, capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    rows = [r for ours, ref in [("metrics_long.tsv", config["reference"]["metrics"]),
                                ("usersim_long.tsv", config["reference"]["usersim"])]
            for r in compare(tmp_path / "results/tables" / ours, ROOT / ref, tol=config["reference"]["tolerance"],
                             exact=EXACT, require_all=True)]
    for r in rows:
        print("\t".join(map(str, r["key"])), r["status"])
    bad = [r for r in rows if not r["ok"]]
    assert not bad, f"{len(bad)} cells off or missing, e.g. {bad[:3]}"
