"""System ``grsu``: no recommender at all; the multi-task user simulator ranks the retriever's candidates.

    python -m benchmark predict grsu --train results/processed/redial --test results/processed/redial \\
        --subset workflow/config/subsets/redial-test-100.txt --params '{"llm": "results/models/base/llm/meta.json",
        "retriever": "results/models/retriever/dualview/redial/seed0",
        "simulator": "results/models/usersim/multitask/redial/seed0/adapter"}' --out ...

For each sample the retriever recalls K candidates for the context (no feedback); the simulator (base LLM + the
multi-task LoRA adapter; ``simulator: base`` = the untrained LLM) scores each one by how likely the user is to
accept it (``scoring.TargetScorer`` / ``AcceptScorer``, config ``score``), and the candidates are reranked by
``(1 - retriever_weight) * z(simulator) + retriever_weight * z(retriever)``. The ranking is the reranked K, then
the rest of the retriever's top-k (so Recall@50 exists). Each row carries the candidates' simulator scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from baselines.grsu.scoring import AcceptScorer, TargetScorer, rank
from benchmark.data.bundle import Catalog
from benchmark.device import resolve_device
from benchmark.errors import BenchmarkError
from benchmark.recommender.prompt import K_ANSWER
from benchmark.recommender.system import load_retriever

SCORERS = ("target", "accept")


class GRSUSystem:
    """Simulator-guided selection over the retriever's K candidates (no recommender training)."""

    name = "grsu"

    def __init__(self, llm: str, retriever, simulator: str | None = None, candidates: int = 20, score: str = "target",
                 retriever_weight: float = 0.0, length_norm: bool = False, batch_size: int = 32,
                 dtype: str = "bfloat16", device: str = "auto", scorer=None):
        """``scorer``: a callable (contexts, candidate item lists) -> scores, replacing the simulator (tests)."""
        if score not in SCORERS:
            raise BenchmarkError(f"grsu: score = {score!r}, expected one of {SCORERS}")
        if not 0.0 <= retriever_weight <= 1.0:
            raise BenchmarkError(f"grsu: retriever_weight = {retriever_weight} must be in [0, 1]")
        if candidates < K_ANSWER:
            raise BenchmarkError(f"grsu: candidates (K) = {candidates} must be >= {K_ANSWER}")
        self.retriever, self.candidates = load_retriever(retriever), candidates
        self.retriever_weight, self.last_details = retriever_weight, []
        if scorer is None:
            if not simulator:
                raise BenchmarkError("grsu needs a simulator: a usersim adapter directory (Snakemake rule "
                                     "train_usersim, results/models/usersim/multitask/<dataset>/seed<N>/adapter) "
                                     "or 'base'")
            if simulator != "base" and not (Path(simulator) / "adapter_config.json").exists():
                raise BenchmarkError(f"grsu: no simulator adapter at {simulator}; it is made by the Snakemake rule "
                                     "train_usersim")
            from benchmark.usersim.simulator import UserSimulator

            sim = UserSimulator.load(llm, adapter=None if simulator == "base" else simulator, cache=None,
                                     cache_mode="off", dtype=dtype, device=resolve_device(device))
            scorer = (TargetScorer(sim, batch_size, length_norm) if score == "target"
                      else AcceptScorer(sim, length_norm))
        self.scorer = scorer

    def fit(self, train, seed: int) -> None:
        """Nothing to learn (scoring is deterministic: no sampling)."""

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        contexts = [s["context"] for s in samples]
        found = self.retriever.scored_candidates(contexts, None, None, self.candidates, catalog)
        scores = self.scorer(contexts, [[catalog.by_id[i] for i in ids] for ids, _ in found])
        more = self.retriever.candidates(contexts, None, k, catalog)
        out, self.last_details = [], []
        for (ids, ret), sim, extra in zip(found, scores, more, strict=True):
            ranked = rank(ids, ret, sim, self.retriever_weight)
            out.append((ranked + [i for i in extra if i not in set(ranked)])[:k])
            self.last_details.append({"candidate_ids": list(ids), "simulator_scores": [round(v, 4) for v in sim]})
        return out
