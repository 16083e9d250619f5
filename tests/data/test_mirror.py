"""Data tier: the real mirror in ../shared (skips with a reason when it is absent). Runs in CI here."""

import shutil

import pytest

from benchmark.data.acquire import acquire
from benchmark.data.process import process
from benchmark.eval.he2023 import crosscheck
from benchmark.io import read_json, read_jsonl
from tests.conftest import SHARED, mirror_or_skip

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    mirrors = {name: mirror_or_skip(name) for name in ("redial", "inspired")}
    root = tmp_path_factory.mktemp("real")
    manifests = {name: acquire(name, root / "raw" / name, mirror=m, progress=False) for name, m in mirrors.items()}
    stats = {
        "redial": process("redial", root / "raw/redial", root / "processed/redial", options={"valid_fraction": 0.1}),
        "inspired": process("inspired", root / "raw/inspired", root / "processed/inspired",
                            aux={"redial": str(root / "raw/redial")}),
    }
    return root, manifests, stats


def test_official_counts(real):
    _, _, stats = real
    assert stats["redial"]["splits"]["test"]["dialogues"] == 1342
    assert stats["inspired"]["splits"]["valid"]["dialogues"] == 99
    assert stats["inspired"]["splits"]["test"]["dialogues"] == 99
    assert stats["redial"]["twins"]["items_before"] == 6924  # movies_with_mentions.csv
    assert stats["redial"]["catalog"]["items"] == 6924 - stats["redial"]["twins"]["aliases"]
    # MIRROR.md: 265 INSPIRED test recommendation turns (recommender utterances with a movie)
    assert stats["inspired"]["splits"]["test"]["samples"] == 265
    assert stats["inspired"]["splits"]["valid"]["samples"] == 283


def test_partial_files_are_flagged_and_exact_files_pass(real):
    _, manifests, _ = real
    redial = {f["file"]: f for f in manifests["redial"]["files"]}
    assert redial["test_data.jsonl"]["official"] and redial["movies_with_mentions.csv"]["official"]
    assert redial["id2info.json"]["official"]
    assert not redial["train_data.jsonl"]["official"] and "partial reconstruction" in redial["train_data.jsonl"]["note"]
    inspired = {f["file"]: f for f in manifests["inspired"]["files"]}
    assert inspired["dialog_data/dev.tsv"]["official"] and inspired["dialog_data/test.tsv"]["official"]
    assert not inspired["dialog_data/train.tsv"]["official"]


def test_inspired_untitled_movies_kept_distinct(real):
    root, _, stats = real
    catalog = read_jsonl(root / "processed/inspired/catalog.jsonl")
    untitled = [it for it in catalog if not it["has_title"]]
    assert len(untitled) == stats["inspired"]["catalog"]["untitled"] == 1171  # MIRROR.md: 1,171 distinct ids
    test_targets = {t for s in read_jsonl(root / "processed/inspired/test.samples.jsonl") for t in s["targets"]}
    assert not any(t.startswith("UNKNOWN_MOVIE_") for t in test_targets)


def test_he2023_crosscheck_reproduces_every_published_value():
    root = SHARED / "external" / "he2023-zero-shot-crs"
    if not root.is_dir():
        pytest.skip(f"data tier: He et al. predictions absent at {root}")
    report = crosscheck(root, tol=1e-6)
    assert len(report["cells"]) == 4 * 4 * 3  # models x variants x conditions
    assert report["all_ok"], [c for c in report["cells"] if not c["ok"]]
    assert {c["pairs"] for c in report["cells"] if c["condition"] == "all"} == {253}


