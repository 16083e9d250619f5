"""Stage ``recommender-sft-data``: template reasoning traces over the retriever's candidates (SFT records).

    python -m benchmark recommender-sft-data --processed results/processed/redial \\
        --retriever results/models/retriever/dualview/redial/seed0 \\
        --recipe workflow/recipes/recommender/sft/cpu.yaml --seed 0 --out results/recommender/sft-data/redial

For each sample of the split (targets: ``fresh`` drops those already mentioned in the context), the prompt is
``prompt.build_prompt`` over the retriever's top-K for the context, and the completion is a template trace::

    <think>User: "I love heist films". Mentioned: Heat (1995). Wants: genres crime, drama; director Michael
    Mann. 7: crime, Michael Mann. 2: no match.</think><answer>7, 2, 11, ...</answer>

The answer lists the targets among the candidates first (in the sample's order), then the other candidates in
retriever order, 10 in all. **Training only:** when the retriever misses a target, the target replaces a
candidate at a seeded random position of the retriever list (the last candidates make room), so every record
teaches the ranking; the number of such records is in ``stats.json`` (``injected``). Evaluation never injects.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmark.data.bundle import Catalog, DatasetBundle
from benchmark.io import write_json, write_jsonl
from benchmark.recommender import prompt
from benchmark.recommender.config import RecommenderSFTConfig
from benchmark.recommender.rewards import ATTRIBUTE_FIELDS, attributes_of

CandidateFn = Callable[[Sequence[dict]], list[list[str]]]  # samples -> retriever ids per sample, best first
QUOTE_CHARS = 60  # characters of the user's last message quoted in the trace
LIKED = 2  # items of the context named in the trace
EXPLAINED = 2  # answered candidates whose matching attributes the trace lists


def retriever_candidates(retriever, catalog: Catalog, k: int, batch_size: int = 256) -> CandidateFn:
    """The one place that calls the retriever: top-``k`` ids for each sample's context (no feedback yet)."""
    def fn(samples: Sequence[dict]) -> list[list[str]]:
        out: list[list[str]] = []
        for start in range(0, len(samples), batch_size):
            batch = samples[start:start + batch_size]
            out.extend(retriever.candidates([s["context"] for s in batch], None, k, catalog))
        return out
    return fn


def train_targets(sample: dict, variant: str) -> list[str]:
    if variant == "all":
        return list(sample["targets"])
    mentioned = set(sample.get("context_items", []))
    return [t for t in sample["targets"] if t not in mentioned]


def inject(candidates: list[str], targets: Sequence[str], rng: random.Random) -> tuple[list[str], int]:
    """Put missed ``targets`` into ``candidates`` at random positions, keeping the length (training only).

    >>> inject(["a", "b", "c"], ["t"], random.Random(0))
    (['a', 'b', 't'], 1)
    """
    out, k = list(candidates), len(candidates)
    missing = [t for t in dict.fromkeys(targets) if t not in out][:k]
    for t in missing:
        out.insert(rng.randrange(len(out) + 1), t)
    while len(out) > k:  # the lowest-ranked retriever candidate that is not a target makes room
        del out[max(j for j, i in enumerate(out) if i not in targets)]
    return out, len(missing)


def _values(attrs: dict, per_field: int = 2) -> str:
    return "; ".join(f"{f} {', '.join(attrs[f][:per_field])}" for f in ATTRIBUTE_FIELDS if attrs.get(f))


