"""Parse the recommender's ``<think>...</think><answer>n1, ..., n10</answer>`` output (versioned, tolerant).

Rules (``PARSER_VERSION`` changes whenever one does, and is stored with every prediction):

* the answer is the text after the **last** ``<answer>`` tag (case-insensitive) up to ``</answer>`` or, when
  the closing tag is missing (a truncated generation), to the end (flag ``unclosed``);
* numbers are the integers in it, whatever separates them (commas, spaces, newlines, ``#3``, ``3.``);
* a number outside 1..n_candidates is dropped (flag ``out_of_range``), a repeat is dropped (``duplicate``),
  numbers past the first ``k`` kept ones are dropped (``too_many``);
* status: ``ok`` = closed answer with exactly min(k, n_candidates) distinct valid numbers and nothing dropped;
  ``partial`` = at least one valid number but not ok; ``malformed`` = an answer tag without a valid number;
  ``no_answer`` = no ``<answer>`` tag at all. Only ``malformed``/``no_answer`` fall back to retriever order.

>>> parse_answer("<think>likes crime</think><answer>3, 1, 2</answer>", 3, k=3)
ParseResult(numbers=[3, 1, 2], status='ok', flags=[], has_think=True)
>>> parse_answer("<answer> 3 3\\n 9, 1", 5, k=3)
ParseResult(numbers=[3, 1], status='partial', flags=['duplicate', 'out_of_range', 'too_few', 'unclosed'], \
has_think=False)
>>> parse_answer("I recommend number 4", 5).status, parse_answer("<answer>none</answer>", 5).status
('no_answer', 'malformed')
>>> to_ranking(parse_answer("<answer>2</answer>", 3), ["x", "y", "z"], ["z", "x", "y"])
['y', 'z', 'x']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

PARSER_VERSION = 1
STATUSES = ("ok", "partial", "malformed", "no_answer")
FALLBACK_STATUSES = ("malformed", "no_answer")  # answers that fall back to retriever order (and are counted)

_OPEN = re.compile(r"<\s*answer\s*>", re.IGNORECASE)
_CLOSE = re.compile(r"<\s*/\s*answer\s*>", re.IGNORECASE)
_THINK = re.compile(r"<\s*think\s*>.*?<\s*/\s*think\s*>", re.IGNORECASE | re.DOTALL)
_NUMBER = re.compile(r"\d+")


@dataclass
class ParseResult:
    numbers: list[int] = field(default_factory=list)  # 1-based candidate numbers, best first, distinct, valid
    status: str = "no_answer"
    flags: list[str] = field(default_factory=list)  # what was tolerated: duplicate, out_of_range, too_many, ...
    has_think: bool = False  # a closed <think>...</think> block before the answer

    @property
    def fallback(self) -> bool:
        return self.status in FALLBACK_STATUSES


def parse_answer(text: str, n_candidates: int, k: int = 10) -> ParseResult:
    """Parse ``text`` for ``n_candidates`` numbered candidates (expects min(k, n_candidates) numbers)."""
    text = text or ""
    opens = list(_OPEN.finditer(text))
    has_think = bool(_THINK.search(text[:opens[-1].start()] if opens else text))
    if not opens:
        return ParseResult([], "no_answer", [], has_think)
    body = text[opens[-1].end():]
    flags: set[str] = set()
    close = _CLOSE.search(body)
    if close:
        body = body[:close.start()]
    else:
        flags.add("unclosed")
    numbers: list[int] = []
    for match in _NUMBER.finditer(body):
        n = int(match.group())
        if not 1 <= n <= n_candidates:
            flags.add("out_of_range")
        elif n in numbers:
            flags.add("duplicate")
        elif len(numbers) >= k:
            flags.add("too_many")
        else:
            numbers.append(n)
    if not numbers:
        return ParseResult([], "malformed", sorted(flags), has_think)
    if len(numbers) < min(k, n_candidates):
        flags.add("too_few")
    return ParseResult(numbers, "partial" if flags else "ok", sorted(flags), has_think)


def to_ranking(result: ParseResult, order: Sequence[str], fallback: Sequence[str], k: int = 10) -> list[str]:
    """Item ids: the first ``k`` parsed candidates (``order[n - 1]``), then the rest of ``fallback`` in its order.

    ``fallback`` is the retriever's candidate list (best first); an answer without a valid number
    (``malformed``/``no_answer``) therefore yields exactly the retriever order.
    """
    top = [order[n - 1] for n in result.numbers[:k]]
    seen = set(top)
    return top + [i for i in fallback if i not in seen]
