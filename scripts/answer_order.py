"""Diagnostic: does an LLM recommender's answer tail follow the retriever's order, or is it filler?

For each prediction row with an ``<answer>``, the answered numbers (distinct, in range) are mapped to the shown
candidates; after the first answered item, it counts (a) consecutive answered pairs whose retriever rank increases
(the SFT target's tail is in retriever order: 1.00; a random order: ~0.50) and (b) consecutive answered pairs whose
shown numbers differ by one (runs such as ``12, 13, 14``: the filler of ``partial`` answers).

    .venv/bin/python scripts/answer_order.py \\
        results/predictions/{smtpo-sft,smtpo-sft-rank}/inspired/inspired/test-subset/seed0.jsonl
"""

from __future__ import annotations

import argparse

from benchmark.eval.predictions import read_predictions
from benchmark.recommender.parse import parse_answer


def tail_order(rows) -> tuple[float, float, int]:
    """(share of tail pairs in increasing retriever rank, share of tail pairs of adjacent numbers, pairs)."""
    increasing = adjacent = pairs = 0
    for row in rows:
        order, shown = row.get("candidate_order"), row.get("candidate_ids")
        if not order or not shown:
            raise SystemExit(f"row {row.get('sample_id')}: no candidate_order/candidate_ids (predictions made "
                             "before 2026-11-29 lack them; predict again)")
        numbers = parse_answer(row["raw_text"], len(order)).numbers
        ranks = [shown.index(order[n - 1]) for n in numbers]
        for i in range(1, len(numbers) - 1):  # pairs (i, i + 1) after the first answered item
            increasing += ranks[i + 1] > ranks[i]
            adjacent += abs(numbers[i + 1] - numbers[i]) == 1
            pairs += 1
    return increasing / max(pairs, 1), adjacent / max(pairs, 1), pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("predictions", nargs="+", help="prediction files of single-turn LLM systems (.jsonl[.gz])")
    for path in ap.parse_args().predictions:
        inc, adj, n = tail_order(read_predictions(path).values())
        print(f"{path}: tail pairs in increasing retriever rank {inc:.2f}, adjacent shown numbers {adj:.2f} "
              f"({n} pairs)")


if __name__ == "__main__":
    main()