def trace(sample: dict, targets: list[dict], shown: dict[int, dict], answer: list[int], catalog: Catalog) -> str:
    """The template reasoning: stated preferences -> attributes that matter -> how candidates match -> ranking.

    Compact on purpose: with the answer it must fit the GRPO CPU recipe's ``max_new_tokens: 128``, or GRPO turns
    would be cut before ``<answer>`` (ReDial, SmolLM2 tokens: median 219 / p99 324 in the first template with a
    160-character quote and three candidates; see docs/recommender.md for the current figures).
    """
    said = [t["text"] for t in sample["context"] if t["role"] == "seeker"]
    lines = [f'User: "{said[-1][:QUOTE_CHARS]}".' if said else "User: nothing yet."]
    liked = [prompt.item_title(catalog.by_id[i]) for i in sample.get("context_items", [])[-LIKED:] if i in catalog]
    if liked:
        lines.append(f"Mentioned: {', '.join(liked)}.")
    want = attributes_of(targets)
    lines.append(f"Wants: {_values(want)}." if _values(want) else "Wants: unknown.")
    wanted = {(f, v.lower()) for f in ATTRIBUTE_FIELDS for v in want[f]}
    for n in answer[:EXPLAINED]:
        common = [v for f in ATTRIBUTE_FIELDS for v in attributes_of([shown[n]])[f] if (f, v.lower()) in wanted]
        lines.append(f"{n}: {', '.join(common[:3]) if common else 'no match'}.")
    return "<think>" + " ".join(lines) + "</think><answer>" + ", ".join(map(str, answer)) + "</answer>"


def build_records(samples: Sequence[dict], catalog: Catalog, candidates: list[list[str]], cfg: RecommenderSFTConfig,
                  seed: int, inject_missing: bool) -> tuple[list[dict], dict]:
    records, counts = [], {"samples": 0, "no_targets": 0, "all_targets_retrieved": 0, "injected": 0, "missed": 0}
    for sample, retrieved in zip(samples, candidates, strict=True):
        targets = [t for t in train_targets(sample, cfg.targets) if t in catalog]
        counts["samples"] += 1
        if not targets:
            counts["no_targets"] += 1
            continue
        rng = random.Random(prompt.prompt_seed(seed, sample["sample_id"], -1))
        ids = list(retrieved[:cfg.candidates])
        if all(t in ids for t in targets):
            counts["all_targets_retrieved"] += 1
        elif inject_missing:
            ids, n = inject(ids, targets, rng)
            counts["injected"] += bool(n)
        if not any(t in ids for t in targets):
            counts["missed"] += 1
            continue
        messages, order = prompt.build_prompt(sample["context"], [], [catalog.by_id[i] for i in ids],
                                              prompt.prompt_seed(seed, sample["sample_id"], 0),
                                              cfg.max_turns, cfg.max_chars, show_rank=cfg.show_rank)
        number = {i: n + 1 for n, i in enumerate(order)}
        ranked = [t for t in targets if t in number] + [i for i in ids if i not in targets]
        answer = [number[i] for i in ranked[:prompt.K_ANSWER]]
        shown = {n + 1: catalog.by_id[i] for n, i in enumerate(order)}
        text = trace(sample, [catalog.by_id[t] for t in targets], shown, answer, catalog)
        records.append({"sample_id": sample["sample_id"], "prompt": messages,
                        "completion": [{"role": "assistant", "content": text}], "order": order,
                        "targets": targets, "retriever_order": ids})
    return records, counts


def main(processed: str | os.PathLike, out: str | os.PathLike, cfg: RecommenderSFTConfig, seed: int = 0,
         retriever_dir: str | os.PathLike | None = None, candidate_fn: CandidateFn | None = None) -> dict:
    """Write ``train.jsonl`` (injection on, if the recipe says so), ``valid.jsonl`` (never injected), stats.json."""
    bundle, out = DatasetBundle(processed), Path(out)
    if candidate_fn is None:
        from benchmark.retrieval.retriever import DualViewRetriever

        candidate_fn = retriever_candidates(DualViewRetriever(retriever_dir), bundle.catalog, cfg.candidates)
    stats = {"dataset": bundle.name, "seed": seed, "recipe": cfg.to_dict(), "retriever": str(retriever_dir)}
    for split, injecting in (("train", cfg.inject_missing), ("valid", False)):
        samples = bundle.samples(split)
        records, counts = build_records(samples, bundle.catalog, candidate_fn(samples), cfg, seed, injecting)
        write_jsonl(out / f"{split}.jsonl", records)
        stats[split] = {**counts, "records": len(records)}
    write_json(out / "stats.json", stats)
    return stats
