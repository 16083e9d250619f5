"""Ranking metrics for one (sample, target) pair, as pure functions of the target's rank.

Definitional choices, the same for every system and table:

* The unit is one (sample, target) pair: a recommender turn that mentions three films gives three pairs,
  each scored against the same ranked list (one relevant item per pair, so the ideal DCG is 1).
* ``rank`` is the 1-based position of the target's **first** occurrence in the ranked list as submitted
  (``None`` when absent). Positions are not compacted: an id outside the catalogue or a repeated id still
  occupies its position (it just can never be a hit). This is also what He et al. (CIKM 2023) compute.
* A sample with no prediction counts as a miss for each of its pairs (never dropped).
* Reported values are means over pairs; ``se`` is the standard error of the mean with the sample standard
  deviation (n - 1), as in He et al.'s ``summary.csv``.

>>> recall_at_k(3, 5), recall_at_k(6, 5), recall_at_k(None, 5)
(1.0, 0.0, 0.0)
>>> round(ndcg_at_k(3, 5), 4)  # 1 / log2(3 + 1)
0.5
>>> mrr_at_k(4, 10)
0.25
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

KS = (1, 5, 10, 20, 50)


def first_rank(ranked: Sequence[str], target: str) -> int | None:
    """1-based position of the first occurrence of ``target`` in ``ranked``; ``None`` if absent."""
    for i, item in enumerate(ranked):
        if item == target:
            return i + 1
    return None


def recall_at_k(rank: int | None, k: int) -> float:
    """Recall@k = 1 if the target is within the top k (rank <= k), else 0 (a hit rate: one target per pair)."""
    return 1.0 if rank is not None and rank <= k else 0.0


def ndcg_at_k(rank: int | None, k: int) -> float:
    """NDCG@k = 1 / log2(rank + 1) for a hit at ``rank`` <= k, else 0 (binary gain, ideal DCG = 1)."""
    return 1.0 / math.log2(rank + 1) if rank is not None and rank <= k else 0.0


def mrr_at_k(rank: int | None, k: int) -> float:
    """MRR@k = 1 / rank for a hit at ``rank`` <= k, else 0."""
    return 1.0 / rank if rank is not None and rank <= k else 0.0


METRICS: dict[str, Callable[[int | None, int], float]] = {"recall": recall_at_k, "ndcg": ndcg_at_k, "mrr": mrr_at_k}


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error (sample std with n - 1; 0 for n < 2). Empty input -> (nan, nan)."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    mean = math.fsum(values) / n
    if n < 2:
        return mean, 0.0
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)


def per_pair_values(ranks: Sequence[int | None], ks: Sequence[int] = KS) -> dict[str, list[float]]:
    """``{"recall@10": [value per pair], ...}``: the per-pair metric values (input of means and bootstraps)."""
    return {f"{name}@{k}": [fn(r, k) for r in ranks] for name, fn in METRICS.items() for k in ks}


def score_ranks(ranks: Sequence[int | None], ks: Sequence[int] = KS, clusters: Sequence[str] | None = None,
                n_resamples: int = 1000, seed: int = 0) -> dict[str, dict[str, float]]:
    """``{"recall@10": {"mean": ..., "se": ...}, ...}`` over the given per-pair ranks.

    With ``clusters`` (the dialogue id of each pair) every metric also gets ``ci_low``/``ci_high``: the 95%
    dialogue-level cluster bootstrap interval (``benchmark.eval.bootstrap``; ``n_resamples`` draws, ``seed``).
    """
    columns = per_pair_values(ranks, ks)
    out = {}
    for name, values in columns.items():
        mean, se = mean_se(values)
        out[name] = {"mean": mean, "se": se}
    if clusters is not None:
        from benchmark.eval.bootstrap import mean_intervals

        for name, ci in mean_intervals(columns, clusters, n_resamples=n_resamples, seed=seed).items():
            out[name].update(ci_low=ci.low, ci_high=ci.high)
    return out
