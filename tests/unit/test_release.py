"""The release stage (reference = metrics + tables + gzipped predictions + costs) and reading released files."""

import gzip
import json

import pytest

from benchmark.cli import main as cli
from benchmark.errors import BenchmarkError, InputError
from benchmark.eval.evaluate import evaluate, predictions_meta_path
from benchmark.report.release import cost_rows, release


def fake_run(root, fixture_results):
    """A results root with one evaluated cell (mine, redial->redial, seed 0), a table and two benchmark files."""
    pred = root / "predictions/mine/redial/redial/seed0.jsonl"
    pred.parent.mkdir(parents=True)
    pred.write_text(json.dumps({"sample_id": "9001#1", "ranked_items": ["101", "103"]}) + "\n")
    (pred.parent / "seed0.meta.json").write_text(json.dumps({"train_dataset": "redial", "test_dataset": "redial",
                                                             "split": "test"}))
    evaluate(pred, fixture_results / "processed/redial", "test", root / "metrics/mine/redial/redial/seed0.json",
             "mine", "redial", "redial", 0)
    (root / "tables").mkdir()
    (root / "tables/main.md").write_text("# table\n")
    bench = root / "benchmarks/predict/mine/redial/redial"
    bench.mkdir(parents=True)
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    (bench / "seed0.tsv").write_text(header + "2.50\t0:00:02\t300.0\t1\t1\t1\t0\t0\t50\t2.0\n")
    (root / "benchmarks/train.tsv").write_text(header + "10.00\t0:00:10\t900.5\t1\t1\t1\t0\t0\t90\tNA\n")
    return pred


def test_release_gzips_predictions_that_evaluate_to_the_committed_values(tmp_path, fixture_results):
    pred = fake_run(tmp_path / "results", fixture_results)
    out = tmp_path / "reference"
    out.mkdir()
    (out / "README.md").write_text("hand-written\n")
    (out / "stale.md").write_text("from an older release\n")
    counts = release(tmp_path / "results", out)
    assert counts == {"metrics": 1, "predictions": 1, "tables": 1, "usersim": 0, "costs": 3}
    assert (out / "README.md").read_text() == "hand-written\n" and not (out / "stale.md").exists()
    gz = out / "predictions/mine/redial/redial/seed0.jsonl.gz"
    assert gzip.decompress(gz.read_bytes()) == pred.read_bytes()
    assert predictions_meta_path(gz) == gz.parent / "seed0.meta.json" and predictions_meta_path(gz).is_file()
    again = evaluate(gz, fixture_results / "processed/redial", "test", tmp_path / "again.json", "mine", "redial",
                     "redial", 0)
    committed = json.loads((out / "metrics/mine/redial/redial/seed0.json").read_text())
    for p in ("all", "fresh"):
        assert again["protocols"][p]["metrics"] == committed["protocols"][p]["metrics"]
    costs = (out / "costs.tsv").read_text().splitlines()
    assert costs[0] == "step\tseconds\tmax_rss_mb\tcpu_seconds"
    assert costs[-1] == "TOTAL\t12.50\t900.5\t2.00"  # 2.5 + 10 s; max RSS; "NA" CPU time counts 0
    manifest = (out / "MANIFEST.tsv").read_text()
    assert "predictions/mine/redial/redial/seed0.jsonl.gz\t" in manifest and "README.md\t" in manifest


def test_release_refuses_a_cell_without_predictions_and_keeps_the_old_reference(tmp_path, fixture_results):
    pred = fake_run(tmp_path / "results", fixture_results)
    out = tmp_path / "reference"
    release(tmp_path / "results", out)
    before = (out / "MANIFEST.tsv").read_text()
    pred.unlink()
    with pytest.raises(BenchmarkError, match=r"1 metrics JSON\(s\) without predictions.*seed0\.jsonl"):
        release(tmp_path / "results", out)
    assert (out / "MANIFEST.tsv").read_text() == before


