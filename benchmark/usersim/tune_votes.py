"""Stage ``tune-usersim-votes``: choose the attribute decoding of a simulator on the VALID split (never on test).

Greedy decoding of the attribute task writes ~3 genres per turn, which caps recall (docs/usersim.md). Vote
decoding samples ``votes`` answers (temperature 1) and keeps each value that at least ``share`` of them give
(``templates.vote_attributes``). This stage samples ``--votes`` answers per valid turn once, scores greedy decoding
and every (votes m <= --votes: the first m samples, share) on the grid, and writes the choice with the best micro
F1 (ties: fewer votes, then the higher share). ``eval-usersim --decoding <this file>`` uses it on test.

    python -m benchmark tune-usersim-votes --processed results/processed/redial \\
        --llm results/models/base/llm/meta.json --adapter results/models/usersim/multitask/redial/seed0/adapter \\
        --out results/usersim/decoding/multitask/redial/seed0.json
"""

from __future__ import annotations

import logging
import time

from benchmark.data.bundle import DatasetBundle
from benchmark.io import read_json, write_json
from benchmark.provenance import provenance
from benchmark.usersim import scoring, templates
from benchmark.usersim.simulator import VOTE_SEP, Request, UserSimulator
from benchmark.usersim.trivial import constant_attributes

log = logging.getLogger(__name__)
VOTE_GRID = (4, 8)  # first m of the sampled answers
SHARE_GRID = (0.125, 0.25, 0.375, 0.5)


def _score(texts: list[str], golds: list[dict]) -> dict:
    p, r, f = scoring.micro_prf([scoring.attribute_counts(t, g)[:3] for t, g in zip(texts, golds, strict=True)])
    return {"precision": p, "recall": r, "f1": f}


def tune(sim: UserSimulator, bundle: DatasetBundle, samples: list[dict], votes: int) -> dict:
    from benchmark.usersim.evaluate import fresh_targets

    reqs, golds = [], []
    for s in samples:
        held = fresh_targets(s, bundle.catalog)
        gold = next((t for t in held if any(templates.attribute_values(t).values())), None)
        if gold is not None:
            reqs.append(Request(s["context"], [], held, s["sample_id"]))
            golds.append(templates.attribute_values(gold))
    sim.attribute_votes = 0
    grid = [{"votes": 0, "share": None, **_score(sim.attributes(reqs), golds)}]
    log.info("greedy on %d turns: %s; sampling %d answers each", len(reqs), grid[0], votes)
    prompts = [templates.attributes_prompt(r.history, sim.max_turns) for r in reqs]
    sampled = [j.split(VOTE_SEP) for j in sim._generate(prompts, reqs, sim.attribute_max_new_tokens, votes=votes)]
    for m in sorted({v for v in VOTE_GRID if v <= votes} | {votes}):
        for share in SHARE_GRID:
            texts = [templates.vote_attributes(s[:m], share) for s in sampled]
            grid.append({"votes": m, "share": share, **_score(texts, golds)})
    best = max(grid, key=lambda g: (round(g["f1"], 6), -g["votes"], g["share"] or 1.0))
    # the bar on the same turns: the constant answer of the trivial-popular row (top-k training genres)
    constant = templates.format_attributes(constant_attributes(bundle))
    return {"attribute_samples": len(reqs), "grid": grid, "best": best,
            "trivial_popular": {"answer": constant, **_score([constant] * len(reqs), golds)}}


def load_decoding(path) -> dict:
    """Simulator keyword arguments from a ``tune-usersim-votes`` output (``{}`` for greedy)."""
    best = read_json(path, "attribute decoding (python -m benchmark tune-usersim-votes)")["best"]
    return {"attribute_votes": best["votes"], "attribute_vote_share": best["share"]} if best["votes"] else {}


def main(processed, llm, out, adapter=None, split: str = "valid", n: int = 150, votes: int = 8, seed: int = 0,
         batch_size: int = 8, max_turns: int = templates.MAX_TURNS) -> dict:
    from benchmark.usersim.evaluate import select_samples

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.time()
    bundle = DatasetBundle(processed)
    sim = UserSimulator.load(llm, adapter, seed=seed, batch_size=batch_size, max_turns=max_turns)
    result = {"dataset": bundle.name, "split": split, "seed": seed, "n": n,
              **tune(sim, bundle, select_samples(bundle, split, n, seed), votes)}
    result["wall_seconds"] = time.time() - started
    result["provenance"] = provenance(inputs={"samples": bundle.dir / f"{split}.samples.jsonl"}, seed=seed,
                                      extra={"adapter": str(adapter) if adapter else None, "llm": str(llm)})
    write_json(out, result)
    return result
