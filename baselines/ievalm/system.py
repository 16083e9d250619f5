"""System ``ievalm``: the base LLM recommends from the candidates and talks with an untrained LLM user for T turns.

    python -m benchmark predict ievalm --train results/processed/redial --test results/processed/redial \\
        --subset workflow/config/subsets/redial-test-100.txt --params '{"llm": "results/models/base/llm/meta.json",
        "retriever": "results/models/retriever/dualview/redial/seed0", "simulator": "base", "turns": 2}' --out ...

iEvaLM-style interactive evaluation (Wang et al., EMNLP 2023) on the *same* loop as SMTPO
(``benchmark.recommender.episode.run_episodes``, via ``SMTPOSystem``): each turn the dual-view retriever recalls K
candidates, the base LLM (no adapter: neither SFT nor GRPO) ranks them, and the untrained base LLM, prompted with
the simulator's feedback template (``UserSimulator`` without adapter), replies; the last turn's ranking is scored.
So ``ievalm`` vs ``smtpo`` isolates training (SFT + GRPO and the multi-task simulator), nothing else.
"""

from __future__ import annotations

from benchmark.errors import BenchmarkError
from benchmark.recommender.interactive import SMTPOSystem


class IEvaLMSystem(SMTPOSystem):
    """``SMTPOSystem`` with the base LLM as recommender and the untrained base LLM as user (``simulator: base``)."""

    name = "ievalm"

    def __init__(self, llm: str, retriever, simulator: str | None = "base", turns: int = 2, **kwargs):
        if kwargs.get("adapter"):
            raise BenchmarkError("ievalm: the recommender is the base LLM; drop `adapter` (that is smtpo/smtpo-sft)")
        if turns > 1 and simulator != "base":
            raise BenchmarkError(f"ievalm: simulator = {simulator!r}; iEvaLM's user is the untrained LLM, 'base' "
                                 "(recommender.eval_simulator: none gives no user; a trained one is smtpo-base-sim's "
                                 "contrast, not this baseline)")
        super().__init__(llm, retriever, adapter=None, simulator=simulator if turns > 1 else None, turns=turns,
                         **kwargs)
