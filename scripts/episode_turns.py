"""Per-turn numbers of an interactive LLM system, read from its predictions' episode logs (and a GRPO run's files).

    .venv/bin/python scripts/episode_turns.py \\
        --predictions results/reference/predictions/smtpo/redial/redial/test-subset/seed0.jsonl.gz \\
        --processed results/processed/redial --subset workflow/config/subsets/redial-test-100.txt
    # and, on a results directory that holds the GRPO run (models are not released):
    .venv/bin/python scripts/episode_turns.py ... --grpo results/models/recommender/grpo/smtpo/redial/seed0 \\
        --train results/processed/redial

For each turn t of the episodes: R@10 of that turn's ranking, and candidate recall (the share of pairs whose target
is among that turn's K candidates), over the pairs of ``--protocol`` (default fresh), as ``evaluate`` counts them.
With ``--grpo``: each step's mean rewards (``meta.json`` ``reward_log``) and how many distinct training prompts of
``rollouts.jsonl`` had a target of the protocol among their turn-1 candidates.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmark.eval.evaluate import pair_ranks
from benchmark.eval.metrics import per_pair_values
from benchmark.eval.predictions import read_predictions
from benchmark.eval.protocols import get_protocol
from benchmark.io import iter_jsonl, read_jsonl
from benchmark.recommender.subset import restrict


def mean(values):
    return sum(values) / len(values) if values else float("nan")


def turn_table(samples, predictions: dict, protocol: str) -> list[tuple[int, float, float]]:
    """(turn, R@10 of the turn's ranking, candidate recall of the turn) for every turn the episodes have."""
    n_turns = max(len(p["episode"]["turns"]) for p in predictions.values())
    rows = []
    for t in range(n_turns):
        def at(field, t=t):
            return {sid: p["episode"]["turns"][min(t, len(p["episode"]["turns"]) - 1)][field]
                    for sid, p in predictions.items()}
        ranks, _, _ = pair_ranks(samples, at("ranking"), protocol)
        cand, _, _ = pair_ranks(samples, at("candidate_ids"), protocol)
        rows.append((t + 1, mean(per_pair_values(ranks, [10])["recall@10"]), mean([r is not None for r in cand])))
    return rows


def grpo_summary(run_dir: Path, train_dir: Path, protocol: str) -> tuple[list[dict], int, int]:
    """(reward_log of meta.json, training prompts with a reachable target, distinct training prompts)."""
    meta = json.loads((run_dir / "meta.json").read_text(encoding="utf-8"))
    by_id = {s["sample_id"]: s for s in read_jsonl(train_dir / "train.samples.jsonl", "train samples")}
    first = {}
    for _, row in iter_jsonl(run_dir / "rollouts.jsonl", "GRPO rollouts"):
        first.setdefault(row["sample_id"], set(row["turns"][0]["candidate_ids"]))
    targets = get_protocol(protocol).targets
    reachable = sum(any(t in cands for t in targets(by_id[sid])) for sid, cands in first.items())
    return meta["reward_log"], reachable, len(first)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--predictions", required=True, help="predictions of an episode-logging system (.jsonl[.gz])")
    ap.add_argument("--processed", required=True, help="processed directory of the test dataset")
    ap.add_argument("--subset", default=None, help="the subset ids file the predictions were made on")
    ap.add_argument("--protocol", default="fresh")
    ap.add_argument("--grpo", default=None, help="a GRPO output directory (meta.json, rollouts.jsonl)")
    ap.add_argument("--train", default=None, help="processed directory of the GRPO training dataset")
    a = ap.parse_args()
    samples = read_jsonl(Path(a.processed) / "test.samples.jsonl", "test samples")
    if a.subset:
        samples = restrict(samples, a.subset)
    predictions = read_predictions(a.predictions, [s["sample_id"] for s in samples])
    if not all("episode" in p for p in predictions.values()):
        raise SystemExit(f"error: {a.predictions} has rows without an `episode` (not an interactive LLM system)")
    for turn, recall, cand in turn_table(samples, predictions, a.protocol):
        print(f"turn {turn}: R@10 {recall:.4f}  candidate recall {cand:.4f}")
    if a.grpo:
        if not a.train:
            raise SystemExit("error: --grpo needs --train (the processed training dataset)")
        log, reachable, prompts = grpo_summary(Path(a.grpo), Path(a.train), a.protocol)
        for h in log:
            print(f"step {h['step']}: " + ", ".join(f"{k.split('/')[1]} {v:.3f}" for k, v in h.items()
                                                    if k.startswith("rewards/") and k.endswith("/mean")))
        print(f"training prompts with a {a.protocol} target among the turn-1 candidates: {reachable} of {prompts}")


if __name__ == "__main__":
    main()
