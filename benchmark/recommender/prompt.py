"""The recommender's prompt: dialogue so far + simulator feedback + K numbered candidates in a seeded order.

The candidates are shown as ``n. Title (Year) - genres; director`` with n = 1..K in an order shuffled by the
seed, so that a model cannot learn "number 1 is the retriever's best" (the retriever order is kept apart, in
``order``'s complement: ``to_ranking`` falls back to it). With ``show_rank`` (a recipe option, off by default) each
line also says the retriever's rank, ``[search rank r]``, as an explicit feature: the SFT answer lists the targets
and then the other candidates in retriever order, and without the rank that tail is a random permutation of the
shown numbers, which a model cannot learn (docs/recommender.md, "Remedy tried: rank hint"). The model must answer
``<think>...</think><answer>n1, n2, ..., n10</answer>`` with 10 distinct candidate numbers, best first.

TRL 1.16's GRPO has no ``max_prompt_length``, so prompts are bounded here: the last ``max_turns`` turns, at most
``max_chars`` characters of dialogue (oldest text dropped first), the last ``max_feedback`` feedback replies of
at most ``max_feedback_chars`` characters each. With the defaults a K=20 ReDial training prompt is a median of
720 SmolLM2 tokens with the chat template (max 921; 300 records, /tmp measurement of recommender-sft-data).

>>> items = [{"item_id": "a", "name": "Heat (1995)", "genres": ["crime", "drama"], "director": ["Michael Mann"]},
...          {"item_id": "b", "title": "It", "year": 2017, "genres": ["horror"]},
...          {"item_id": "c", "has_title": False}]
>>> candidate_line(1, items[0]), candidate_line(2, items[1]), candidate_line(3, items[2])
('1. Heat (1995) - crime, drama; Michael Mann', '2. It (2017) - horror', '3. an untitled movie')
>>> candidate_line(2, items[1], rank=1)  # show_rank: the retriever's rank of the candidate (1 = its best)
'2. It (2017) - horror [search rank 1]'
>>> messages, order = build_prompt([{"role": "seeker", "text": "Something scary?", "items": []}], [], items, seed=0)
>>> sorted(order) == ["a", "b", "c"] and order == build_prompt([], [], items, seed=0)[1]
True
"""

from __future__ import annotations

import os
import random
import zlib
from collections.abc import Sequence
from pathlib import Path

from benchmark.io import read_json

K_ANSWER = 10  # numbers the answer must list
MAX_TURNS = 6  # dialogue turns shown (the simulator's default, benchmark.usersim.templates.MAX_TURNS)
MAX_CHARS = 1200  # characters of dialogue shown (~300 tokens); the oldest text is cut first
MAX_FEEDBACK = 3  # simulator replies shown (the most recent ones)
MAX_FEEDBACK_CHARS = 300
ROLE = {"seeker": "User", "recommender": "System"}

SYSTEM = (
    "You are a movie recommender. Read the conversation and the numbered candidate movies. First reason step by "
    "step inside <think> </think>: what the user wants, which attributes (genres, director, actors, era) matter, "
    "and how well each candidate matches. Then rank the candidates: write the numbers of the 10 best candidates, "
    "best first, separated by commas, inside <answer> </answer>, for example <answer>4, 12, 1, 9, 17, 3, 20, 6, "
    "15, 8</answer>. Use each number at most once and only numbers from the list."
)


def prompt_seed(seed: int, sample_id: str, turn: int = 0) -> int:
    """A per-(seed, sample, turn) shuffle seed that does not depend on batch order or Python's hash seed.

    >>> prompt_seed(0, "20001#1", 0) == prompt_seed(0, "20001#1", 0) != prompt_seed(1, "20001#1", 0)
    True
    """
    return zlib.crc32(f"{seed}|{sample_id}|{turn}".encode())


def item_title(item: dict) -> str:
    if item.get("has_title") is False:
        return "an untitled movie"
    if item.get("name"):
        return item["name"]
    title = item.get("title") or "an untitled movie"
    return f"{title} ({item['year']})" if item.get("year") else title


