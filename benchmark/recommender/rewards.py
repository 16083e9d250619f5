"""SMTPO's fine-grained rewards as pure TRL reward functions: ``f(prompts, completions, **kwargs) -> list[float]``.

Per-sample fields arrive as keyword lists (one entry per completion), as TRL passes dataset columns and the
extra keys a ``rollout_func`` returns:

* ``order``: the item ids in the order shown to the model (``order[n - 1]`` is candidate number n);
* ``targets``: the ground-truth item ids of the sample;
* ``target_attributes``: ``{"genres": [...], "director": [...], "cast": [...]}`` of the targets (``attributes_of``);
* ``candidates_meta``: per candidate, aligned with ``order``, the same attribute dict.

A completion is a string or a chat list (its last message's content is read). Each function reads the **last**
``<answer>`` of the completion (``parse.parse_answer``), so a multi-turn completion is scored on its final answer.

>>> order = [["a", "b", "c"]]
>>> good = ["<think>crime fan</think><answer>2, 1, 3</answer>"]
>>> format_reward(None, good, order=order, k=3), recommend_reward(None, good, order=order, targets=[["a"]], k=3)
([1.0], [0.6309297535714575])
>>> meta = [[{"genres": ["crime"]}, {"genres": ["horror"]}, {"genres": ["crime", "drama"]}]]
>>> preference_reward(None, ["<answer>3</answer>"], order=order, candidates_meta=meta,
...                   target_attributes=[{"genres": ["crime"]}], top=1)
[0.5]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from benchmark.recommender.parse import ParseResult, parse_answer

ATTRIBUTE_FIELDS = ("genres", "director", "cast")
MAX_CAST = 3  # leading cast members compared (the simulator's attribute format uses 3 too)
W_THINK, W_CLOSED, W_NUMBERS, PENALTY = 0.2, 0.2, 0.6, 0.1  # format_reward's parts (sum of the first 3 is 1)


def completion_text(completion) -> str:
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        last = completion[-1]
        return last.get("content", "") if isinstance(last, dict) else str(last)
    return ""


def _parse(completions, order: Sequence[Sequence[str]], k: int) -> list[ParseResult]:
    return [parse_answer(completion_text(c), len(o), k) for c, o in zip(completions, order, strict=True)]


def format_score(result: ParseResult, k: int = 10, n_candidates: int | None = None) -> float:
    """1.0 for a ``<think>`` block and a closed answer of exactly min(k, n) distinct valid numbers; else partial.

    ``0.2 * think + 0.2 * closed answer + 0.6 * valid_distinct / min(k, n) - 0.1 if anything was dropped``
    (duplicates, out-of-range or surplus numbers), floored at 0; no ``<answer>`` tag at all scores 0.

    >>> format_score(parse_answer("<answer>1, 2, 2, 3</answer>", 20), k=10)  # closed, 3 valid, a duplicate
    0.28
    >>> format_score(parse_answer("<think>x</think><answer>1, 2, 3", 3), k=10, n_candidates=3)  # unclosed
    0.8
    >>> format_score(parse_answer("<think>x</think> maybe 1, 2, 3", 3))
    0.0
    """
    if result.status == "no_answer":
        return 0.0
    need = min(k, n_candidates) if n_candidates else k
    score = W_THINK * result.has_think + W_CLOSED * ("unclosed" not in result.flags)
    score += W_NUMBERS * min(len(result.numbers), need) / need
    if {"duplicate", "out_of_range", "too_many"} & set(result.flags):
        score -= PENALTY
    return round(max(0.0, score), 6)


def format_reward(prompts, completions, order, k: int = 10, **kwargs) -> list[float]:
    """Well-formedness of each completion (``format_score``)."""
    return [format_score(r, k, len(o)) for r, o in zip(_parse(completions, order, k), order, strict=True)]


def ndcg(ranked: Sequence[str], targets: Sequence[str], reachable: Sequence[str] | None = None, k: int = 10) -> float:
    """Mean over the reachable targets of 1 / log2(rank + 1) for a hit within the top ``k`` (the evaluation's
    per-pair NDCG@k, ``benchmark.eval.metrics``); 0.0 when no target is reachable (among the candidates).

    >>> ndcg(["a", "b"], ["b", "z"], reachable=["a", "b"], k=10)  # "z" is not a candidate: not counted
    0.6309297535714575
    """
    pool = set(reachable) if reachable is not None else None
    counted = [t for t in dict.fromkeys(targets) if pool is None or t in pool]
    if not counted:
        return 0.0
    top = list(ranked[:k])
    return sum(1.0 / math.log2(top.index(t) + 2) for t in counted if t in top) / len(counted)


def recommend_reward(prompts, completions, order, targets, k: int = 10, **kwargs) -> list[float]:
    """NDCG@k of the targets in the parsed answer only (no fallback, so not answering earns nothing)."""
    out = []
    for r, o, t in zip(_parse(completions, order, k), order, targets, strict=True):
        out.append(ndcg([o[n - 1] for n in r.numbers], t, reachable=o, k=k))
    return out


def attribute_set(attrs: dict | None) -> set[str]:
    """``field:value`` strings (lower-case; cast cut to ``MAX_CAST``) of an attribute dict or catalogue item."""
    out: set[str] = set()
    for f in ATTRIBUTE_FIELDS:
        values = list((attrs or {}).get(f) or [])
        out.update(f"{f}:{v.strip().lower()}" for v in (values[:MAX_CAST] if f == "cast" else values) if v.strip())
    return out


def attributes_of(items: Sequence[dict]) -> dict[str, list[str]]:
    """The union of the attributes of ``items`` (e.g. a sample's targets), in first-seen order.

    >>> attributes_of([{"genres": ["crime"], "cast": ["A"]}, {"genres": ["drama", "crime"], "director": ["M"]}])
    {'genres': ['crime', 'drama'], 'director': ['M'], 'cast': ['A']}
    """
    out: dict[str, list[str]] = {f: [] for f in ATTRIBUTE_FIELDS}
    for it in items:
        for f in ATTRIBUTE_FIELDS:
            values = list(it.get(f) or [])
            out[f].extend(v for v in (values[:MAX_CAST] if f == "cast" else values) if v not in out[f])
    return out


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def preference_reward(prompts, completions, order, candidates_meta, target_attributes, k: int = 10, top: int = 3,
                      **kwargs) -> list[float]:
    """Mean over the top ``top`` answer slots of the Jaccard similarity between the slot's candidate attributes
    and the targets' (``field:value`` sets of genres, director, cast). An empty slot (fewer numbers than
    ``top``) scores 0, so a short answer is not favoured; targets without attributes give 0.0.
    """
    out = []
    rows = zip(_parse(completions, order, k), order, candidates_meta, target_attributes, strict=True)
    for r, o, meta, attrs in rows:
        if len(meta) != len(o):
            raise ValueError(f"preference_reward: {len(meta)} candidates_meta entries for {len(o)} candidates")
        want = attribute_set(attrs)
        if not want:
            out.append(0.0)
            continue
        out.append(sum(jaccard(attribute_set(meta[n - 1]), want) for n in r.numbers[:top]) / top)
    return out


REWARDS = {"format": format_reward, "recommend": recommend_reward, "preference": preference_reward}
