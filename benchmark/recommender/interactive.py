"""System ``smtpo``: the recommender (base LLM + a GRPO or SFT adapter) over T interactive turns with the simulator.

    python -m benchmark predict smtpo --train results/processed/redial --test results/processed/redial \\
        --subset workflow/config/subsets/redial-test-200.txt --params '{"llm": "results/models/base/llm/meta.json",
        "retriever": "results/models/retriever/dualview/redial/seed0",
        "adapter": "results/models/recommender/grpo/smtpo/redial/seed0/adapter",
        "simulator": "results/models/usersim/multitask/redial/seed0/adapter", "turns": 2}' --out ...

Each batch of samples runs ``episode.run_episodes`` (the same loop as the GRPO rollouts): T turns of
retrieve -> recommend -> simulated reply. The ranking is the last turn's parsed top-10, then the remaining candidates
in retriever order. Each prediction row carries the last turn's ``raw_text`` and ``parse_status`` (what decided
the ranking; the table's parse-failure rate counts it), ``turn_status`` of every turn, and ``episode``: every
turn's prompt messages, raw output, candidate ids and scores, shown order and the simulator's reply.
``simulator``: a usersim adapter directory, ``base`` (the untrained LLM) or null (only with turns = 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchmark.data.bundle import Catalog
from benchmark.errors import BenchmarkError
from benchmark.recommender.depth import at_depth
from benchmark.recommender.episode import EpisodeSettings, run_episodes
from benchmark.recommender.parse import PARSER_VERSION
from benchmark.recommender.prompt import K_ANSWER
from benchmark.recommender.system import LLMRecommenderSystem


class SMTPOSystem(LLMRecommenderSystem):
    """The reasoning recommender over T simulated turns (``adapter``: GRPO or SFT LoRA; ``turns``: T)."""

    name = "smtpo"

    def __init__(self, llm: str, retriever, adapter: str | None = None, simulator: str | None = None, turns: int = 2,
                 sim_llm: str | None = None, simulator_max_new_tokens: int = 32, **kwargs):
        if turns < 1:
            raise BenchmarkError(f"smtpo: turns = {turns} must be >= 1")
        if turns > 1 and not simulator:
            raise BenchmarkError(f"smtpo: turns = {turns} needs a simulator (an adapter directory or 'base'; the "
                                 "adapter is made by the Snakemake rule train_usersim)")
        if simulator not in (None, "base") and not (Path(simulator) / "adapter_config.json").exists():
            raise BenchmarkError(f"smtpo: no simulator adapter at {simulator}; it is made by the Snakemake rule "
                                 "train_usersim (results/models/usersim/<variant>/<dataset>/seed<N>/adapter)")
        super().__init__(llm, retriever, adapter=adapter, **kwargs)
        self.turns, self.simulator = turns, None
        if turns > 1:
            from benchmark.usersim.simulator import UserSimulator

            self.simulator = UserSimulator.load(sim_llm or llm, adapter=None if simulator == "base" else simulator,
                                                cache=None, cache_mode="off", max_new_tokens=simulator_max_new_tokens,
                                                device=str(self.model.device))

    def fit(self, train, seed: int) -> None:
        super().fit(train, seed)
        if self.simulator is not None:
            self.simulator.seed = seed

    def __call__(self, chats: list[list[dict]]) -> list[str]:
        """The episode loop's Recommender: greedy batched generation."""
        return self.generate(chats)

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        settings = EpisodeSettings(turns=self.turns, candidates=self.candidates, seed=self.seed,
                                   show_rank=self.show_rank)
        episodes = run_episodes(samples, catalog, self.retriever, self, self.simulator, settings)
        # Recall@50 over K = 20 candidates: the final ranking continues with the retriever's top-k for the context
        # (no feedback), minus the items already ranked
        more = self.retriever.candidates([s["context"] for s in samples], None, k, catalog)
        out, self.last_details = [], []
        for ep, extra in zip(episodes, more, strict=True):
            last, ranked = ep.turns[-1], ep.ranking
            detail = {"raw_text": last.output, "parse_status": last.status, "parser_version": PARSER_VERSION,
                      "turn_status": [t.status for t in ep.turns], "episode": ep.to_dict(),
                      "ranked_items": ranked + [i for i in extra if i not in set(ranked)]}
            # answer_depth < 10 changes the final ranking only; the episode the simulator saw is unchanged
            out.append(at_depth(detail, self.answer_depth, k) if self.answer_depth < K_ANSWER
                       else detail["ranked_items"][:k])
            del detail["ranked_items"]
            self.last_details.append(detail)
        return out
