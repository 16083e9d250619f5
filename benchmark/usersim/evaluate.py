"""Stage ``eval-usersim``: how faithful is a simulator variant? Measured on a seeded subset of test turns.

For each sampled recommender turn with at least one *fresh* titled target (one the dialogue had not mentioned):

* target prediction: the generated title is fuzzy-matched (rapidfuzz WRatio) against the catalogue names; the
  10 nearest names form a ranking; hit@k = a fresh target among the first k.
* attribute alignment: the generated ``genres | director | cast`` line is parsed; micro precision / recall / F1
  of (field, value) pairs against the first fresh target with metadata; unparseable output counts as a failure
  (no pairs predicted) and is reported as ``attribute_parse_failures``.
* feedback (turns followed by a seeker turn), with the real offered items: perplexity of the real seeker reply
  (token level), and for the generated reply its unigram F1 and embedding cosine (the sentence embedder) with the
  real one.
* leakage rate: feedback generated for a counterfactual offer (the 5 most popular titled training items that
  are not targets) that names a held-out target anyway.

    python -m benchmark eval-usersim --processed results/processed/redial --llm results/models/base/llm/meta.json \\
        --adapter results/models/usersim/multitask/redial/seed0/adapter \\
        --embedder results/models/base/embedder/meta.json \\
        --out results/usersim/eval/multitask/redial/seed0.json
"""

from __future__ import annotations

import math
import random
import re
import time
from collections import Counter

from benchmark.io import write_json
from benchmark.provenance import provenance
from benchmark.systems.base import DatasetBundle
from benchmark.usersim import guard, templates
from benchmark.usersim.simulator import Request, UserSimulator

WORD = re.compile(r"\w+")


def select_samples(bundle: DatasetBundle, split: str, n: int, seed: int) -> list[dict]:
    eligible = [s for s in bundle.samples(split)
                if any(t not in s["context_items"] and bundle.catalog.by_id[t]["has_title"] for t in s["targets"])]
    rng = random.Random(seed)
    chosen = rng.sample(eligible, min(n, len(eligible)))
    return sorted(chosen, key=lambda s: s["sample_id"])


def fresh_targets(sample: dict, catalog) -> list[dict]:
    return [catalog.by_id[t] for t in sample["targets"]
            if t not in sample["context_items"] and catalog.by_id[t]["has_title"]]


def token_f1(a: str, b: str) -> float:
    x, y = Counter(WORD.findall(a.lower())), Counter(WORD.findall(b.lower()))
    common = sum((x & y).values())
    if not common:
        return 0.0
    p, r = common / sum(x.values()), common / sum(y.values())
    return 2 * p * r / (p + r)


def fuzzy_ranking(text: str, names: list[str], ids: list[str], k: int = 10) -> list[str]:
    from rapidfuzz import fuzz, process

    if not text.strip():
        return []
    return [ids[i] for _, _, i in process.extract(text.strip(), names, scorer=fuzz.WRatio, limit=k)]


def popular_titled(bundle: DatasetBundle) -> list[dict]:
    counts = Counter(i for d in bundle.dialogues("train") for t in d["turns"] for i in t["items"])
    return [bundle.catalog.by_id[i] for i, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            if bundle.catalog.by_id[i]["has_title"]]


