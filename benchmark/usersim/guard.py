"""Leakage guard: a held-out target may appear in a simulator prompt only if the seeker had already said it.

The runtime simulator never sees the user's true target; the guard makes that a checked property instead of a
convention. ``UserSimulator`` calls ``check`` on every prompt it generates from (``tests/unit/test_usersim.py``
fails if a generation path bypasses it). The block listing the items the recommender *just offered* is exempt:
the recommender proposing the right film is not a leak.

A target is found in text by its display name (``"It (2017)"``) and, for titles of at least ``MIN_TITLE_CHARS``
characters, by its title as a whole phrase (case-insensitive); shorter titles ("It", "Up") would match ordinary
words, so for them only the display name and the item ids of the turns count.

The dialogue turns themselves are the real conversation, which the real seeker saw: inside them a held-out item
counts as named only through the turns' item annotations, never by a text match. On the 100 INSPIRED evaluation
turns, the text matches there were all false: an ordinary word ("I am *here* to suggest" vs *Here* (2011)), a
longer title ("Angel Has *Fallen*" vs *Fallen* (1998)), or a different catalogue entry of the same film
("the *Matrix* movies", annotated as ``Matrix (1999)``, vs *The Matrix* (1999)). What the simulator's code adds
around the turns (instructions, candidate lists) is matched by text as above.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from benchmark.errors import BenchmarkError

MIN_TITLE_CHARS = 4


class LeakageError(BenchmarkError):
    pass


def _patterns(item: dict) -> list[re.Pattern]:
    names = [item.get("name")]
    if item.get("title") and len(item["title"]) >= MIN_TITLE_CHARS:
        names.append(item["title"])
    return [re.compile(r"(?<!\w)" + re.escape(n) + r"(?!\w)", re.IGNORECASE) for n in names if n]


def mentions(text: str, item: dict) -> bool:
    return any(p.search(text) for p in _patterns(item))


def said_by_seeker(turns: Sequence[dict], item: dict) -> bool:
    return any(t["role"] == "seeker" and (item["item_id"] in t.get("items", []) or mentions(t["text"], item))
               for t in turns)


def check(history: Sequence[dict], prompt_text: str, held_out: Sequence[dict]) -> None:
    """Raise ``LeakageError`` if ``prompt_text`` (without the offered-items block) names a held-out item that the
    seeker had not said in ``history``; ``held_out`` are catalogue items (dicts with item_id, name, title)."""
    added = prompt_text
    for turn in history:  # the real turns are checked through their annotations, not their text (see above)
        added = added.replace(turn["text"], " ")
    for item in held_out:
        if not item.get("has_title", True) or said_by_seeker(history, item):
            continue
        in_turn_items = any(item["item_id"] in t.get("items", []) for t in history)
        if in_turn_items or mentions(added, item):
            raise LeakageError(f"simulator prompt names the held-out target {item.get('name')!r} "
                               f"({item['item_id']}), which the seeker had not said")
