"""evaluate (hand-computed), the predictions contract, and the sanity systems."""

import json
import math

import pytest

from baselines.sanity import PopularitySystem, RandomSystem, RepeatContextSystem
from benchmark.data.bundle import DatasetBundle
from benchmark.data.context import recent_context_items
from benchmark.errors import InputError
from benchmark.eval.evaluate import evaluate, evaluate_rankings
from benchmark.eval.predictions import read_predictions
from benchmark.io import read_json, read_jsonl
from benchmark.systems.base import System
from benchmark.systems.predict import predict

SAMPLES = [
    {"sample_id": "s1", "targets": ["a", "b"], "context_items": ["b"], "context": []},
    {"sample_id": "s2", "targets": ["c"], "context_items": [], "context": []},
    {"sample_id": "s3", "targets": ["d"], "context_items": [], "context": []},
]


def test_evaluate_rankings_by_hand():
    preds = {"s1": {"ranked_items": ["x", "a", "b"]}, "s2": {"ranked_items": ["zz", "c", "c"]}}  # s3 missing
    out = evaluate_rankings(SAMPLES, preds, catalog_ids={"a", "b", "c", "d", "x"}, ks=(1, 2, 3))
    # all: ranks a=2, b=3, c=2, d=None -> 4 pairs
    m = out["all"]["metrics"]
    assert out["all"]["counts"]["pairs"] == 4 and out["all"]["counts"]["samples"] == 3
    assert m["recall@1"]["mean"] == 0
    assert m["recall@2"]["mean"] == pytest.approx(2 / 4)
    assert m["recall@3"]["mean"] == pytest.approx(3 / 4)
    assert m["ndcg@3"]["mean"] == pytest.approx((1 / math.log2(3) + 0.5 + 1 / math.log2(3)) / 4)
    assert m["mrr@3"]["mean"] == pytest.approx((0.5 + 1 / 3 + 0.5) / 4)
    # fresh: b dropped (in the context) -> pairs a=2, c=2, d=None
    f = out["fresh"]["metrics"]
    assert out["fresh"]["counts"]["pairs"] == 3
    assert f["recall@2"]["mean"] == pytest.approx(2 / 3)
    counts = out["all"]["counts"]
    assert counts["missing_predictions"] == 1 and counts["missing_examples"] == ["s3"]
    assert counts["unknown_items_in_top"] == 1 and counts["duplicate_items_in_top"] == 1
    assert out["fresh"]["card"]["catalog_size"] == 5


@pytest.mark.parametrize(("line", "message"), [
    ('{"sample_id": "s1", "ranked_items": ["a"]', "line 2: malformed JSON"),
    ('{"sample_id": "s1"}', "line 2: expected an object with keys"),
    ('{"sample_id": "nope", "ranked_items": []}', "line 2: sample_id 'nope' is not a sample"),
    ('{"sample_id": "s2", "ranked_items": "a"}', "line 2: ranked_items must be a list"),
    ('{"sample_id": "s2", "ranked_items": ["a"]}', "line 2: duplicate prediction for sample_id 's2'"),
])
def test_malformed_predictions_lines(tmp_path, line, message):
    p = tmp_path / "p.jsonl"
    p.write_text('{"sample_id": "s2", "ranked_items": [1, "a"]}\n' + line + "\n")
    with pytest.raises(InputError, match=message):
        read_predictions(p, ["s1", "s2"])


def test_integer_ids_are_accepted_as_strings(tmp_path):
    p = tmp_path / "p.jsonl"
    p.write_text('{"sample_id": "s2", "ranked_items": [101, "a"], "parse_status": "ok"}\n')
    assert read_predictions(p, ["s2"])["s2"]["ranked_items"] == ["101", "a"]


def test_malformed_predictions_leave_earlier_metrics_intact(tmp_path, fixture_results):
    processed = fixture_results / "processed/redial"
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"sample_id": "9001#1", "ranked_items": ["103"]}) + "\n")
    out = tmp_path / "metrics.json"
    evaluate(good, processed, "test", out, "mine", "redial", "redial", 0)
    before = out.read_bytes()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"sample_id": "9001#1", "ranked_items": ["103"]}) + "\n{oops\n")
    with pytest.raises(InputError, match=r"bad\.jsonl, line 2"):
        evaluate(bad, processed, "test", out, "mine", "redial", "redial", 0)
    assert out.read_bytes() == before


