"""Answer depth: trust the recommender's first ``m`` answered candidates only, then the retriever's order.

    python -m benchmark answer-depth --processed results/processed/inspired \\
        --valid results/predictions/smtpo/inspired/inspired/valid-subset/seed0.jsonl \\
        --valid-subset results/subsets/inspired-valid-100-seed0.txt \\
        --test results/predictions/smtpo/inspired/inspired/test-subset/seed0.jsonl \\
        --out results/predictions/smtpo-depth/inspired/inspired/test-subset/seed0.jsonl

Why (docs/recommender.md, "Remedies"): the 135M recommender explains one or two candidates in its trace and then
fills the answer with runs of consecutive numbers or repeats (90% of answers are not ``ok``). Those filler numbers
push the retriever's better-ordered candidates out of the top 10. Depth ``m`` keeps the first ``m`` answered items
and continues with the turn's candidates in retriever order, then the rest of the ranking; ``m = 10`` is the
method's own ranking and ``m = 0`` the retriever's order (for ``smtpo``, the retriever after the simulator's
feedback). Only the final ranking changes: the episode (what the simulator saw) is the one that was run.

``m`` is chosen on **validation** predictions (fresh Recall@10, ties to the larger ``m``: the method as it was
trained) and applied to the test predictions, which are re-ranked offline from what every prediction row keeps
(the last turn's answer, shown order and candidates in retriever order), so no model is run again.

>>> row = {"candidate_order": ["c", "a", "b"], "candidate_ids": ["a", "b", "c"], "raw_text": "<answer>1, 3</answer>",
...        "ranked_items": ["c", "b", "a", "x"]}
>>> at_depth(row, 2, 4), at_depth(row, 1, 4), at_depth(row, 0, 4)
(['c', 'b', 'a', 'x'], ['c', 'a', 'b', 'x'], ['a', 'b', 'c', 'x'])
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from benchmark.errors import BenchmarkError
from benchmark.eval.evaluate import pair_ranks
from benchmark.eval.metrics import recall_at_k
from benchmark.recommender.parse import parse_answer
from benchmark.recommender.prompt import K_ANSWER

DEPTHS = tuple(range(K_ANSWER + 1))  # 0 (retriever order) .. 10 (the method's ranking)


def final_answer(row: dict) -> tuple[list[str], list[str]]:
    """(answered item ids in answer order, the answering turn's candidates in retriever order) of a prediction row:
    an ``smtpo`` row's last episode turn, or a single-turn row's ``raw_text`` over ``candidate_order``."""
    episode = row.get("episode")
    if episode:
        last = episode["turns"][-1]
        return [last["order"][n - 1] for n in last["numbers"]], list(last["candidate_ids"])
    if "candidate_ids" not in row or "candidate_order" not in row:
        raise BenchmarkError(f"prediction {row.get('sample_id')}: no episode and no candidate_ids/candidate_order; "
                             "answer depth needs predictions of an LLM recommender made by this version of predict")
    order = row["candidate_order"]
    numbers = parse_answer(row["raw_text"], len(order), K_ANSWER).numbers
    return [order[n - 1] for n in numbers], list(row["candidate_ids"])


def at_depth(row: dict, depth: int, k: int) -> list[str]:
    """The row's ranking with only the first ``depth`` answered items trusted (``m = 10``: ``ranked_items``)."""
    answered, candidates = final_answer(row)
    head = list(dict.fromkeys(answered[:depth]))
    ranking = head + [c for c in candidates if c not in set(head)]
    return (ranking + [i for i in row["ranked_items"] if i not in set(ranking)])[:k]


def recall_curve(samples: Sequence[dict], rows: dict[str, dict], protocol: str = "fresh", k: int = 10,
                 depths: Sequence[int] = DEPTHS) -> dict[int, float]:
    """Mean per-pair Recall@k under ``protocol`` at each depth (the evaluation's pairs, ``pair_ranks``)."""
    curve = {}
    for m in depths:
        lists = {sid: at_depth(row, m, max(k, K_ANSWER)) for sid, row in rows.items()}
        ranks, _, _ = pair_ranks(samples, lists, protocol)
        curve[m] = sum(recall_at_k(r, k) for r in ranks) / len(ranks) if ranks else 0.0
    return curve


def choose_depth(curve: dict[int, float]) -> int:
    """The depth with the best score; a tie goes to the larger depth (closest to the method as trained).

    >>> choose_depth({0: 0.1, 3: 0.2, 10: 0.2}), choose_depth({0: 0.3, 10: 0.2})
    (10, 0)
    """
    best = max(curve.values())
    return max(m for m, v in curve.items() if v == best)


def main(processed: str | os.PathLike, valid: str | os.PathLike, valid_subset: str | os.PathLike | None,
         test: str | os.PathLike, out: str | os.PathLike, k: int = 50, protocol: str = "fresh") -> dict:
    """Choose the depth on ``valid``, write ``test`` re-ranked at it to ``out`` (+ ``.meta.json``); the report."""
    from pathlib import Path

    from benchmark.eval.evaluate import predictions_meta_path
    from benchmark.eval.predictions import read_predictions, write_predictions
    from benchmark.io import read_json, read_jsonl, write_json
    from benchmark.provenance import provenance

    samples = read_jsonl(Path(processed) / "valid.samples.jsonl", "validation samples")
    if valid_subset:
        from benchmark.recommender.subset import restrict

        samples = restrict(samples, valid_subset)
    valid_rows = read_predictions(valid, (s["sample_id"] for s in samples))
    if missing := [s["sample_id"] for s in samples if s["sample_id"] not in valid_rows]:
        raise BenchmarkError(f"{valid}: no prediction for {len(missing)} validation samples, e.g. {missing[:3]}")
    curve = recall_curve(samples, valid_rows, protocol)
    depth = choose_depth(curve)
    test_rows = read_predictions(test)
    rows = [{**row, "ranked_items": at_depth(row, depth, k), "answer_depth": depth} for row in test_rows.values()]
    write_predictions(out, rows)
    meta = read_json(predictions_meta_path(test), "test predictions meta")
    report = {"depth": depth, "chosen_on": {"predictions": str(valid), "subset": str(valid_subset),
                                            "metric": f"{protocol} recall@10", "curve": curve},
              "source": str(test)}
    meta.update({"params": {**meta.get("params", {}), "answer_depth": depth}, "answer_depth": report,
                 "provenance": provenance(inputs={"valid": valid, "test": test},
                                          extra={"source": meta.get("provenance")})})
    write_json(predictions_meta_path(out), meta)
    return report
