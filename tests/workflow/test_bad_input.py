"""Bad input as a new user would type it: one specific `error:` line, exit status 2, no traceback, nothing written."""

import json
import subprocess
import sys

import pytest

from benchmark.eval.evaluate import evaluate
from benchmark.io import read_json
from benchmark.report.tables import render
from tests.conftest import ROOT
from tests.workflow.test_snakemake import fixture_config, run


def cli(*args):
    return subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=ROOT, capture_output=True, text=True)


def assert_user_error(res, *fragments):
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr, res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, res.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


@pytest.mark.parametrize(("params", "fragments"), [
    ("{not json", ["--params is not valid JSON"]),
    ('["a"]', ["must be a JSON object"]),
    ('{"bogus": 1}', ["unknown key(s) 'bogus'", "accepted keys: k1, b, max_turns"]),
])
def test_predict_rejects_bad_params_before_writing(tmp_path, fixture_results, params, fragments):
    proc = fixture_results / "processed/redial"
    res = cli("predict", "bm25", "--train", str(proc), "--test", str(proc), "--out", str(tmp_path / "p.jsonl"),
              "--params", params, "--quiet")
    assert_user_error(res, *fragments)
    assert not list(tmp_path.iterdir())


def test_predict_names_a_missing_required_param(tmp_path, fixture_results):
    proc = fixture_results / "processed/redial"
    res = cli("predict", "retriever", "--train", str(proc), "--test", str(proc), "--out", str(tmp_path / "p.jsonl"))
    assert_user_error(res, "missing required key(s) 'model'", "accepted keys: model, batch_size, device")
    assert not list(tmp_path.iterdir())


def test_evaluate_rejects_a_test_dataset_that_is_not_the_processed_one(tmp_path, fixture_results):
    p = tmp_path / "p.jsonl"
    p.write_text(json.dumps({"sample_id": "9001#1", "ranked_items": ["101"]}) + "\n")
    res = cli("evaluate", "--predictions", str(p), "--processed", str(fixture_results / "processed/redial"),
              "--out", str(tmp_path / "m.json"), "--system", "mine", "--train-dataset", "redial",
              "--test-dataset", "inspired")
    assert_user_error(res, "--test-dataset 'inspired' does not match", "holds 'redial'")
    assert not (tmp_path / "m.json").exists()


def test_low_coverage_warns_marks_the_cell_and_counts_fresh_samples_only(tmp_path, fixture_results, capsys):
    proc = fixture_results / "processed/redial"
    samples = [json.loads(line) for line in (proc / "test.samples.jsonl").read_text().splitlines()]
    p = tmp_path / "p.jsonl"
    p.write_text(json.dumps({"sample_id": samples[0]["sample_id"], "ranked_items": ["101"]}) + "\n")
    res = evaluate(p, proc, "test", tmp_path / "m.json", "mine", "redial", "redial", 0)
    err = capsys.readouterr().err
    assert "WARNING: mine redial->redial seed 0 [all]: predictions cover only 33.3% of 3 samples" in err
    all_, fresh = res["protocols"]["all"], res["protocols"]["fresh"]
    assert all_["card"]["incomplete"] and all_["counts"]["missing_predictions"] == 2
    n_fresh = sum(any(t not in s["context_items"] for t in s["targets"]) for s in samples)
    assert fresh["counts"]["samples"] == n_fresh
    assert fresh["counts"]["missing_predictions"] == sum(
        any(t not in s["context_items"] for t in s["targets"]) for s in samples[1:])  # fresh samples only
    assert any("cover only" in n for n in res["notes"])
    table = render([read_json(tmp_path / "m.json")], ["recall@10"])
    assert " ‡" in table and "‡ the predictions of this cell cover less than 95%" in table


def test_full_coverage_is_not_marked(tmp_path, fixture_results):
    from benchmark.systems.predict import predict

    proc = fixture_results / "processed/redial"
    predict("popularity", proc, proc, "test", tmp_path / "p.jsonl", k=5, progress=False)
    res = evaluate(tmp_path / "p.jsonl", proc, "test", tmp_path / "m.json", "popularity", "redial", "redial", 0)
    assert not any(b["card"]["incomplete"] for b in res["protocols"].values())
    assert "‡" not in render([res], ["recall@10"])
    # the system's params and recipe reach the metrics' provenance (null only for imported predictions)
    assert res["provenance"]["config"] == {"params": {}, "recipe": None}


def test_check_config_validates_an_overlay_merged_over_the_base():
    res = cli("check-config", "--config", "workflow/config/baselines.yaml")
    assert res.returncode == 0, res.stderr
    assert "valid (4 systems" in res.stdout


def test_check_config_still_reports_a_bad_overlay(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("eval:\n  protocols: [fresh, stale]\n")
    res = cli("check-config", "--config", str(bad))
    assert res.returncode == 2 and "eval/protocols/1: 'stale' is not one of" in res.stderr


@pytest.mark.parametrize(("target", "fragment"), [
    ("metrics/populariti/redial/redial/seed0.json", "unknown system 'populariti'; did you mean 'popularity'?"),
    ("metrics/popularity/redail/redial/seed0.json", "unknown dataset 'redail'; did you mean 'redial'?"),
    ("models/retriever/dualveiw/redial/seed0/meta.json", "unknown retriever variant 'dualveiw'"),
])
def test_misspelt_snakemake_target_is_one_error_line(tmp_path, target, fragment):
    cfg = fixture_config(tmp_path)
    res = run([str(tmp_path / "results" / target), "-n", "--nolock", "--configfile", str(cfg)], tmp_path)
    assert_user_error(res, fragment)
