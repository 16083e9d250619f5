"""Single-turn systems over the retriever's candidates: ``candidates-oracle``, ``llm-zero-shot``, ``smtpo-sft``.

    python -m benchmark predict llm-zero-shot --train results/processed/redial --test results/processed/redial \\
        --params '{"llm": "results/models/base/llm/meta.json",
                   "retriever": "results/models/retriever/dualview/redial/seed0"}' --out ...
    # smtpo-sft: the same, plus "adapter": "results/models/recommender/sft/redial/seed0/adapter"

For each sample the retriever ranks the test catalogue for the context (no feedback); the LLM sees its top
``candidates`` (K) in a seeded shuffled order (``prompt.build_prompt``) and answers 10 numbers. The ranking is
the parsed answer, then the rest of the retriever's top-``k`` in retriever order (so Recall@20/50 exist); an
answer without a valid number falls back to the retriever order. Each prediction carries ``raw_text``,
``parse_status`` and ``parser_version`` (via ``last_details``, which ``predict`` writes into the file).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from benchmark.data.bundle import Catalog, DatasetBundle
from benchmark.errors import BenchmarkError
from benchmark.generation import greedy_chat
from benchmark.recommender import prompt
from benchmark.recommender.parse import PARSER_VERSION, parse_answer, to_ranking


def load_retriever(retriever):
    """A retriever object (anything with ``candidates(contexts, feedbacks, k, catalog)``) or a trained directory."""
    if not isinstance(retriever, str | os.PathLike):
        return retriever
    if not (Path(retriever) / "fusion.pt").exists():
        raise BenchmarkError(f"retriever {retriever}: no fusion.pt there; it is made by `python -m benchmark "
                             "train-retriever` (Snakemake rule train_retriever)")
    from benchmark.retrieval.retriever import DualViewRetriever

    return DualViewRetriever(retriever)


class _CandidateSystem:
    def __init__(self, retriever, candidates: int = 20):
        if candidates < prompt.K_ANSWER:
            raise BenchmarkError(f"candidates (K) = {candidates}: must be >= {prompt.K_ANSWER}")
        self.retriever = load_retriever(retriever)
        self.candidates, self.seed = candidates, 0
        self.last_details: list[dict] = []

    def fit(self, train: DatasetBundle, seed: int) -> None:
        self.seed = seed

    def retrieve(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        return self.retriever.candidates([s["context"] for s in samples], None, max(k, self.candidates), catalog)


class CandidatesOracleSystem(_CandidateSystem):
    """Targets first when among the K retriever candidates, else retriever order (any reranker's upper bound)."""

    name = "candidates-oracle"

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        out = []
        for s, ranked in zip(samples, self.retrieve(samples, catalog, k), strict=True):
            shown = ranked[:self.candidates]
            top = [t for t in dict.fromkeys(s["targets"]) if t in shown]
            out.append((top + [i for i in ranked if i not in top])[:k])
        return out


class LLMRecommenderSystem(_CandidateSystem):
    """The base LLM (optionally + a LoRA ``adapter``) reranking the retriever's K candidates in one turn."""

    name = "llm-zero-shot"
    answer_depth = prompt.K_ANSWER  # answered items trusted before the retriever's order (depth.py)
    show_rank = False  # class defaults: systems built without __init__ in tests

    def __init__(self, llm: str, retriever, adapter: str | None = None, candidates: int = 20, batch_size: int = 16,
                 max_new_tokens: int = 256, dtype: str = "bfloat16", max_turns: int = prompt.MAX_TURNS,
                 max_chars: int = prompt.MAX_CHARS, answer_depth: int = prompt.K_ANSWER, show_rank: bool | None = None):
        """``llm``: a prepared meta.json, a model directory or a hub id; ``dtype``: bfloat16 generates ~5x faster
        than float32 on CPUs with AMX (the adapter is merged in float32 first); ``answer_depth``: answered items
        trusted before the retriever's order takes over (``depth.py``; 10 = the whole answer); ``show_rank``:
        candidate lines say their retriever rank (None: as the adapter was trained, ``meta.json`` beside it)."""
        super().__init__(retriever, candidates)
        if not 0 <= answer_depth <= prompt.K_ANSWER:
            raise BenchmarkError(f"answer_depth = {answer_depth}: must be between 0 and {prompt.K_ANSWER}")
        self.answer_depth = answer_depth
        from benchmark.recommender.train_sft import load_model

        if adapter and not Path(adapter).exists():
            raise BenchmarkError(f"adapter {adapter} does not exist; it is made by `python -m benchmark "
                                 "train-recommender-sft` (Snakemake rule train_recommender_sft)")
        model, self.tokenizer = load_model(llm)
        if adapter:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
        self.model = model.to(getattr(torch, dtype)).eval()
        self.tokenizer.padding_side = "left"
        self.batch_size, self.max_new_tokens = batch_size, max_new_tokens
        self.max_turns, self.max_chars = max_turns, max_chars
        self.show_rank = prompt.adapter_prompt_options(adapter)["show_rank"] if show_rank is None else show_rank

    def generate(self, conversations: list[list[dict]]) -> list[str]:
        """Greedy batched generation on the model's device (``benchmark.generation.greedy_chat``)."""
        return greedy_chat(self.model, self.tokenizer, conversations, self.batch_size, self.max_new_tokens)

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        retrieved = self.retrieve(samples, catalog, k)
        prompts, orders = [], []
        for s, ranked in zip(samples, retrieved, strict=True):
            shown = [catalog.by_id[i] for i in ranked[:self.candidates]]
            seed = prompt.prompt_seed(self.seed, s["sample_id"])
            messages, order = prompt.build_prompt(s["context"], [], shown, seed, self.max_turns, self.max_chars,
                                                  show_rank=self.show_rank)
            prompts.append(messages)
            orders.append(order)
        out, self.last_details = [], []
        for text, order, ranked in zip(self.generate(prompts), orders, retrieved, strict=True):
            result = parse_answer(text, len(order), prompt.K_ANSWER)
            out.append(to_ranking(result, order, ranked, self.answer_depth)[:k])
            # candidate_ids: the shown candidates in retriever order (depth.py re-ranks from them offline)
            self.last_details.append({"raw_text": text, "parse_status": result.status,
                                      "parser_version": PARSER_VERSION, "candidate_order": order,
                                      "candidate_ids": ranked[:self.candidates]})
        return out


class SFTRecommenderSystem(LLMRecommenderSystem):
    """The SFT recommender (``adapter`` required): the base LLM + the LoRA adapter of train-recommender-sft."""

    name = "smtpo-sft"

    def __init__(self, llm: str, retriever, adapter: str, **kwargs):
        if not adapter:
            raise BenchmarkError("smtpo-sft needs an adapter (made by Snakemake rule train_recommender_sft)")
        super().__init__(llm, retriever, adapter=adapter, **kwargs)
