"""Leakage guard: the simulator's input and its replies must not name a held-out target the seeker had not said.

The runtime simulator never sees the user's true target; the guard makes that a checked property instead of a
convention. ``UserSimulator`` runs ``scan`` on every prompt it generates from and on every feedback reply it
returns (``tests/unit/test_usersim.py`` fails if a generation path bypasses it).

What is checked, and how:

* **The real turns** shown in the prompt are the real conversation, which the real seeker saw. Their text is
  exempt *by span*: ``turn_spans`` locates each shown turn's line in the prompt (in order, from a cursor), and
  only the text outside those spans is matched. A held-out item that the real history already has (a turn
  annotated with it, or the seeker naming it) is no secret and is skipped. Text matches inside real turns were
  unreliable anyway: on the INSPIRED evaluation turns some were false (an ordinary word, "I am
  *here* to suggest" vs *Here* (2011); a longer title, "Angel Has *Fallen*" vs *Fallen* (1998)) and at least 3 were
  the seeker naming the film, which is not a leak either.
* **The block of items the recommender just offered** is exempt: the recommender proposing the right film is not
  a leak (the caller passes the text without it).
* **Everything else** the code adds (instructions, candidate lists) and every generated feedback reply is matched
  by text: the display name with its year (``"The Conjuring (2013)"``, also ``"The Conjuring 2013"``) when the
  item has a year, with word boundaries, case-insensitive; a title alone counts only for items without a year and
  of at least ``MIN_TITLE_CHARS`` characters. So the sequel "The Conjuring 2 (2016)" does not match *The Conjuring*
  (2013) (the old guard's one firing on ReDial test, sample ``23273#9``, was exactly that after blanking "hi"
  inside "this" by string replacement), and "it is scary" does not match *It* (2017).

A firing never aborts a run: ``scan`` returns ``Finding``s, the simulator counts and logs each (sample, item,
matched text, where) and replaces the matched text with ``WITHHELD`` before generating (prompt) or before returning
(reply).

    python -m benchmark guard-audit --processed results/processed/redial --out results/usersim/guard/redial.json
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from benchmark.usersim.templates import ROLE

MIN_TITLE_CHARS = 4
WITHHELD = "[withheld]"
YEAR_IN_NAME = re.compile(r"\((\d{4})\)\s*$")
log = logging.getLogger("benchmark.usersim.guard")


@dataclass(frozen=True)
class Finding:
    item_id: str
    name: str
    where: str  # "prompt" (text added by code around the real turns) or "reply" (a generated reply)
    matched: str = ""
    start: int = -1
    end: int = -1

    def to_dict(self) -> dict:
        return asdict(self)


def _patterns(item: dict) -> list[re.Pattern]:
    title, year = item.get("title") or "", item.get("year")
    if not year and (m := YEAR_IN_NAME.search(item.get("name") or "")):
        year = m.group(1)
    if title and year:  # the year is required: a sequel or remake shares the title, not the year
        body = re.escape(title) + r"\s*(?:\(\s*" + str(year) + r"\s*\)|" + str(year) + r")"
    elif title and len(title) >= MIN_TITLE_CHARS:
        body = re.escape(title)
    elif item.get("name"):
        body = re.escape(item["name"])
    else:
        return []
    return [re.compile(r"(?<!\w)" + body + r"(?!\w)", re.IGNORECASE)]


def find_mentions(text: str, item: dict) -> list[tuple[int, int]]:
    return [m.span() for p in _patterns(item) for m in p.finditer(text)]


def mentions(text: str, item: dict) -> bool:
    return bool(find_mentions(text, item))


def said_by_seeker(turns: Sequence[dict], item: dict) -> bool:
    return any(t["role"] == "seeker" and (item["item_id"] in t.get("items", []) or mentions(t["text"], item))
               for t in turns)


def in_history(turns: Sequence[dict], item: dict) -> bool:
    """The real conversation already has the item: a turn annotated with it, or the seeker naming it. The real
    seeker saw it, so it is no secret (under the ``all`` protocol a target may be such a repeat)."""
    return any(item["item_id"] in t.get("items", []) for t in turns) or said_by_seeker(turns, item)


def turn_spans(text: str, shown_turns: Sequence[dict]) -> list[tuple[int, int]]:
    """Character spans of the shown turns' texts in ``text`` (their ``Role: text`` lines, searched in order)."""
    spans, cursor = [], 0
    for turn in shown_turns:
        line = f"{ROLE[turn['role']]}: {turn['text']}"
        at = text.find(line, cursor)
        if at < 0:  # not shown as a line: leave it to the text match (conservative)
            continue
        start = at + len(ROLE[turn["role"]]) + 2
        spans.append((start, start + len(turn["text"])))
        cursor = start + len(turn["text"])
    return spans


def _outside(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return not any(s <= start and end <= e for s, e in spans)


def scan(text: str, held_out: Sequence[dict], history: Sequence[dict] = (), shown_turns: Sequence[dict] = (),
         where: str = "prompt") -> list[Finding]:
    """Findings of held-out items in ``text`` outside the spans of ``shown_turns`` (items already in the real
    ``history`` are skipped, see ``in_history``).

    ``history``: all real turns so far (a seeker who said the item makes it no leak); ``shown_turns``: those
    rendered into ``text``. For a generated reply pass ``where="reply"`` and no turns."""
    spans = turn_spans(text, shown_turns)
    out = []
    for item in held_out:
        if not item.get("has_title", True) or in_history(history, item):
            continue
        out.extend(Finding(item["item_id"], item.get("name", ""), where, text[s:e], s, e)
                   for s, e in find_mentions(text, item) if _outside(spans, s, e))
    return out


def redact(text: str, findings: Sequence[Finding]) -> str:
    """Replace each finding's matched text by ``WITHHELD``."""
    for s, e in sorted({(f.start, f.end) for f in findings}, reverse=True):
        text = text[:s] + WITHHELD + text[e:]
    return text


def record(findings: Sequence[Finding], sample_id: str, events: list[dict]) -> None:
    """Append each finding to ``events`` (the simulator's counter) and log it: never raise."""
    for f in findings:
        events.append({"sample_id": sample_id, **f.to_dict()})
        log.warning("leakage guard fired: sample %s, held-out %s (%s), %s text %r", sample_id or "?", f.name,
                    f.item_id, f.where, f.matched)


def guard_replies(requests, replies: Sequence[str], events: list[dict]) -> list[str]:
    """The reply guard shared by every simulator: a reply naming a held-out target that was not offered is
    recorded in ``events``, logged, and the name withheld."""
    out = []
    for req, reply in zip(requests, replies, strict=True):
        offered = {it["item_id"] for it in req.offered}
        held = [it for it in req.held_out if it["item_id"] not in offered]
        found = scan(reply, held, req.history, where="reply")
        record(found, req.sample_id, events)
        out.append(redact(reply, found))
    return out