def test_released_predictions_for_other_samples_or_truncated_give_specific_errors(tmp_path, fixture_results,
                                                                                  capsys):
    fake_run(tmp_path / "results", fixture_results)
    release(tmp_path / "results", tmp_path / "ref")
    gz = tmp_path / "ref/predictions/mine/redial/redial/seed0.jsonl.gz"
    # ReDial predictions scored against INSPIRED samples: the first unknown id is named with its line
    args = ["evaluate", "--predictions", str(gz), "--processed", str(fixture_results / "processed/inspired"),
            "--system", "mine", "--train-dataset", "redial", "--test-dataset", "inspired",
            "--out", str(tmp_path / "x.json")]
    assert cli(args) == 2
    err = capsys.readouterr().err
    assert "seed0.jsonl.gz, line 1" in err and "'9001#1' is not a sample of this split" in err
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gz.read_bytes()[:-12])  # the gzip trailer (CRC, length) is gone
    with pytest.raises(InputError, match="truncated or corrupt gzip"):
        evaluate(cut, fixture_results / "processed/redial", "test", tmp_path / "y.json", "mine", "redial",
                 "redial", 0)


def test_cost_rows_take_the_last_line_of_a_rerun(tmp_path):
    (tmp_path / "a.tsv").write_text("s\tmax_rss\tcpu_time\n1\t10\t1\n4\t20\t3\n")
    rows = cost_rows(tmp_path)
    assert [(r["step"], r["seconds"]) for r in rows] == [("a", 4.0), ("TOTAL", 4.0)]
    (tmp_path / "b.tsv").write_text("nothing here\n")
    with pytest.raises(BenchmarkError, match=r"b\.tsv: not a Snakemake benchmark file"):
        cost_rows(tmp_path)


def test_merge_overlays_a_partial_run_and_keeps_the_rest_of_the_reference(tmp_path, fixture_results, capsys):
    fake_run(tmp_path / "full", fixture_results)
    out = tmp_path / "reference"
    release(tmp_path / "full", out)
    (out / "README.md").write_text("hand-written\n")
    # a later run of one target: a simulator table, its evaluation file, one benchmark file (a step repeated)
    part = tmp_path / "part"
    (part / "tables").mkdir(parents=True)
    (part / "tables/usersim.md").write_text("# simulator\n")
    (part / "usersim/eval/multitask/redial").mkdir(parents=True)
    (part / "usersim/eval/multitask/redial/seed0.json").write_text("{}\n")
    (part / "benchmarks").mkdir()
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    (part / "benchmarks/train.tsv").write_text(header + "4.00\t0:00:04\t700.0\t1\t1\t1\t0\t0\t90\t3.0\n")
    with pytest.raises(BenchmarkError, match="metrics holds no metrics JSON"):  # without --merge: refused
        release(part, out)
    assert cli(["release", "--results", str(part), "--out", str(out), "--merge"]) == 0
    assert "merged 0 cells" in capsys.readouterr().out
    assert (out / "tables/usersim.md").exists() is False and (out / "usersim.md").read_text() == "# simulator\n"
    assert (out / "main.md").read_text() == "# table\n"  # kept from the full release
    assert (out / "metrics/mine/redial/redial/seed0.json").is_file()
    assert (out / "predictions/mine/redial/redial/seed0.jsonl.gz").is_file()
    assert (out / "README.md").read_text() == "hand-written\n"
    costs = (out / "costs.tsv").read_text().splitlines()
    assert costs[1:] == ["predict/mine/redial/redial/seed0\t2.50\t300.0\t2.00",  # kept
                         "train\t4.00\t700.0\t3.00",  # replaced by the rerun
                         "TOTAL\t6.50\t700.0\t5.00"]
    manifest = (out / "MANIFEST.tsv").read_text()
    assert "usersim/eval/multitask/redial/seed0.json\t" in manifest and "main.md\t" in manifest
    assert manifest.count("MANIFEST.tsv") == 0


def test_merge_needs_a_reference_to_merge_into(tmp_path, fixture_results):
    fake_run(tmp_path / "full", fixture_results)
    with pytest.raises(BenchmarkError, match="not a released reference to merge into"):
        release(tmp_path / "full", tmp_path / "nowhere", merge=True)
