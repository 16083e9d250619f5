"""Tables (golden files), the long TSV, the reference comparison, config validation, CLI errors."""

import shutil
from pathlib import Path

import pytest
import yaml

from benchmark.cli import main as cli
from benchmark.config import CONFIG, ConfigError, check_config
from benchmark.report.aggregate import aggregate, read_long
from benchmark.report.reference import compare
from benchmark.report.tables import write_tables
from tests.conftest import FIXTURES

METRICS = sorted((FIXTURES / "metrics").glob("*.json"))


def test_tables_match_golden_files(tmp_path):
    """Golden files were checked by hand: e.g. random ReDial R@1 = mean(0.01, 0.03) = 0.020, std 0.014."""
    paths = write_tables(METRICS, tmp_path, ["recall@1", "recall@10", "ndcg@10"],
                         systems_order=["random", "popularity"],
                         cells_order=[("redial", "redial"), ("inspired", "inspired")], digits=3)
    assert paths["md"].read_text() == (FIXTURES / "golden/main.md").read_text()
    assert paths["tex"].read_text() == (FIXTURES / "golden/main.tex").read_text()


def test_long_tsv_round_trip_keeps_full_precision(tmp_path):
    rows = aggregate(METRICS, tmp_path / "long.tsv")
    back = read_long(tmp_path / "long.tsv")
    assert len(rows) == len(back) == 4 * 2 * 4  # files x protocols x metrics
    assert {(r["system"], r["seed"], r["protocol"], r["metric"], r["value"]) for r in back} == \
        {(r["system"], r["seed"], r["protocol"], r["metric"], r["value"]) for r in rows}


def test_reference_comparison_reports_ok_off_missing_new(tmp_path):
    aggregate(METRICS, tmp_path / "ref.tsv")
    aggregate(METRICS[1:], tmp_path / "ours.tsv")  # one file fewer -> MISSING cells
    text = (tmp_path / "ours.tsv").read_text().replace("\t0.3\t", "\t0.3001\t", 1)
    text += "newsys\tredial\tredial\ttest\t0\tall\trecall@1\t0.5\t0.0\t1\t1\n"
    (tmp_path / "ours.tsv").write_text(text)
    rows = compare(tmp_path / "ours.tsv", tmp_path / "ref.tsv", tol=1e-6)
    statuses = [r["status"] for r in rows]
    assert statuses.count("MISSING") == 8 and statuses.count("NEW") == 1
    assert any(s.startswith("OFF by +0.0001") for s in statuses)
    assert cli(["compare-reference", "--metrics", str(tmp_path / "ref.tsv"), "--reference",
                str(tmp_path / "ref.tsv")]) == 0
    assert cli(["compare-reference", "--metrics", str(tmp_path / "ours.tsv"), "--reference",
                str(tmp_path / "ref.tsv"), "--quiet"]) == 1


def test_config_schema_errors_name_the_key():
    config = yaml.safe_load(Path(CONFIG).read_text())
    check_config(config)
    bad = {**config, "seeds": [-1], "eval": {**config["eval"], "protocols": ["al"]}}
    with pytest.raises(ConfigError, match=r"eval/protocols/0: 'al' is not one of|seeds/0"):
        check_config(bad)
    with pytest.raises(ConfigError, match="run: 'nope' is not defined under systems"):
        check_config({**config, "run": ["nope"]})
    with pytest.raises(Exception, match="did you mean 'popularity'"):
        check_config({**config, "systems": {**config["systems"], "pop": {"system": "popularty"}}})


def test_cli_prints_one_error_line_and_exits_2(tmp_path, capsys):
    assert cli(["acquire", "redail", "--out", str(tmp_path), "--mirror", str(FIXTURES / "redial")]) == 2
    assert "error: unknown dataset 'redail'; did you mean 'redial'?" in capsys.readouterr().err
    shutil.copytree(FIXTURES / "redial", tmp_path / "m")
    assert cli(["evaluate", "--predictions", str(tmp_path / "none.jsonl"), "--processed", str(tmp_path),
                "--out", str(tmp_path / "x.json"), "--system", "s", "--train-dataset", "redial",
                "--test-dataset", "redial"]) == 2
    assert "missing file: expected evaluation samples" in capsys.readouterr().err
