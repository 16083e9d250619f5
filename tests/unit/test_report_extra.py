"""Transfer table protocols, the paired-comparisons table, the main figure and the HTML report."""

import json
import re

import pytest

from benchmark.cli import main as cli
from benchmark.config import ConfigError, check_config, load_config
from benchmark.errors import BenchmarkError, InputError
from benchmark.eval.compare import comparison_table, render_table
from benchmark.report.figure import figure_points, write_figures
from benchmark.report.html import render_report
from benchmark.report.tables import render
from tests.conftest import FIXTURES

METRICS = sorted((FIXTURES / "metrics").glob("*.json"))


def test_tables_render_only_the_requested_protocols():
    results = [json.loads(p.read_text()) for p in METRICS]
    md = render(results, ["recall@10"], protocols=["fresh"])
    assert "### Protocol `fresh`" in md and "### Protocol `all`" not in md


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_tables_name_the_target_that_regenerates_them(tmp_path):
    from benchmark.report.tables import write_tables

    write_tables(METRICS, tmp_path, ["recall@10"], name="ablations", target="ablations")
    assert "Regenerate: `snakemake ablations`" in (tmp_path / "ablations.md").read_text()
    write_tables(METRICS, tmp_path, ["recall@10"])
    assert "Regenerate: `snakemake tables`" in (tmp_path / "main.md").read_text()


def test_tables_refuse_two_files_of_the_same_run(tmp_path):
    from benchmark.report.tables import write_tables

    copy = tmp_path / "copy" / METRICS[0].name
    copy.parent.mkdir()
    copy.write_text(METRICS[0].read_text())
    with pytest.raises(InputError, match=r"the same run as .*seed"):
        write_tables([*METRICS, copy], tmp_path, ["recall@10"])
    write_tables([*METRICS, METRICS[0]], tmp_path, ["recall@10"])  # the same path twice is one file
    assert "(0.0000)" not in (tmp_path / "main.md").read_text()


def test_comparison_table_difference_and_interval_by_hand(tmp_path, fixture_results):
    # fresh pairs of the fixture's ReDial test: 9001#1 -> 103, 9001#3 -> 104, 9002#2 -> 105 (two dialogues)
    preds = tmp_path / "predictions"
    _write(preds / "a/redial/redial/seed0.jsonl", [{"sample_id": "9001#1", "ranked_items": ["103"]},
                                                   {"sample_id": "9001#3", "ranked_items": ["104"]}])
    _write(preds / "b/redial/redial/seed0.jsonl", [{"sample_id": "9002#2", "ranked_items": ["101"]}])
    rows = comparison_table([("a", "b")], [("redial", "redial")], preds, fixture_results / "processed",
                            metrics=["recall@10"], n_resamples=500)
    (r,) = rows
    assert (r["a"], r["b"], r["difference"], r["pairs"], r["n_clusters"]) == (pytest.approx(2 / 3), 0.0,
                                                                              pytest.approx(2 / 3), 3, 2)
    # resampling 2 dialogues: the difference is 1 (9001 twice), 2/3 (one each) or 0 (9002 twice)
    assert r["low"] == pytest.approx(0.0) and r["high"] == pytest.approx(1.0)
    md = render_table(rows, "fresh", 500)
    assert "| a − b" in md and "+0.6667" in md and "| no " in md and "500 resamples" in md


def test_comparison_table_averages_each_system_over_its_seeds_by_hand(tmp_path, fixture_results):
    # fresh pairs 9001#1 -> 103, 9001#3 -> 104, 9002#2 -> 105; a: seed 0 hits two, seed 1 one (gzipped, as released)
    import gzip

    preds = tmp_path / "predictions"
    _write(preds / "a/redial/redial/seed0.jsonl", [{"sample_id": "9001#1", "ranked_items": ["103"]},
                                                   {"sample_id": "9001#3", "ranked_items": ["104"]}])
    (preds / "a/redial/redial/seed1.jsonl.gz").write_bytes(gzip.compress(
        json.dumps({"sample_id": "9001#1", "ranked_items": ["103"]}).encode() + b"\n"))
    _write(preds / "b/redial/redial/seed0.jsonl", [{"sample_id": "9002#2", "ranked_items": ["101"]}])
    (r,) = comparison_table([("a", "b")], [("redial", "redial")], preds, fixture_results / "processed",
                            seeds=[0, 1, 2], metrics=["recall@10"], n_resamples=200)
    # a per pair: (1 + 1) / 2, (1 + 0) / 2, 0 -> mean 1/2; b has seed 0 only: no common second seed, no seed sd
    assert (r["a"], r["b"], r["difference"]) == (pytest.approx(0.5), 0.0, pytest.approx(0.5))
    assert (r["a_seeds"], r["b_seeds"], r["seed_sd"]) == ([0, 1], [0], None)
    _write(preds / "b/redial/redial/seed1.jsonl", [])
    (r,) = comparison_table([("a", "b")], [("redial", "redial")], preds, fixture_results / "processed",
                            seeds=[0, 1], metrics=["recall@10"], n_resamples=200)
    # per-seed differences 2/3 and 1/3: sd sqrt(((1/6)^2 * 2) / 1) = 0.2357
    assert r["seed_sd"] == pytest.approx(0.23570226) and "| 2/2 " in render_table([r], "fresh", 200)
    with pytest.raises(BenchmarkError, match="no predictions of c on redial->redial"):
        comparison_table([("a", "c")], [("redial", "redial")], preds, fixture_results / "processed", seeds=[0])


