import math
import random

import pytest

from benchmark.eval.metrics import KS, first_rank, mean_se, mrr_at_k, ndcg_at_k, recall_at_k, score_ranks


def test_first_rank_takes_first_occurrence_and_keeps_positions():
    assert first_rank(["x", "a", "a", "b"], "a") == 2
    assert first_rank(["x", "unknown-id", "b"], "b") == 3  # non-catalogue ids still occupy positions
    assert first_rank([], "a") is None


@pytest.mark.parametrize(("rank", "k", "recall", "ndcg", "mrr"), [
    (1, 1, 1.0, 1.0, 1.0),
    (2, 1, 0.0, 0.0, 0.0),
    (2, 5, 1.0, 1 / math.log2(3), 0.5),
    (3, 5, 1.0, 0.5, 1 / 3),  # 1/log2(4) = 0.5
    (10, 10, 1.0, 1 / math.log2(11), 0.1),
    (11, 10, 0.0, 0.0, 0.0),
    (None, 50, 0.0, 0.0, 0.0),
])
def test_metric_values_by_hand(rank, k, recall, ndcg, mrr):
    assert recall_at_k(rank, k) == pytest.approx(recall)
    assert ndcg_at_k(rank, k) == pytest.approx(ndcg)
    assert mrr_at_k(rank, k) == pytest.approx(mrr)


def test_mean_se_matches_hand_computation():
    mean, se = mean_se([1.0, 0.0, 0.0, 1.0])
    assert mean == pytest.approx(0.5)
    assert se == pytest.approx(math.sqrt((4 * 0.25 / 3) / 4))  # sample variance 1/3, se = sqrt(var/n)
    assert mean_se([0.3]) == (0.3, 0.0)
    assert all(math.isnan(v) for v in mean_se([]))


def test_score_ranks_averages_over_pairs():
    out = score_ranks([1, 3, None, 12], ks=(1, 10))
    assert out["recall@1"]["mean"] == pytest.approx(0.25)
    assert out["recall@10"]["mean"] == pytest.approx(0.5)
    assert out["ndcg@10"]["mean"] == pytest.approx((1 + 0.5) / 4)
    assert out["mrr@10"]["mean"] == pytest.approx((1 + 1 / 3) / 4)


def test_oracle_agrees_with_ir_measures():
    """Independent implementation (trec_eval via ir-measures) on 300 random rankings, one relevant item each."""
    ir_measures = pytest.importorskip("ir_measures")
    rng = random.Random(7)
    items = [f"i{n}" for n in range(80)]
    qrels, run, ranks = [], [], []
    for q in range(300):
        ranked = rng.sample(items, 50)
        target = rng.choice(items)
        qrels.append(ir_measures.Qrel(f"q{q}", target, 1))
        # trec_eval sorts by score: give strictly decreasing scores in list order
        run.extend(ir_measures.ScoredDoc(f"q{q}", doc, float(100 - i)) for i, doc in enumerate(ranked))
        ranks.append(first_rank(ranked, target))
    ours = score_ranks(ranks, KS)
    for k in (1, 5, 10, 20, 50):
        oracle = ir_measures.calc_aggregate([ir_measures.R @ k, ir_measures.nDCG @ k, ir_measures.RR @ k], qrels, run)
        assert ours[f"recall@{k}"]["mean"] == pytest.approx(oracle[ir_measures.R @ k], abs=1e-12)
        assert ours[f"ndcg@{k}"]["mean"] == pytest.approx(oracle[ir_measures.nDCG @ k], abs=1e-12)
        assert ours[f"mrr@{k}"]["mean"] == pytest.approx(oracle[ir_measures.RR @ k], abs=1e-12)


# ---- dialogue-level (cluster) bootstrap -------------------------------------------------------------------------

def test_bootstrap_identical_clusters_give_zero_width_interval():
    from benchmark.eval.bootstrap import cluster_bootstrap
    # every dialogue holds one hit and one miss: every resample's pooled mean is exactly 0.5
    ci = cluster_bootstrap([1.0, 0.0] * 6, [c for c in "abcdef" for _ in range(2)], n_resamples=300)
    assert (ci.estimate, ci.low, ci.high, ci.n_clusters) == (0.5, 0.5, 0.5, 6)
    assert "cluster bootstrap" in ci.method