def test_evaluate_writes_provenance_and_counts_missing(tmp_path, fixture_results):
    p = tmp_path / "p.jsonl"
    p.write_text(json.dumps({"sample_id": "9001#1", "ranked_items": ["101", "103"]}) + "\n")
    res = evaluate(p, fixture_results / "processed/redial", "test", tmp_path / "m.json", "mine", "redial",
                   "redial", 3)
    assert res["protocols"]["all"]["counts"]["missing_predictions"] == 2
    # all: 103 at rank 2, 101 at rank 1, 104 and 105 missing -> R@1 = 1/4, R@5 = 2/4
    assert res["protocols"]["all"]["metrics"]["recall@1"]["mean"] == pytest.approx(0.25)
    assert res["protocols"]["all"]["metrics"]["recall@5"]["mean"] == pytest.approx(0.5)
    # fresh: 101 was in the context -> pairs 103 (rank 2), 104, 105 -> R@1 = 0, R@5 = 1/3
    assert res["protocols"]["fresh"]["metrics"]["recall@5"]["mean"] == pytest.approx(1 / 3)
    prov = res["provenance"]
    assert prov["seed"] == 3 and len(prov["inputs"]["samples"]["sha256"]) == 64 and "git" in prov


def test_systems_satisfy_the_protocol():
    for cls in (RandomSystem, PopularitySystem, RepeatContextSystem):
        assert isinstance(cls(), System)


def test_popularity_counts_turn_mentions(fixture_results):
    bundle = DatasetBundle(fixture_results / "processed/redial")
    pop = PopularitySystem()
    pop.fit(bundle, seed=0)
    train_items = [i for d in bundle.dialogues("train") for t in d["turns"] for i in t["items"]]
    assert sum(pop.counts.values()) == len(train_items)
    ranking = pop.ranking(bundle.catalog)
    assert pop.counts[ranking[0]] == max(pop.counts.values())
    assert ranking == sorted(bundle.catalog.ids, key=lambda i: (-pop.counts.get(i, 0), i))


def test_popularity_transfers_through_the_unified_key(fixture_results):
    pop = PopularitySystem()
    pop.fit(DatasetBundle(fixture_results / "processed/redial"), seed=0)
    inspired = DatasetBundle(fixture_results / "processed/inspired").catalog
    scores = pop.scores(inspired)
    assert scores["The Lion King (1994)"] == pop.counts["106"]  # same key as ReDial 106
    assert scores["UNKNOWN_MOVIE_77"] == 0.0


def test_repeat_context_most_recent_first_and_fresh_zero():
    s = {"sample_id": "x", "context": [{"items": ["a", "b"]}, {"items": []}, {"items": ["c", "a"]}],
         "targets": ["a", "z"], "context_items": ["a", "b", "c"]}
    assert recent_context_items(s) == ["a", "c", "b"]


def test_random_is_seeded_per_sample(fixture_results):
    bundle = DatasetBundle(fixture_results / "processed/redial")
    samples = bundle.samples("test")
    r = RandomSystem()
    r.fit(bundle, seed=5)
    a = r.recommend(samples, bundle.catalog, 4)
    b = r.recommend(list(reversed(samples)), bundle.catalog, 4)[::-1]
    assert a == b and all(len(set(x)) == 4 for x in a)
    r.fit(bundle, seed=6)
    assert r.recommend(samples, bundle.catalog, 4) != a


