"""The items of a dialogue context, as the harness and several systems read them (one definition for all).

>>> recent_context_items({"context": [{"items": ["a", "b"]}, {"items": ["c", "a"]}]})
['a', 'c', 'b']
>>> context_item_matrix([["a", "c", "b"], ["z"]], {"a": 0, "b": 1, "c": 2}, width=2).tolist()
[[0, 2], [-1, -1]]
>>> pad_rows([[5], [1, 2]], width=3, left=True).tolist()
[[-1, -1, 5], [-1, 1, 2]]
"""

from __future__ import annotations

from collections.abc import Sequence

PAD = -1  # the padding index of every context matrix (models mask ``< 0`` and index with ``clamp(min=0)``)


def recent_items(turns: Sequence[dict]) -> list[str]:
    """Items mentioned in ``turns``, most recent mention first (later in a turn = more recent); a turn without an
    ``items`` list (a simulated reply) mentions none."""
    out: list[str] = []
    for turn in reversed(turns):
        for item in reversed(turn.get("items", [])):
            if item not in out:
                out.append(item)
    return out


def recent_context_items(sample: dict) -> list[str]:
    """Items mentioned in a sample's context, most recent mention first (``recent_items`` of its turns)."""
    return recent_items(sample["context"])


def pad_rows(rows: Sequence[Sequence[int]], width: int, left: bool = False):
    """``[len(rows), width]`` long tensor of ``rows`` (each at most ``width`` long), padded with ``PAD`` on the
    right (``left=True``: on the left, so the last position is the newest, as SASRec reads it)."""
    import torch  # the data layer itself needs no torch; only the systems that build tensors call this

    padded = [[PAD] * (width - len(r)) + list(r) if left else list(r) + [PAD] * (width - len(r)) for r in rows]
    return torch.tensor(padded, dtype=torch.long).reshape(len(padded), width)


def context_item_matrix(item_lists: Sequence[Sequence[str]], index: dict[str, int], width: int):
    """``[B, width]`` indices (through ``index``) of each list's items that ``index`` knows, in the given order
    (most recent first from ``recent_items``), cut to ``width`` and right-padded with ``PAD``."""
    return pad_rows([[index[i] for i in items if i in index][:width] for items in item_lists], width)
