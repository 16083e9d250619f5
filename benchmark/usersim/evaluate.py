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
  are not targets) that names a held-out target anyway (counted by the simulator's reply guard, which then
  withholds the name).

Arithmetic and intervals: ``benchmark/usersim/scoring.py``. Writes the metrics JSON (with a 95% dialogue-level
bootstrap interval per metric) and, beside it, one JSON line per sample (``seed0.samples.jsonl``: every generated
text, its score, the guard's findings). ``--variant trivial-popular|trivial-context`` scores a trivial answerer
instead (``trivial.py``).

    python -m benchmark eval-usersim --processed results/processed/redial --llm results/models/base/llm/meta.json \\
        --adapter results/models/usersim/multitask/redial/seed0/adapter \\
        --embedder results/models/base/embedder/meta.json \\
        --out results/usersim/eval/multitask/redial/seed0.json
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from pathlib import Path

from benchmark.data.bundle import DatasetBundle
from benchmark.io import read_json, write_json, write_jsonl
from benchmark.provenance import provenance
from benchmark.usersim import scoring, templates
from benchmark.usersim.simulator import Request, UserSimulator
from benchmark.usersim.trivial import TrivialSimulator

WORD = re.compile(r"\w+")
TRIVIAL_PREFIX = "trivial-"


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


def evaluate_simulator(sim, bundle: DatasetBundle, samples: list[dict], embedder=None, seed: int = 0) -> dict:
    """Metrics, intervals and per-sample rows of ``sim`` (a ``UserSimulator``, a ``TrivialSimulator`` or any object
    with ``target``/``attributes``/``feedback``, optionally ``reply_nll`` and ``guard_events``)."""
    catalog = bundle.catalog
    titled = [it for it in catalog.items if it["has_title"]]
    names, ids = [it["name"] for it in titled], [it["item_id"] for it in titled]
    dialogues = {d["dialogue_id"]: d for d in bundle.dialogues("test")}
    held = [fresh_targets(s, catalog) for s in samples]
    base = [Request(s["context"], [], h, s["sample_id"]) for s, h in zip(samples, held, strict=True)]
    rows = {s["sample_id"]: {"sample_id": s["sample_id"], "dialogue_id": s["dialogue_id"],
                             "held_out": [t["item_id"] for t in h]} for s, h in zip(samples, held, strict=True)}
    timings = {}

    started = time.time()
    for s, h, text in zip(samples, held, sim.target(base), strict=True):
        ranking = fuzzy_ranking(text, names, ids)
        rows[s["sample_id"]].update({"target_text": text, "target_ranking": ranking, **{
            f"target_hit@{k}": float(any(t["item_id"] in ranking[:k] for t in h)) for k in (1, 10)}})
    timings["target"] = time.time() - started

    started = time.time()
    for s, h, text in zip(samples, held, sim.attributes(base), strict=True):
        gold_item = next((t for t in h if any(templates.attribute_values(t).values())), None)
        rows[s["sample_id"]]["attribute_text"] = text
        if gold_item is not None:
            gold = templates.attribute_values(gold_item)
            tp, n_pred, n_gold, parsed = scoring.attribute_counts(text, gold)
            rows[s["sample_id"]].update({"attribute_gold": templates.format_attributes(gold),
                                         "attribute_counts": [tp, n_pred, n_gold], "attribute_parsed": parsed})
    timings["attributes"] = time.time() - started

    started = time.time()
    fb = [(s, h) for s, h in zip(samples, held, strict=True)
          if s["turn_index"] + 1 < len(dialogues[s["dialogue_id"]]["turns"])
          and dialogues[s["dialogue_id"]]["turns"][s["turn_index"] + 1]["role"] == "seeker"]
    real = [dialogues[s["dialogue_id"]]["turns"][s["turn_index"] + 1]["text"] for s, _ in fb]
    faithful = [Request(s["context"], [catalog.by_id[t] for t in s["targets"]], h, s["sample_id"]) for s, h in fb]
    if hasattr(sim, "reply_nll"):
        for (s, _), nll in zip(fb, sim.reply_nll(faithful, real), strict=True):
            rows[s["sample_id"]]["reply_nll"] = list(nll)
    timings["perplexity"] = time.time() - started
    started = time.time()
    generated = sim.feedback(faithful)
    timings["feedback"] = time.time() - started
    cosines = [None] * len(fb)
    if embedder is not None and generated:
        emb_a = embedder.encode(generated, convert_to_tensor=True, normalize_embeddings=True)
        emb_b = embedder.encode(real, convert_to_tensor=True, normalize_embeddings=True)
        cosines = [float(c) for c in (emb_a * emb_b).sum(-1)]
    for (s, _), r, g, c in zip(fb, real, generated, cosines, strict=True):
        rows[s["sample_id"]].update({"real_reply": r, "generated_reply": g, "feedback_token_f1": token_f1(g, r),
                                     "feedback_cosine": c})

    # leakage: replies to a counterfactual offer (popular non-targets); the reply guard records each naming
    started = time.time()
    popular = popular_titled(bundle)
    counterfactual = [Request(s["context"], [p for p in popular if p["item_id"] not in s["targets"]][:5], h,
                              s["sample_id"]) for s, h in zip(samples, held, strict=True)]
    events = getattr(sim, "guard_events", [])
    before = len(events)
    for s, text in zip(samples, sim.feedback(counterfactual), strict=True):
        rows[s["sample_id"]]["counterfactual_reply"] = text
    leaked = {e["sample_id"] for e in events[before:] if e["where"] == "reply"}
    for s in samples:
        rows[s["sample_id"]]["leaked"] = float(s["sample_id"] in leaked)
    timings["leakage"] = time.time() - started

    rows_list = [rows[s["sample_id"]] for s in samples]
    metrics, intervals = scoring.metrics_from_rows(rows_list, seed=seed)
    cache = getattr(sim, "cache", None)
    metrics.update({
        "samples": len(samples), "feedback_samples": len(fb),
        "attribute_samples": sum(1 for r in rows_list if "attribute_counts" in r),
        "feedback_perplexity": metrics.get("feedback_perplexity"), "feedback_cosine": metrics.get("feedback_cosine"),
        "guard_firings": len(events), "guard_firings_by_where": dict(Counter(e["where"] for e in events)),
        "cache": {"hits": cache.hits, "misses": cache.misses} if cache else None, "seconds": timings,
    })
    return {"metrics": metrics, "intervals": intervals, "rows": rows_list}


def samples_path(out) -> Path:
    """The per-sample JSONL beside the metrics JSON: ``seed0.json`` -> ``seed0.samples.jsonl``."""
    out = Path(out)
    return out.with_name(out.stem + ".samples.jsonl")


def main(processed, llm, out, adapter=None, embedder=None, variant: str = "", n: int = 100, seed: int = 0,
         batch_size: int = 16, cache=None, max_turns: int = templates.MAX_TURNS, decoding=None) -> dict:
    """``variant`` ``trivial-popular`` / ``trivial-context`` evaluates a trivial answerer (no model loaded);
    ``decoding``: a ``tune-usersim-decoding`` output (the attribute decoding chosen on the valid split)."""
    from benchmark.models.base import model_path
    from benchmark.retrieval.semantic import load_encoder
    from benchmark.usersim.tune_decoding import describe, load_decoding

    bundle = DatasetBundle(processed)
    if variant.startswith(TRIVIAL_PREFIX):
        sim, llm, adapter = TrivialSimulator(variant[len(TRIVIAL_PREFIX):], bundle), None, None
    else:
        sim = UserSimulator.load(llm, adapter, cache=cache, seed=seed, batch_size=batch_size, max_turns=max_turns,
                                 **(load_decoding(decoding) if decoding else {}))
    enc = load_encoder(model_path(embedder), 128) if embedder else None
    started = time.time()
    samples = select_samples(bundle, "test", n, seed)
    res = evaluate_simulator(sim, bundle, samples, enc, seed=seed)
    write_jsonl(samples_path(out), res["rows"])
    result = {"variant": variant, "dataset": bundle.name, "seed": seed, "metrics": res["metrics"],
              "intervals": res["intervals"], "per_sample": samples_path(out).name,
              "interval_method": "95% dialogue-level cluster bootstrap (benchmark/eval/bootstrap.py, 1000 resamples)",
              "guard_events": getattr(sim, "guard_events", []),
              "attribute_decoding": None if llm is None else {  # None: a trivial answerer decodes nothing
                  "decoding": describe(read_json(decoding, "attribute decoding")["best"]) if decoding else "greedy",
                  "chosen_by": decoding}}
    result["wall_seconds"] = time.time() - started
    m = result["metrics"]
    feedback_seconds = m["seconds"]["feedback"] + m["seconds"]["leakage"]
    # batched feedback throughput (meaningful on a cold cache with a model: cache hits cost nothing)
    result["feedback_replies_per_second"] = (m["feedback_samples"] + m["samples"]) / feedback_seconds \
        if feedback_seconds and m["cache"] and m["cache"]["hits"] == 0 else None
    result["provenance"] = provenance(inputs={"samples": bundle.dir / "test.samples.jsonl"}, seed=seed,
                                      extra={"adapter": str(adapter) if adapter else None, "llm": str(llm)})
    write_json(out, result)
    return result