def test_bootstrap_one_cluster_per_unit_equals_plain_bootstrap():
    import numpy as np

    from benchmark.eval.bootstrap import cluster_bootstrap
    values = np.random.default_rng(3).random(40)
    ci = cluster_bootstrap(values, [str(i) for i in range(40)], n_resamples=500, seed=11)
    draws = np.random.default_rng(11).integers(0, 40, size=(500, 40))  # the same stream, drawn the plain way
    low, high = np.quantile(values[draws].mean(axis=1), [0.025, 0.975])
    assert ci.estimate == pytest.approx(values.mean())
    assert (ci.low, ci.high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))


def test_bootstrap_custom_statistic_matches_vectorised_mean_and_takes_records():
    import numpy as np

    from benchmark.eval.bootstrap import cluster_bootstrap
    rng = np.random.default_rng(5)
    values = rng.integers(0, 2, 60).astype(float).tolist()
    clusters = [str(i // 4) for i in range(60)]
    fast = cluster_bootstrap(values, clusters, n_resamples=200, seed=2)
    slow = cluster_bootstrap(values, clusters, statistic=lambda v: sum(v) / len(v), n_resamples=200, seed=2)
    assert (slow.estimate, slow.low, slow.high) == pytest.approx((fast.estimate, fast.low, fast.high), abs=1e-12)

    def micro_f1(records):  # (tp, n_pred, n_gold) per unit
        tp, n_pred, n_gold = (sum(r[i] for r in records) for i in range(3))
        return 2 * tp / (n_pred + n_gold)
    f1 = cluster_bootstrap([(1, 2, 2), (0, 1, 1), (2, 2, 3)], ["x", "x", "y"], statistic=micro_f1, n_resamples=50)
    assert f1.estimate == pytest.approx(2 * 3 / (5 + 6))
    assert f1.low <= f1.estimate <= f1.high


def test_bootstrap_within_dialogue_correlation_widens_the_interval():
    import numpy as np

    from benchmark.eval.bootstrap import cluster_bootstrap
    per_dialogue = np.random.default_rng(1).integers(0, 2, 100).astype(float)
    values = np.repeat(per_dialogue, 5)  # 5 identical pairs per dialogue: effective n is 100, not 500
    clustered = cluster_bootstrap(values, [str(i // 5) for i in range(500)], n_resamples=1000)
    iid = cluster_bootstrap(values, [str(i) for i in range(500)], n_resamples=1000)
    ratio = (clustered.high - clustered.low) / (iid.high - iid.low)
    assert 1.8 < ratio < 2.7  # sqrt(5) = 2.24


def test_paired_bootstrap_known_difference_and_null():
    import numpy as np

    from benchmark.eval.bootstrap import paired_bootstrap
    rng = np.random.default_rng(0)
    clusters = [str(i // 3) for i in range(600)]
    b = rng.integers(0, 2, 600).astype(float)
    shifted = paired_bootstrap(b + 0.25, b, clusters, n_resamples=400)  # constant per-unit gain: exact, no spread
    assert shifted["difference"] == pytest.approx(0.25)
    assert shifted["low"] == pytest.approx(0.25) and shifted["high"] == pytest.approx(0.25)
    assert shifted["p_value"] == pytest.approx(1 / 401) and shifted["n_clusters"] == 200
    a = np.where(rng.random(600) < 0.1, 1.0, b)  # a recovers ~10% of b's misses: true gain ~0.05
    d = paired_bootstrap(a, b, clusters, n_resamples=1000)
    assert d["low"] <= float((a - b).mean()) <= d["high"] and d["low"] > 0 and d["p_value"] < 0.01
    same = paired_bootstrap(b, b, clusters, n_resamples=100)
    assert (same["difference"], same["low"], same["high"], same["p_value"]) == (0.0, 0.0, 0.0, 1.0)


def test_bootstrap_bad_input_errors_and_empty():
    from benchmark.eval.bootstrap import cluster_bootstrap, paired_bootstrap
    with pytest.raises(ValueError, match="one label per unit"):
        cluster_bootstrap([1.0, 0.0], ["a"])
    with pytest.raises(ValueError, match="same samples"):
        paired_bootstrap([1.0], [1.0, 0.0], ["a"])
    empty = cluster_bootstrap([], [])
    assert empty.n_clusters == 0 and math.isnan(empty.estimate)