def test_inspired_metadata_does_not_depend_on_test_rows(real, tmp_path):
    """Blank every annotation column of the official test.tsv: the catalogue must not change at all."""
    root, _, _ = real
    mirror = tmp_path / "mirror"
    shutil.copytree(mirror_or_skip("inspired"), mirror)
    path = mirror / "dialog_data/test.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines[1:]]
    annotated = sum(bool(r[7] or r[8]) for r in rows)
    assert annotated > 100  # the official file does annotate genres/people on test rows
    for r in rows:
        r[7] = r[8] = ""  # genres, people_names
        r[10:14] = ["{}"] * 4  # genre/actor/director/others dicts
    path.write_text("\n".join([lines[0]] + ["\t".join(r) for r in rows]) + "\n", encoding="utf-8")
    acquire("inspired", tmp_path / "raw", mirror=mirror, progress=False)
    process("inspired", tmp_path / "raw", tmp_path / "out", aux={"redial": str(root / "raw/redial")})
    assert read_jsonl(tmp_path / "out/catalog.jsonl") == read_jsonl(root / "processed/inspired/catalog.jsonl")


def test_one_identity_per_movie(real):
    root, _, stats = real
    redial = {it["item_id"]: it for it in read_jsonl(root / "processed/redial/catalog.jsonl")}
    twins = read_json(root / "processed/redial/twins.json")
    aliases = {a for g in twins["groups"] for a in g["aliases"]}
    assert aliases and not aliases & set(redial) and len(aliases) == stats["redial"]["twins"]["aliases"]
    # id2info gives Goodfellas (1990) and It (1990) one IMDb id; different titles stay different films
    assert {"143198", "204794"} <= set(redial)
    assert any(set(c["ids"]) == {"143198", "204794"} for c in twins["conflicts"])
    for ds in ("redial", "inspired"):
        for split in ("train", "valid", "test"):
            for s in read_jsonl(root / f"processed/{ds}/{split}.samples.jsonl"):
                assert len(set(s["targets"])) == len(s["targets"]) and not set(s["targets"]) & aliases
    inspired = {it["item_id"]: it for it in read_jsonl(root / "processed/inspired/catalog.jsonl")}
    matrix = [it for it in inspired.values() if it["title"] in ("Matrix", "The Matrix")]
    assert len(matrix) == 1 and len(matrix[0]["aliases"]) == 1


def test_released_reference_predictions_recompute_every_committed_cell(real):
    """Every reference cell (results/reference/metrics) is recomputed from its released predictions
    (results/reference/predictions/...jsonl.gz) on freshly processed data: every mean, both protocols, all k."""
    from benchmark.eval.evaluate import pair_ranks
    from benchmark.eval.metrics import score_ranks
    from benchmark.eval.predictions import read_predictions
    from benchmark.recommender.subset import restrict
    from tests.conftest import ROOT

    root, _, _ = real
    ref = ROOT / "results/reference"
    cells = sorted((ref / "metrics").rglob("seed*.json"))
    if not (ref / "predictions").is_dir():
        pytest.skip("results/reference/predictions absent (reference made before predictions were released)")
    samples = {d: read_jsonl(root / f"processed/{d}/test.samples.jsonl") for d in ("redial", "inspired")}
    for path in cells:
        committed = read_json(path)
        rel = path.relative_to(ref / "metrics")
        gz = ref / "predictions" / rel.with_suffix(".jsonl.gz")
        assert gz.is_file(), f"{rel}: no released predictions at {gz}"
        rows = samples[committed["test_dataset"]]
        subset = next(iter(committed["protocols"].values()))["card"].get("subset")
        if subset:
            rows = restrict(rows, ROOT / subset["file"])
        lists = {sid: p["ranked_items"] for sid, p in read_predictions(gz, [s["sample_id"] for s in rows]).items()}
        for protocol, block in committed["protocols"].items():
            ranks, _, _ = pair_ranks(rows, lists, protocol)
            ks = block["card"]["ks"]
            ours = score_ranks(ranks, ks)
            for metric, value in block["metrics"].items():
                assert ours[metric]["mean"] == pytest.approx(value["mean"], abs=1e-12), (rel, protocol, metric)