def evaluate_simulator(sim: UserSimulator, bundle: DatasetBundle, samples: list[dict], embedder=None) -> dict:
    catalog = bundle.catalog
    titled = [it for it in catalog.items if it["has_title"]]
    names, ids = [it["name"] for it in titled], [it["item_id"] for it in titled]
    dialogues = {d["dialogue_id"]: d for d in bundle.dialogues("test")}
    held = [fresh_targets(s, catalog) for s in samples]
    base = [Request(history=s["context"], held_out=h) for s, h in zip(samples, held, strict=True)]
    timings = {}

    started = time.time()
    ranked = [fuzzy_ranking(g, names, ids) for g in sim.target(base)]
    hits = {k: sum(any(t["item_id"] in r[:k] for t in h) for r, h in zip(ranked, held, strict=True)) for k in (1, 10)}
    timings["target"] = time.time() - started

    started = time.time()
    tp = n_pred = n_gold = failures = 0
    for text, h in zip(sim.attributes(base), held, strict=True):
        gold_item = next((t for t in h if any(templates.attribute_values(t).values())), None)
        if gold_item is None:
            continue
        gold = {(f, v.lower()) for f, vals in templates.attribute_values(gold_item).items() for v in vals}
        parsed = templates.parse_attributes(text)
        if parsed is None:
            failures += 1
            parsed = {}
        pred = {(f, v) for f, vals in parsed.items() for v in vals}
        tp, n_pred, n_gold = tp + len(pred & gold), n_pred + len(pred), n_gold + len(gold)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    timings["attributes"] = time.time() - started

    started = time.time()
    fb = [(s, h) for s, h in zip(samples, held, strict=True)
          if s["turn_index"] + 1 < len(dialogues[s["dialogue_id"]]["turns"])
          and dialogues[s["dialogue_id"]]["turns"][s["turn_index"] + 1]["role"] == "seeker"]
    real = [dialogues[s["dialogue_id"]]["turns"][s["turn_index"] + 1]["text"] for s, _ in fb]
    faithful = [Request(s["context"], [catalog.by_id[t] for t in s["targets"]], h) for s, h in fb]
    nll = sim.reply_nll(faithful, real)
    timings["perplexity"] = time.time() - started
    started = time.time()
    generated = sim.feedback(faithful)
    timings["feedback"] = time.time() - started
    cosine = None
    if embedder is not None and generated:
        emb_a = embedder.encode(generated, convert_to_tensor=True, normalize_embeddings=True)
        emb_b = embedder.encode(real, convert_to_tensor=True, normalize_embeddings=True)
        cosine = float((emb_a * emb_b).sum(-1).mean())

    started = time.time()
    popular = popular_titled(bundle)
    counterfactual = [Request(s["context"], [p for p in popular if p["item_id"] not in s["targets"]][:5], h)
                      for s, h in zip(samples, held, strict=True)]
    leak_texts = sim.feedback(counterfactual)
    leaks = sum(any(guard.mentions(text, t) for t in h) for text, h in zip(leak_texts, held, strict=True))
    timings["leakage"] = time.time() - started

    n = len(samples)
    return {
        "samples": n, "feedback_samples": len(fb),
        "target_hit@1": hits[1] / n if n else math.nan, "target_hit@10": hits[10] / n if n else math.nan,
        "attribute_precision": precision, "attribute_recall": recall,
        "attribute_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "attribute_parse_failures": failures,
        "feedback_perplexity": math.exp(sum(x for x, _ in nll) / max(1, sum(t for _, t in nll))),
        "feedback_token_f1": sum(map(token_f1, generated, real)) / len(fb) if fb else math.nan,
        "feedback_cosine": cosine,
        "leakage_rate": leaks / n if n else math.nan,
        "cache": {"hits": sim.cache.hits, "misses": sim.cache.misses},
        "seconds": timings,
        "examples": [{"sample_id": s["sample_id"], "real": r, "generated": g}
                     for (s, _), r, g in list(zip(fb, real, generated, strict=True))[:5]],
    }


def main(processed, llm, out, adapter=None, embedder=None, variant: str = "", n: int = 100, seed: int = 0,
         batch_size: int = 16, cache=None, max_turns: int = templates.MAX_TURNS) -> dict:
    from benchmark.models.base import model_path
    from benchmark.retrieval.semantic import load_encoder

    bundle = DatasetBundle(processed)
    sim = UserSimulator.load(llm, adapter, cache=cache, seed=seed, batch_size=batch_size, max_turns=max_turns)
    enc = load_encoder(model_path(embedder), 128) if embedder else None
    started = time.time()
    samples = select_samples(bundle, "test", n, seed)
    result = {"variant": variant, "dataset": bundle.name, "seed": seed,
              "metrics": evaluate_simulator(sim, bundle, samples, enc)}
    result["wall_seconds"] = time.time() - started
    m = result["metrics"]
    feedback_seconds = m["seconds"]["feedback"] + m["seconds"]["leakage"]
    # batched feedback throughput (meaningful on a cold cache: cache hits cost nothing)
    result["feedback_replies_per_second"] = (m["feedback_samples"] + m["samples"]) / feedback_seconds \
        if feedback_seconds and m["cache"]["hits"] == 0 else None
    result["provenance"] = provenance(inputs={"samples": bundle.dir / "test.samples.jsonl"}, seed=seed,
                                      extra={"adapter": str(adapter) if adapter else None, "llm": str(llm)})
    write_json(out, result)
    return result