def test_comparison_table_on_a_subset_scores_only_its_samples_by_hand(tmp_path, fixture_results):
    # the subset holds 9001#1 (fresh target 103) and 9002#2 (105); a hits 103, b hits 105, read from test-subset/
    preds = tmp_path / "predictions"
    _write(preds / "a/redial/redial/test-subset/seed0.jsonl", [{"sample_id": "9001#1", "ranked_items": ["103"]},
                                                               {"sample_id": "9002#2", "ranked_items": ["101"]}])
    _write(preds / "b/redial/redial/test-subset/seed0.jsonl", [{"sample_id": "9002#2", "ranked_items": ["105"]}])
    ids = tmp_path / "redial-test-2.txt"
    ids.write_text("# evaluation subset\n9001#1\n9002#2\n")
    rows = comparison_table([("a", "b")], [("redial", "redial")], preds, fixture_results / "processed",
                            metrics=["recall@10"], n_resamples=200, subsets={"redial": ids})
    (r,) = rows
    # 2 pairs (not the split's 3), one each: 1/2 against 1/2
    assert (r["a"], r["b"], r["difference"], r["pairs"], r["n_clusters"]) == (0.5, 0.5, 0.0, 2, 2)
    md = render_table(rows, "fresh", 200, title="LLM systems", target="recommender", subsets={"redial": ids})
    assert md.startswith("# LLM systems") and "`snakemake recommender`" in md and "(2 ids)" in md
    # a table no target makes names its commands instead of a Snakemake target
    md = render_table(rows, "fresh", 200, target="recommender", regenerate="the commands in docs/x.md")
    assert "Regenerate: the commands in docs/x.md." in md and "snakemake" not in md
    with pytest.raises(BenchmarkError, match="cell redial:inspired has no subset file"):
        comparison_table([("a", "b")], [("redial", "inspired")], preds, fixture_results / "processed",
                         subsets={"redial": ids})


def test_comparison_table_marks_a_pair_made_on_different_machines(tmp_path, fixture_results):
    # a's file says avx2, b's avx512, c has no meta.json (unknown: never marked)
    from benchmark.eval.compare import prediction_device

    preds = tmp_path / "predictions"
    for system, device in (("a", "cpu:x86_64:avx2"), ("b", "cpu:x86_64:avx512"), ("c", None), ("d", "cpu:x86_64:avx2")):
        _write(preds / f"{system}/redial/redial/seed0.jsonl", [{"sample_id": "9001#1", "ranked_items": ["103"]}])
        if device:
            meta = {"provenance": {"device": device}}
            (preds / f"{system}/redial/redial/seed0.meta.json").write_text(json.dumps(meta))
    assert prediction_device(preds / "a/redial/redial/seed0.jsonl") == "cpu:x86_64:avx2"
    assert prediction_device(preds / "c/redial/redial/seed0.jsonl") is None
    rows = comparison_table([("a", "b"), ("a", "c"), ("a", "d")], [("redial", "redial")], preds,
                            fixture_results / "processed", metrics=["recall@10"], n_resamples=50)
    assert [r["mixed_devices"] for r in rows] == [True, False, False]
    assert (rows[0]["a_devices"], rows[0]["b_devices"]) == (["cpu:x86_64:avx2"], ["cpu:x86_64:avx512"])
    md = render_table(rows, "fresh", 50)
    assert "| a − b ‡" in md and "a − c ‡" not in md and "a − d ‡" not in md
    assert "a (cpu:x86_64:avx2) − b (cpu:x86_64:avx512)" in md and md.count("‡") == 2
    assert "‡" not in render_table(rows[1:], "fresh", 50)