@pytest.mark.parametrize("system", ["random", "popularity", "repeat-context"])
def test_predict_is_deterministic_and_complete(tmp_path, fixture_results, system):
    proc = fixture_results / "processed/redial"
    n1 = predict(system, proc, proc, "test", tmp_path / "a.jsonl", seed=0, k=5, progress=False)
    predict(system, proc, proc, "test", tmp_path / "b.jsonl", seed=0, k=5, progress=False)
    assert n1 == 3 and (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
    rows = read_jsonl(tmp_path / "a.jsonl")
    catalog = {it["item_id"] for it in read_jsonl(proc / "catalog.jsonl")}
    assert all(len(r["ranked_items"]) == 5 and set(r["ranked_items"]) <= catalog for r in rows)
    assert read_json(tmp_path / "a.meta.json")["system"] == system


def test_repeat_context_only_never_hits_under_fresh(tmp_path, fixture_results):
    proc = fixture_results / "processed/redial"
    predict("repeat-context", proc, proc, "test", tmp_path / "p.jsonl", params={"fill": "none"}, progress=False)
    res = evaluate(tmp_path / "p.jsonl", proc, "test", tmp_path / "m.json", "rc", "redial", "redial", 0)
    assert all(v["mean"] == 0 for v in res["protocols"]["fresh"]["metrics"].values())
    # 9001#1: context [101, 102] -> ranking [102, 101]: target 101 at rank 2, 103 absent; the other pairs miss
    assert res["protocols"]["all"]["metrics"]["recall@1"]["mean"] == 0
    assert res["protocols"]["all"]["metrics"]["mrr@5"]["mean"] == pytest.approx(0.5 / 4)


def test_evaluate_stores_dialogue_level_intervals():
    samples = [{"sample_id": f"d{i // 2}#{i}", "dialogue_id": f"d{i // 2}", "targets": ["a"], "context_items": [],
                "context": []} for i in range(8)]
    preds = {s["sample_id"]: {"ranked_items": ["a"] if i % 2 == 0 else ["x"]} for i, s in enumerate(samples)}
    out = evaluate_rankings(samples, preds, catalog_ids={"a", "x"}, ks=(1,))
    m = out["all"]["metrics"]["recall@1"]
    # every dialogue has one hit and one miss -> every resample of dialogues gives exactly 0.5
    assert (m["mean"], m["ci_low"], m["ci_high"]) == (0.5, 0.5, 0.5) and m["se"] > 0
    card = out["all"]["card"]
    assert card["dialogues"] == 4 and "cluster bootstrap" in card["interval"]
    # without a dialogue_id field the cluster is the sample_id's prefix before '#'
    out2 = evaluate_rankings([{k: v for k, v in s.items() if k != "dialogue_id"} for s in samples], preds,
                             catalog_ids={"a", "x"}, ks=(1,))
    assert out2["all"]["metrics"]["recall@1"] == m


def test_compare_paired_difference_by_hand(tmp_path, fixture_results):
    from benchmark.cli import main as cli
    from benchmark.eval.compare import compare_rankings

    a = {"s1": ["a", "b"], "s2": ["c"], "s3": []}
    b = {"s1": ["b", "a"], "s2": [], "s3": []}
    out = compare_rankings(SAMPLES, a, b, ["recall@1"], n_resamples=200)
    # all: A hits a, c (2/4); B hits b (1/4) -> +0.25; fresh (b dropped): A 2/3, B 0/3 -> +0.667
    assert out["all"]["recall@1"]["difference"] == pytest.approx(0.25)
    assert out["fresh"]["recall@1"]["difference"] == pytest.approx(2 / 3)
    assert out["fresh"]["recall@1"]["n_clusters"] == 3 and out["fresh"]["recall@1"]["pairs"] == 3
    same = compare_rankings(SAMPLES, a, a, ["recall@1", "ndcg@5"], n_resamples=50)
    assert same["all"]["ndcg@5"]["p_value"] == 1.0 and same["all"]["ndcg@5"]["difference"] == 0
    proc = fixture_results / "processed/redial"
    for system in ("popularity", "random"):
        predict(system, proc, proc, "test", tmp_path / f"{system}.jsonl", seed=0, k=5, progress=False)
    assert cli(["compare", "--a", str(tmp_path / "popularity.jsonl"), "--b", str(tmp_path / "random.jsonl"),
                "--processed", str(proc), "--metrics", "recall@5", "--out", str(tmp_path / "c.json")]) == 0
    report = read_json(tmp_path / "c.json")
    assert set(report["protocols"]) == {"all", "fresh"} and "paired" in report["method"]
    assert cli(["compare", "--a", str(tmp_path / "popularity.jsonl"), "--b", str(tmp_path / "random.jsonl"),
                "--processed", str(proc), "--metrics", "hits@5"]) == 2


def test_exclude_context_drops_context_items_keeps_k_and_is_recorded(tmp_path, fixture_results):
    proc = fixture_results / "processed/redial"
    predict("repeat-context", proc, proc, "test", tmp_path / "x.jsonl", seed=0, k=4, progress=False,
            exclude_context=True)
    samples = {s["sample_id"]: s for s in read_jsonl(proc / "test.samples.jsonl")}
    rows = read_jsonl(tmp_path / "x.jsonl")
    n_items = len(read_jsonl(proc / "catalog.jsonl"))  # 6 films in the fixture
    # repeat-context ranks context items first: with the option they are all gone and popularity fills up to k = 4
    for r in rows:
        context = set(samples[r["sample_id"]]["context_items"])
        assert not set(r["ranked_items"]) & context and len(r["ranked_items"]) == min(4, n_items - len(context))
    assert any(samples[r["sample_id"]]["context_items"] for r in rows)  # the case is exercised
    assert read_json(tmp_path / "x.meta.json")["exclude_context"] is True
    res = evaluate(tmp_path / "x.jsonl", proc, "test", tmp_path / "m.json", "rc-x", "redial", "redial", 0)
    assert res["protocols"]["fresh"]["card"]["exclude_context"] is True
