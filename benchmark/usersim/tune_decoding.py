"""Stage ``tune-usersim-decoding``: choose the attribute decoding of a simulator on the VALID split (never on test).

Greedy decoding of the attribute task writes ~3 genres per turn, which caps recall (docs/usersim.md). Two
alternatives are scored on the same valid turns, and the best micro F1 wins:

* ``scored`` (``scored.py``): every training genre ranked by the training prior plus ``lam`` times the simulator's
  calibrated log-likelihood; the top ``k`` named. Grid ``scored.LAMBDA_GRID`` x ``scored.K_GRID`` x names (the
  greedy answer's director / cast, or none) x pin (the greedy answer's genres first, or not). ``lam = 0`` without
  pin is the constant answer's ranking, so the file shows what the model adds over the prior on valid.
* ``vote`` (``--votes n > 0``): ``n`` sampled answers per turn (temperature 1), each value kept when at least
  ``share`` of them give it (``templates.vote_attributes``); grid: the first m <= n samples x ``SHARE_GRID``.

Ties: greedy, then scored, then vote; within one, the simpler setting (fewer votes; smaller ``lam``, then
smaller ``k``, no pin). ``eval-usersim --decoding <this file>`` uses the choice on test.

    python -m benchmark tune-usersim-decoding --processed results/processed/redial \\
        --llm results/models/base/llm/meta.json --adapter results/models/usersim/multitask/redial/seed0/adapter \\
        --out results/usersim/decoding/multitask/redial/seed0.json
"""

from __future__ import annotations

import logging
import math
import time

from benchmark.data.bundle import DatasetBundle
from benchmark.io import read_json, write_json
from benchmark.provenance import provenance
from benchmark.usersim import scored, scoring, templates
from benchmark.usersim.simulator import VOTE_SEP, Request, UserSimulator
from benchmark.usersim.trivial import constant_attributes, training_attribute_golds

log = logging.getLogger(__name__)
VOTE_GRID = (4, 8)  # first m of the sampled answers
SHARE_GRID = (0.125, 0.25, 0.375, 0.5)
ORDER = {"greedy": 0, "scored": 1, "vote": 2}  # tie-break between decodings: the simplest first


def _score(texts: list[str], golds: list[dict]) -> dict:
    p, r, f = scoring.micro_prf([scoring.attribute_counts(t, g)[:3] for t, g in zip(texts, golds, strict=True)])
    return {"precision": p, "recall": r, "f1": f}


def _tie_key(g: dict) -> tuple:
    return (round(g["f1"], 6), -ORDER[g["decoding"]], -(g.get("votes") or 0), -(g.get("lam") or 0.0),
            -(g.get("k") or 0), g.get("names") == "none", not g.get("pin"), g.get("share") or 1.0)


def scored_grid(sim: UserSimulator, bundle: DatasetBundle, reqs: list[Request], golds: list[dict],
                greedy: list[str]) -> tuple[list[dict], dict]:
    """Grid rows of the scored decoding and the calibration it needs (genres, log prior, mean log-likelihood)."""
    prior = scored.genre_prior(training_attribute_golds(bundle))
    if not prior:  # no training target has a genre: nothing to rank
        return [], None
    genres = list(prior)
    log_prior = [math.log(prior[g]) for g in genres]
    ell = sim.genre_loglik(reqs, genres)
    mean = [sum(row[j] for row in ell) / len(ell) for j in range(len(genres))]
    grid = []
    for lam in scored.LAMBDA_GRID:
        ranked = [scored.rank_genres(log_prior, mean, e, genres, lam) for e in ell]
        pinned = [scored.pin_genres(r, g) for r, g in zip(ranked, greedy, strict=True)]
        for k in scored.K_GRID:
            for names in ("none", "greedy"):
                for pin, order in ((False, ranked), (True, pinned)):
                    texts = [scored.answer(r, k, g, names) for r, g in zip(order, greedy, strict=True)]
                    grid.append({"decoding": "scored", "lam": lam, "k": k, "names": names, "pin": pin,
                                 **_score(texts, golds)})
    return grid, {"genres": genres, "log_prior": log_prior, "mean": mean}


