"""The Snakemake workflow: lint, dry run, and a tiny end-to-end run on the fixture datasets."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from benchmark.config import CONFIG
from benchmark.report.aggregate import read_long
from tests.conftest import FIXTURES, ROOT

SNAKEMAKE = [sys.executable, "-m", "snakemake", "--workflow-profile", "workflow/profiles/default"]


def run(args, tmp_path, **kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHMARK_MIRROR_")}
    return subprocess.run(SNAKEMAKE + args, cwd=ROOT, capture_output=True, text=True, env=env, **kw)


def fixture_config(tmp_path: Path, llm: Path | None = None) -> Path:
    """The real config pointed at the fixture datasets, tiny recipes and (when given) the tiny random LLM."""
    config = yaml.safe_load(Path(CONFIG).read_text())
    config["results"] = str(tmp_path / "results")
    config["retriever"]["recipe"] = str(FIXTURES / "recipes/retriever_tiny.yaml")
    config["usersim"]["recipe"] = str(FIXTURES / "recipes/usersim_tiny.yaml")
    config["usersim"]["eval_samples"] = 3
    if llm is not None:
        config["models"]["llm"] = str(llm.parent / "model")
    config["datasets"]["redial"].update(mirror=str(FIXTURES / "redial"), valid_fraction=0.34)
    config["datasets"]["inspired"]["mirror"] = str(FIXTURES / "inspired")
    config["crosscheck"]["he2023_root"] = None
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_lint_is_clean(tmp_path):
    res = run(["--lint", "--configfile", str(fixture_config(tmp_path))], tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "in a good condition" in res.stdout + res.stderr


def test_dry_run_plans_every_cell(tmp_path):
    res = run(["all", "-n", "--configfile", str(fixture_config(tmp_path))], tmp_path)
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    config = yaml.safe_load(Path(CONFIG).read_text())
    n_cells = len(config["run"]) * len(config["cells"]) * len(config["seeds"])
    # the transfer table adds the cells of `cells` it lacks (INSPIRED->ReDial) for its systems
    extra = [(a, b) for a in ("redial", "inspired") for b in ("redial", "inspired") if [a, b] not in config["cells"]]
    n_cells += len(config["tables"]["transfer"]["systems"]) * len(extra) * len(config["seeds"])
    assert f"predict{' ' * 16}{n_cells}" in out or f"predict {n_cells}" in " ".join(out.split())


def test_baselines_overlay_plans_no_model_jobs(tmp_path):
    cfg = fixture_config(tmp_path)
    results = yaml.safe_load(cfg.read_text())["results"]
    res = run([f"{results}/tables/main.md", "-n", "--configfile", str(cfg),
               str(ROOT / "workflow/config/baselines.yaml")], tmp_path)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    table = (res.stdout + res.stderr).split("Job stats:")[1].split("total")[0].splitlines()[3:]
    jobs = dict(line.split() for line in table if line.strip())
    # 4 systems x 3 cells, and nothing that prepares or trains a model
    assert jobs == {"acquire": "2", "process": "2", "predict": "12", "evaluate": "12", "main_table": "1"}


def test_invalid_config_fails_before_any_job(tmp_path):
    path = fixture_config(tmp_path)
    config = yaml.safe_load(path.read_text())
    config["eval"]["protocols"] = ["fresh", "stale"]
    path.write_text(yaml.safe_dump(config))
    res = run(["-n", "--configfile", str(path)], tmp_path)
    assert res.returncode != 0 and "eval/protocols/1: 'stale' is not one of" in res.stdout + res.stderr


@pytest.mark.slow
def test_tiny_end_to_end_on_fixtures(tmp_path, tiny_llm):
    """Every target through the real rules and code paths: fixture data, tiny recipes, a tiny random LLM."""
    cfg = fixture_config(tmp_path, tiny_llm)
    res = run(["all", "redial", "inspired", "--configfile", str(cfg)], tmp_path, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    results = tmp_path / "results"
    main = (results / "tables/main.md").read_text()
    assert "### Protocol `fresh`" in main and "repeat-context-only" in main and "ReDial→INSPIRED" in main
    rows = read_long(results / "tables/metrics_long.tsv")
    rc = [r for r in rows if r["system"] == "repeat-context-only" and r["protocol"] == "fresh"]
    assert rc and all(r["value"] == 0 for r in rc)
    metrics = json.loads((results / "metrics/popularity/redial/redial/seed0.json").read_text())
    assert metrics["protocols"]["all"]["counts"]["pairs"] == 4
    assert (results / "tables/redial.md").exists() and (results / "tables/inspired.md").exists()
    assert "dualview" in (results / "tables/retrieval.md").read_text()
    assert "multitask" in (results / "tables/usersim.md").read_text()
    assert {r["system"] for r in read_long(results / "tables/usersim_long.tsv")} == \
        {"usersim:base", "usersim:feedback-only", "usersim:multitask", "usersim:trivial-popular",
         "usersim:trivial-context"}  # the trivial answerers stand next to the trained variants
    assert json.loads((results / "models/retriever/dualview/redial/seed0/meta.json").read_text())["init"]
    # A second run has nothing to do (every output is up to date).
    again = run(["all", "-n", "--configfile", str(cfg)], tmp_path)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_warnings_of_the_run_reach_the_console_once(tmp_path):
    """The fixture files are not the official ones: acquire's warning must be printed at the end of the run."""
    cfg = fixture_config(tmp_path)
    results = yaml.safe_load(cfg.read_text())["results"]
    res = run([f"{results}/processed/redial/stats.json", "--configfile", str(cfg)], tmp_path, timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    out = res.stdout + res.stderr
    summary = out.split("warning(s) in the logs of this run:")
    assert len(summary) == 2, out[-3000:]
    lines = [line.strip() for line in summary[1].splitlines() if line.strip().startswith("WARNING")]
    assert lines and len(lines) == len(set(lines)) and all("/logs/acquire/" in line for line in lines)
    assert any("is NOT the official file" in line for line in lines)
    again = run([f"{results}/processed/redial/stats.json", "--configfile", str(cfg)], tmp_path)
    assert "warning(s) in the logs of this run" not in again.stdout + again.stderr  # nothing ran: nothing repeated