def test_comparisons_cli_rejects_a_malformed_pair(tmp_path, capsys):
    assert cli(["comparisons", "--pairs", "dualview", "--cells", "redial:redial", "--out", str(tmp_path / "c.md")]) == 2
    assert "expected A:B pairs" in capsys.readouterr().err
    assert cli(["comparisons", "--pairs", "a:b", "--cells", "redial:redial", "--subset", "redial",
                "--out", str(tmp_path / "c.md")]) == 2
    assert "expected --subset DATASET=IDS_FILE" in capsys.readouterr().err


def test_figure_points_carry_the_table_interval_and_every_figure_is_written(tmp_path):
    results = [json.loads(p.read_text()) for p in METRICS]
    pts = figure_points(results, ["random", "popularity"], "recall@10", "fresh")
    assert {p[0] for p in pts} == {"random", "popularity"}
    for _, _, mean, low, high in pts:
        assert low <= mean <= high
    paths = write_figures(tmp_path, METRICS, ["random", "popularity"], ["popularity"], METRICS, ["popularity"])
    assert [p.name for p in paths] == ["main_fresh_recall.png", "recall_at_k.png", "ablation_fresh_recall.png",
                                       "transfer_heatmap.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.with_suffix(".tsv").is_file()
    assert (tmp_path / "main_fresh_recall.tsv").read_text().startswith("system\tcell\tmean\tlow\thigh\n")
    # popularity: ReDial R@10 in the fixture, plotted on the heat map unrounded
    heat = (tmp_path / "transfer_heatmap.tsv").read_text().splitlines()
    assert heat[0] == "system\tcell\tvalue" and all(line.startswith("popularity\t") for line in heat[1:])


def test_usersim_figure_and_provenance_summary(tmp_path):
    from benchmark.io import write_json
    from benchmark.report.html import provenance_summary
    from tests.unit.test_report import _usersim_result

    paths = []
    for variant in ("trivial-popular", "multitask"):
        r = _usersim_result(variant, 0.1, 0.3)
        r["intervals"] = {"attribute_f1": {"low": 0.2, "high": 0.4}}
        paths.append(tmp_path / f"{variant}.json")
        write_json(paths[-1], r)
    (png,) = write_figures(tmp_path, usersim=paths)
    assert png.name == "usersim.png" and "redial\tmultitask\tattribute_f1\t0.3" in png.with_suffix(".tsv").read_text()
    prov = [tmp_path / "m0.json", tmp_path / "m1.json"]
    for p, rev in zip(prov, ["abc", "abc-dirty"], strict=True):
        write_json(p, {"provenance": {"git": rev, "device": "cpu", "packages": {"torch": "2.13.0"},
                                      "date": "2026-11-27T10:00:00Z"}})
    cells = [[c.strip() for c in re.findall(r"<td>(.*?)</td>", row)]
             for row in re.findall(r"<tr>(.*?)</tr>", provenance_summary(prov))]
    assert ["git revision", "abc-dirty", "1"] in cells and ["date (UTC day)", "2026-11-27", "2"] in cells


def test_html_report_has_every_table_and_embedded_figure(tmp_path):
    (tmp_path / "main.md").write_text("# Main results\n\n| system | R@10 |\n|---|---|\n| popularity | 0.0603 |\n")
    (tmp_path / "transfer.md").write_text("# Transfer\n\n| system | x |\n|---|---|\n| dualview | 0.1 |\n")
    (png,) = [p for p in write_figures(tmp_path, METRICS, ["random"]) if p.name == "main_fresh_recall.png"]
    text = render_report([tmp_path / "main.md", tmp_path / "transfer.md"], [png])
    assert text.count("<table>") == 2 and "<td>0.0603</td>" in text
    assert re.search(r'<img alt="main_fresh_recall" src="data:image/png;base64,iVBORw0KGgo', text)
    assert '<a href="#main">Main results</a>' in text and '<a href="#figure-main-fresh-recall">' in text
    assert "<code>snakemake report</code>" in text
    llm = render_report([tmp_path / "main.md"], title="LLM systems", target="recommender")
    assert "<title>LLM systems</title>" in llm and "<code>snakemake recommender</code>" in llm
    with pytest.raises(InputError, match="missing table"):
        render_report([tmp_path / "nope.md"])
    with pytest.raises(InputError, match="expected a PNG"):
        render_report([tmp_path / "main.md"], [tmp_path / "main.md"])


def test_config_checks_transfer_and_comparison_systems():
    config = load_config()
    config["tables"]["comparisons"]["pairs"].append(["dualview", "smtpo"])
    with pytest.raises(ConfigError, match="'smtpo' is not in run"):
        check_config(config)
    config = load_config()
    config["tables"]["transfer"]["systems"].append("dualveiw")
    with pytest.raises(ConfigError, match="'dualveiw' is not defined under systems"):
        check_config(config)


def test_usersim_table_paired_block_by_hand(tmp_path):
    from benchmark.io import write_json, write_jsonl
    from benchmark.report.usersim_table import write_usersim_table
    from tests.unit.test_report import _usersim_result

    # multitask: counts (2,2,4) and (0,1,2) -> tp 2, pred 3, gold 6: P 2/3, R 1/3, F1 4/9
    # constant:  counts (1,4,4) and (1,4,2) -> tp 2, pred 8, gold 6: P 1/4, R 1/3, F1 2/7
    rows = {"multitask": [(2, 2, 4), (0, 1, 2)], "trivial-popular": [(1, 4, 4), (1, 4, 2)]}
    paths = []
    for variant, counts in rows.items():
        paths.append(tmp_path / variant / "seed0.json")
        write_json(paths[-1], {**_usersim_result(variant, 0.0, 0.3),
                               "attribute_decoding": {"decoding": "scored lam 1.0 k 5 names none"}})
        write_jsonl(tmp_path / variant / "seed0.samples.jsonl",
                    [{"sample_id": f"{n}#1", "dialogue_id": str(n), "attribute_counts": list(c), "target_hit@10": 0}
                     for n, c in enumerate(counts)])
    text = write_usersim_table(paths, tmp_path / "u.md", compare=[("multitask", "trivial-popular")])
    line = next(x for x in text.splitlines() if x.startswith("| multitask − trivial-popular | attribute_f1"))
    cells = [c.strip() for c in line.split("|")[1:-1]]
    assert cells[2:5] == ["0.444", "0.286", "+0.159"] and cells[-1] == "2"  # 4/9 - 2/7 = 0.1587
    # each variant's attribute decoding is named under its dataset's table
    assert "trivial-popular: scored lam 1.0 k 5 names none; multitask: scored lam 1.0 k 5 names none." in text
    with pytest.raises(Exception, match="no evaluation of base"):
        write_usersim_table(paths, tmp_path / "u.md", compare=[("multitask", "base")])


def test_comparison_table_skip_missing_lists_the_pairs_it_could_not_compare(tmp_path, fixture_results):
    # a and b exist on redial->redial, c nowhere: a - b is compared, a - c is named under the table, not dropped
    preds = tmp_path / "predictions"
    _write(preds / "a/redial/redial/seed0.jsonl", [{"sample_id": "9001#1", "ranked_items": ["103"]}])
    _write(preds / "b/redial/redial/seed0.jsonl", [{"sample_id": "9002#2", "ranked_items": ["101"]}])
    rows = comparison_table([("a", "b"), ("a", "c")], [("redial", "redial")], preds, fixture_results / "processed",
                            metrics=["recall@10"], n_resamples=100, skip_missing=True)
    done, skipped = [r for r in rows if "missing" not in r], [r for r in rows if "missing" in r]
    assert [(r["a_system"], r["b_system"]) for r in done] == [("a", "b")] and done[0]["a"] == pytest.approx(1 / 3)
    assert skipped == [{"a_system": "a", "b_system": "c", "train": "redial", "test": "redial", "missing": ["c"]}]
    md = render_table(rows, "fresh", 100)
    assert md.count("| a − ") == 1 and "Not compared (no predictions): a − c on ReDial (c)." in md
    # a file that exists but is broken is still an error, never "missing"
    (preds / "c/redial/redial").mkdir(parents=True)
    (preds / "c/redial/redial/seed0.jsonl").write_text("{not json\n")
    with pytest.raises(BenchmarkError, match="seed0.jsonl"):
        comparison_table([("a", "c")], [("redial", "redial")], preds, fixture_results / "processed",
                         metrics=["recall@10"], n_resamples=100, skip_missing=True)
