"""System ``llm-free``: the base LLM names up to 20 films for the dialogue (He et al., CIKM 2023), matched by title.

    python -m benchmark predict llm-free --train results/processed/inspired --test results/processed/inspired \\
        --subset workflow/config/subsets/inspired-test-100.txt \\
        --params '{"model": "results/models/base/llm/meta.json"}' --out results/predictions/llm-free/...

The prompt is He et al.'s released "general" prompt, word for word (``PROMPT``; their ``extracted.jsonl`` files
in ``../shared/external/he2023-zero-shot-crs`` carry it), with the dialogue as ``User:``/``System:`` lines ending
in ``System: ``, sent as one user message through the model's chat template (as they did for Vicuna and BAIZE).
Generation is greedy and batched (``batch_size``), on ``device`` (``benchmark.device.resolve_device``).
The titles are matched to the *test* catalogue by ``matching`` (exact / year / fuzzy / unmatched); the ranking is
the matched items in generated order without duplicates, and nothing else (no fill: a list of 20 titles gives at
most 20 items, so Recall@50 = Recall@20). Each prediction row carries ``raw_text``, ``titles`` and
``title_match`` (counts per kind, ``duplicate``, ``titles``), so the unmatched rate is read from the predictions.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from baselines.llm_free.matching import TitleIndex, match_list, parse_list
from benchmark.data.bundle import Catalog
from benchmark.device import resolve_device
from benchmark.errors import BenchmarkError
from benchmark.generation import greedy_chat

# He et al.'s "general" prompt, copied from their extracted.jsonl `prompt` field (spaces and line breaks included)
PROMPT = ("Pretend you are a movie recommender system. \n I will give you a conversation between a user and you (a "
          "recommender system). Based on the conversation, you reply me with {n} recommendations without extra "
          "sentences.\n Here is the conversation: \n{dialogue}\nSystem: ")
ROLE = {"seeker": "User", "recommender": "System"}


def build_prompt(context: Sequence[dict], n: int = 20, max_turns: int | None = None, max_chars: int = 3000) -> str:
    """He et al.'s prompt for a context (the last ``max_turns`` turns, at most ``max_chars`` characters)."""
    turns = list(context)[-max_turns:] if max_turns else list(context)
    dialogue = "\n".join(f"{ROLE.get(t['role'], t['role'])}: {t['text']}" for t in turns)
    if len(dialogue) > max_chars:  # oldest text cut first; the most recent turns decide the recommendation
        dialogue = dialogue[len(dialogue) - max_chars:]
    return PROMPT.format(n=n, dialogue=dialogue)


class LLMFree:
    """Free generation of ``n_titles`` titles by the base LLM, matched to the catalogue (no candidates)."""

    name = "llm-free"

    def __init__(self, model: str, n_titles: int = 20, max_new_tokens: int = 200, batch_size: int = 16,
                 max_turns: int | None = None, max_chars: int = 3000, max_edit_distance: int = 2,
                 min_fuzzy_chars: int = 6, dtype: str = "bfloat16", device: str = "auto"):
        """``model``: the base LLM's meta.json (``uses: llm``), a model directory or a hub id."""
        if n_titles < 1:
            raise BenchmarkError(f"llm-free: n_titles = {n_titles} must be >= 1")
        from benchmark.recommender.train_sft import load_model

        self.device = resolve_device(device)
        model_, self.tokenizer = load_model(model)
        self.model = model_.to(device=self.device, dtype=getattr(torch, dtype)).eval()
        self.tokenizer.padding_side = "left"
        self.n_titles, self.max_new_tokens, self.batch_size = n_titles, max_new_tokens, batch_size
        self.max_turns, self.max_chars = max_turns, max_chars
        self.max_edit_distance, self.min_fuzzy_chars = max_edit_distance, min_fuzzy_chars
        self._index: tuple[int, TitleIndex] | None = None
        self.last_details: list[dict] = []

    def fit(self, train, seed: int) -> None:
        torch.manual_seed(seed)  # greedy decoding: the seed changes nothing, set for uniformity

    def generate(self, prompts: list[str]) -> list[str]:
        """Greedy batched generation of one user message each (``benchmark.generation.greedy_chat``)."""
        return greedy_chat(self.model, self.tokenizer, [[{"role": "user", "content": p}] for p in prompts],
                           self.batch_size, self.max_new_tokens)

    def index(self, catalog: Catalog) -> TitleIndex:
        if self._index is None or self._index[0] != id(catalog):
            self._index = (id(catalog), TitleIndex(catalog.items, self.max_edit_distance, self.min_fuzzy_chars))
        return self._index[1]

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        prompts = [build_prompt(s["context"], self.n_titles, self.max_turns, self.max_chars) for s in samples]
        index, out, self.last_details = self.index(catalog), [], []
        for text in self.generate(prompts):
            titles = parse_list(text, self.n_titles)
            ranked, matches, counts = match_list(index, titles)
            out.append(ranked[:k])
            self.last_details.append({"raw_text": text, "titles": [[m.text, m.item_id, m.kind] for m in matches],
                                      "title_match": counts})
        return out
