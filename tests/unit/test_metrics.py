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
