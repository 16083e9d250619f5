"""Simulator-quality arithmetic: per-sample scores and their dialogue-level bootstrap intervals (pure functions).

Per sample (one test turn) ``eval-usersim`` stores a row; the metrics are pooled from the rows:

* ``target_hit@k``: mean over samples of "a fresh target is among the first k fuzzy-matched names";
* attributes: micro precision / recall / F1 of (field, value) pairs, pooled ``(tp, n_pred, n_gold)`` over the
  samples whose target has metadata (an unparseable answer predicts no pair);
* feedback: perplexity = exp(sum NLL / sum tokens) of the real replies; unigram F1 and embedding cosine means;
* leakage: share of samples whose reply to a counterfactual offer named a held-out target (guard, reply scan).

Each metric gets a 95% interval from ``benchmark.eval.bootstrap.cluster_bootstrap`` with the dialogue as cluster.

>>> attribute_counts("genres: drama, comedy | director: none | cast: A", {"genres": ["Drama"], "cast": ["B"]})
(1, 3, 2, True)
>>> micro_prf([(1, 3, 2), (1, 1, 2)])
(0.5, 0.5, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from benchmark.eval.bootstrap import cluster_bootstrap, paired_statistic_bootstrap
from benchmark.usersim import templates


def gold_pairs(values: dict) -> set[tuple[str, str]]:
    return {(f, v.lower()) for f in templates.ATTRIBUTE_FIELDS for v in (values.get(f) or [])}


def attribute_counts(text: str, gold_values: dict) -> tuple[int, int, int, bool]:
    """(true positives, predicted pairs, gold pairs, parsed) of one attribute answer against ``gold_values``
    (``templates.attribute_values`` of the target)."""
    parsed = templates.parse_attributes(text)
    pred = {(f, v) for f, vals in (parsed or {}).items() for v in vals}
    gold = gold_pairs(gold_values)
    return len(pred & gold), len(pred), len(gold), parsed is not None


def micro_prf(counts: Sequence[Sequence[int]]) -> tuple[float, float, float]:
    tp, n_pred, n_gold = (sum(c[i] for c in counts) for i in range(3))
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def perplexity(nll_tokens: Sequence[Sequence[float]]) -> float:
    return math.exp(sum(x for x, _ in nll_tokens) / max(1, sum(t for _, t in nll_tokens)))


def _interval(values, clusters, statistic=None, seed: int = 0) -> dict:
    ci = cluster_bootstrap(values, clusters, statistic=statistic, seed=seed)
    return {"estimate": ci.estimate, "low": ci.low, "high": ci.high, "n_clusters": ci.n_clusters}


def metrics_from_rows(rows: Sequence[dict], seed: int = 0) -> tuple[dict, dict]:
    """(metrics, intervals) from the per-sample rows written by ``eval-usersim`` (see ``evaluate.sample_row``)."""
    def col(key):
        sub = [r for r in rows if r.get(key) is not None]
        return [r[key] for r in sub], [r["dialogue_id"] for r in sub]

    intervals: dict[str, dict] = {}
    for key in ("target_hit@1", "target_hit@10", "feedback_token_f1", "feedback_cosine", "leaked"):
        values, clusters = col(key)
        if values:
            intervals["leakage_rate" if key == "leaked" else key] = _interval(values, clusters, seed=seed)
    attr, clusters = col("attribute_counts")
    if attr:
        for i, name in enumerate(("attribute_precision", "attribute_recall", "attribute_f1")):
            intervals[name] = _interval(attr, clusters, statistic=lambda c, i=i: micro_prf(c)[i], seed=seed)
    nll, clusters = col("reply_nll")
    if nll:
        intervals["feedback_perplexity"] = _interval(nll, clusters, statistic=perplexity, seed=seed)
    metrics = {k: v["estimate"] for k, v in intervals.items()}
    metrics["attribute_parse_failures"] = sum(1 for r in rows if r.get("attribute_parsed") is False)
    return metrics, intervals


PAIRED_METRICS = {  # metric -> (per-sample key, statistic over the pooled values)
    "attribute_f1": ("attribute_counts", lambda c: micro_prf(c)[2]),
    "target_hit@10": ("target_hit@10", lambda v: sum(v) / len(v)),
}


def paired_difference(rows_a: Sequence[dict], rows_b: Sequence[dict], metric: str, seed: int = 0) -> dict:
    """A - B of one simulator metric over the test turns both scored (joined on ``sample_id``), with the paired
    dialogue-level bootstrap interval and p (``paired_statistic_bootstrap``).

    >>> a = [{"sample_id": "1#1", "dialogue_id": "1", "attribute_counts": [2, 2, 4]}]
    >>> b = [{"sample_id": "1#1", "dialogue_id": "1", "attribute_counts": [1, 4, 4]}]
    >>> round(paired_difference(a, b, "attribute_f1")["difference"], 4)  # F1 2/3 - 1/4
    0.4167
    """
    if metric not in PAIRED_METRICS:
        raise ValueError(f"paired simulator metric {metric!r}: expected one of {sorted(PAIRED_METRICS)}")
    key, statistic = PAIRED_METRICS[metric]
    by_id = {r["sample_id"]: r for r in rows_b if r.get(key) is not None}
    both = [(r, by_id[r["sample_id"]]) for r in rows_a if r.get(key) is not None and r["sample_id"] in by_id]
    res = paired_statistic_bootstrap([x[key] for x, _ in both], [y[key] for _, y in both],
                                     [x["dialogue_id"] for x, _ in both], statistic, seed=seed)
    if both:
        res["a"] = statistic([x[key] for x, _ in both])
        res["b"] = statistic([y[key] for _, y in both])
    return {**res, "samples": len(both)}