def tune(sim: UserSimulator, bundle: DatasetBundle, samples: list[dict], votes: int = 0,
         scoring_grid: bool = True) -> dict:
    from benchmark.usersim.evaluate import fresh_targets

    reqs, golds = [], []
    for s in samples:
        held = fresh_targets(s, bundle.catalog)
        gold = next((t for t in held if any(templates.attribute_values(t).values())), None)
        if gold is not None:
            reqs.append(Request(s["context"], [], held, s["sample_id"]))
            golds.append(templates.attribute_values(gold))
    sim.attribute_votes, sim.attribute_scoring = 0, None
    greedy = sim.attributes(reqs)
    grid = [{"decoding": "greedy", "votes": 0, "share": None, **_score(greedy, golds)}]
    log.info("greedy on %d turns: %s", len(reqs), grid[0])
    calibration = None
    if scoring_grid and reqs:
        rows, calibration = scored_grid(sim, bundle, reqs, golds, greedy)
        grid += rows
        log.info("scored: best %s", max(rows, key=_tie_key) if rows else "none (no training genres)")
    if votes:
        log.info("sampling %d answers per turn", votes)
        prompts = [templates.attributes_prompt(r.history, sim.max_turns) for r in reqs]
        sampled = [j.split(VOTE_SEP) for j in sim._generate(prompts, reqs, sim.attribute_max_new_tokens, votes=votes)]
        for m in sorted({v for v in VOTE_GRID if v <= votes} | {votes}):
            for share in SHARE_GRID:
                texts = [templates.vote_attributes(s[:m], share) for s in sampled]
                grid.append({"decoding": "vote", "votes": m, "share": share, **_score(texts, golds)})
    best = max(grid, key=_tie_key)
    # the bar on the same turns: the constant answer of the trivial-popular row (top-k training genres)
    constant = templates.format_attributes(constant_attributes(bundle))
    return {"attribute_samples": len(reqs), "grid": grid, "best": best, "calibration": calibration,
            "trivial_popular": {"answer": constant, **_score([constant] * len(reqs), golds)}}


def load_decoding(path) -> dict:
    """Simulator keyword arguments from a ``tune-usersim-decoding`` output (``{}`` for greedy)."""
    res = read_json(path, "attribute decoding (python -m benchmark tune-usersim-decoding)")
    best = res["best"]
    if best.get("decoding") == "scored":
        return {"attribute_scoring": {**res["calibration"], "lam": best["lam"], "k": best["k"],
                                      "names": best["names"], "pin": best.get("pin", False)}}
    return {"attribute_votes": best["votes"], "attribute_vote_share": best["share"]} if best.get("votes") else {}


def describe(best: dict) -> str:
    """One line naming a grid row: ``greedy``, ``scored lam 0.5 k 6 names none`` or ``vote 8 share 0.25``."""
    if best["decoding"] == "scored":
        return f"scored lam {best['lam']} k {best['k']} names {best['names']}" + (" pin" if best.get("pin") else "")
    return f"vote {best['votes']} share {best['share']}" if best["decoding"] == "vote" else "greedy"


def main(processed, llm, out, adapter=None, split: str = "valid", n: int = 100, votes: int = 0, scoring_grid=True,
         seed: int = 0, batch_size: int = 8, max_turns: int = templates.MAX_TURNS) -> dict:
    from benchmark.usersim.evaluate import select_samples

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.time()
    bundle = DatasetBundle(processed)
    sim = UserSimulator.load(llm, adapter, seed=seed, batch_size=batch_size, max_turns=max_turns)
    result = {"dataset": bundle.name, "split": split, "seed": seed, "n": n,
              **tune(sim, bundle, select_samples(bundle, split, n, seed), votes, scoring_grid)}
    result["wall_seconds"] = time.time() - started
    result["provenance"] = provenance(inputs={"samples": bundle.dir / f"{split}.samples.jsonl"}, seed=seed,
                                      extra={"adapter": str(adapter) if adapter else None, "llm": str(llm)})
    write_json(out, result)
    return result