def candidate_line(number: int, item: dict, rank: int | None = None) -> str:
    """``n. Title (Year) - genres; director`` (at most 3 genres and the first director), then ``[search rank r]``
    when ``rank`` (the retriever's 1-based rank) is given."""
    extra = []
    if item.get("genres"):
        extra.append(", ".join(item["genres"][:3]))
    if item.get("director"):
        extra.append(item["director"][0])
    line = f"{number}. {item_title(item)}" + (f" - {'; '.join(extra)}" if extra else "")
    return line + (f" [search rank {rank}]" if rank is not None else "")


def candidate_lines(order: Sequence[str], candidates: Sequence[dict], show_rank: bool = False) -> str:
    """The numbered lines of ``order`` (item ids); ``candidates`` in retriever order give the items and ranks."""
    by_id = {c["item_id"]: c for c in candidates}
    rank = {c["item_id"]: r + 1 for r, c in enumerate(candidates)}
    return "\n".join(candidate_line(n + 1, by_id[i], rank[i] if show_rank else None) for n, i in enumerate(order))


def adapter_prompt_options(adapter: str | os.PathLike | None) -> dict:
    """The prompt options an adapter was trained with (``meta.json`` beside it, key ``prompt``; older metas and no
    adapter: the defaults), so that a system prompts a model the way it was trained.

    >>> adapter_prompt_options(None)
    {'show_rank': False}
    """
    options = {"show_rank": False}
    meta = Path(adapter).parent / "meta.json" if adapter else None
    if meta is not None and meta.exists():  # read_json: a malformed meta names its file and line
        options.update(read_json(meta, "the adapter's training meta.json").get("prompt", {}))
    return options


def dialogue_text(history: Sequence[dict], max_turns: int = MAX_TURNS, max_chars: int = MAX_CHARS) -> str:
    """``User:``/``System:`` lines of the last ``max_turns`` turns, cut to the last ``max_chars`` characters."""
    text = "\n".join(f"{ROLE.get(t['role'], t['role'])}: {t['text']}" for t in history[-max_turns:] if max_turns > 0)
    if len(text) > max_chars:
        text = "..." + text[len(text) - max_chars:]
    return text or "(the conversation has not started)"


def shuffled(ids: Sequence[str], seed: int) -> list[str]:
    order = list(ids)
    random.Random(seed).shuffle(order)
    return order


def build_prompt(history: Sequence[dict], feedback: Sequence[str], candidates: Sequence[dict], seed: int,
                 max_turns: int = MAX_TURNS, max_chars: int = MAX_CHARS, max_feedback: int = MAX_FEEDBACK,
                 max_feedback_chars: int = MAX_FEEDBACK_CHARS, show_rank: bool = False
                 ) -> tuple[list[dict], list[str]]:
    """The chat messages and ``order`` (``order[i]`` is the item id shown as number i + 1).

    ``history``: dialogue turns ``{"role": "seeker"|"recommender", "text", ...}``; ``feedback``: the simulated
    user's replies to earlier recommendation turns of this episode, oldest first; ``candidates``: catalogue item
    dicts in retriever order (the order is shuffled here with ``seed``); ``show_rank``: each line says the
    candidate's retriever rank.
    """
    by_id = {c["item_id"]: c for c in candidates}
    if len(by_id) != len(candidates):
        raise ValueError("build_prompt: duplicate item ids among the candidates")
    order = shuffled([c["item_id"] for c in candidates], seed)
    parts = [f"Conversation so far:\n{dialogue_text(history, max_turns, max_chars)}"]
    recent = [f[:max_feedback_chars] for f in feedback if f][-max_feedback:] if max_feedback > 0 else []
    if recent:
        parts.append("The user's replies to your earlier suggestions:\n" + "\n".join(f"- {f}" for f in recent))
    parts.append("Candidates:\n" + candidate_lines(order, candidates, show_rank))
    n = min(K_ANSWER, len(order))
    parts.append(f"Rank the candidates: the {n} best numbers, best first, in <answer> </answer>.")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}], order
