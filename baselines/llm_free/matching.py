"""Generated titles -> catalogue item ids: parse a numbered list, normalise titles, match exact / year / fuzzy.

He et al. (CIKM 2023) map each generated line to the nearest DBpedia entity name by Levenshtein distance and keep
it "in catalogue" when the distance is <= 2. We match to *our* catalogue instead (the item ids our metrics need):

1. ``parse_list``: the lines after the first ``1.`` (comma-split when there is none, as in their extraction), list
   numbers / bullets / quotes and a leading speaker tag (``System:``, ``User:``: a small model continues the dialogue
   instead of listing titles) stripped, empty entries dropped, at most ``n`` entries; a ``(1995)`` or trailing
   ``1995`` is kept apart as the year.
2. ``norm``: lowercase, accents and punctuation removed, ``&`` -> ``and``, ``Matrix, The`` -> ``the matrix``.
3. ``TitleIndex.match``: **exact** = the normalised title (whole line first, then without the year) is a catalogue
   title and the year agrees or none was given and only one item has the title; **year** = the title is a
   catalogue title but the year differs, was only found inside the title, or several items share the title
   (the item with the nearest year wins, else the most recent); **fuzzy** = a catalogue title within Levenshtein
   distance ``max_edit_distance`` (He et al.'s 2) of a normalised title of at least ``min_fuzzy_chars`` characters
   (so that "Up" is never "It"); else **unmatched** (counted, never a hit).

>>> idx = TitleIndex([{"item_id": "a", "title": "Heat", "year": 1995}, {"item_id": "b", "title": "Heat",
...                    "year": 1986}, {"item_id": "c", "title": "The Matrix", "year": 1999},
...                   {"item_id": "d", "title": "It", "year": 2017}])
>>> [(m.item_id, m.kind) for m in map(idx.match, ["Heat (1986)", "Heat (1987)", "Matrix, The", "The Matrx", "Ut"])]
[('b', 'exact'), ('b', 'year'), ('c', 'exact'), ('c', 'fuzzy'), (None, 'unmatched')]
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

KINDS = ("exact", "year", "fuzzy", "unmatched")
_YEAR_PAREN = re.compile(r"\((\d{4})\)")
_YEAR_TAIL = re.compile(r"^(.*\S)[\s,-]+((?:19|20)\d{2})$")
_NUMBER = re.compile(r"^\s*(?:\d{1,2}\s*[.):]|[-*\u2022])\s*")
_ARTICLE_TAIL = re.compile(r"^(.*), (the|a|an)$")
# A dialogue turn written by the model, not a title (a tag with its colon, or a bare tag line): before this was
# stripped, SmolLM2-135M's 186 "System:" lines on the ReDial subset were all fuzzy-matched (distance <= 2) to one film.
_SPEAKER = re.compile(r"^(?:user|system|seeker|recommender)\s*(?::\s*|$)", re.IGNORECASE)


def norm(text: str) -> str:
    """Lowercase, accents stripped, ``&`` -> ``and``, punctuation removed, ``X, The`` -> ``the x``."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().strip()
    text = re.sub(r"\s+", " ", text.replace("&", " and "))
    tail = _ARTICLE_TAIL.match(text)
    if tail:
        text = f"{tail.group(2)} {tail.group(1)}"
    return " ".join(re.sub(r"[^\w\s]", " ", text).replace("_", " ").split())


def split_year(line: str) -> tuple[str, int | None]:
    """``"Heat (1995)"`` -> ``("Heat", 1995)``; other parenthesised parts are dropped (as He et al. do)."""
    found = _YEAR_PAREN.search(line)
    year = int(found.group(1)) if found else None
    title = re.sub(r"\([^)]*\)", " ", line).strip()
    return " ".join(title.split()), year


def parse_list(text: str, n: int = 20) -> list[str]:
    """The generated entries, in order (He et al.'s extraction: after the first ``1.``, one entry per line).

    >>> parse_list("System: \\nSystem: Heat (1995)\\nUser: thanks\\nSystem")
    ['Heat (1995)', 'thanks']
    """
    start = re.search(r"(^|\s)1[.)]", text)
    if start:
        lines = text[start.start():].splitlines()
    else:
        lines = [p for line in text.splitlines() for p in line.split(",")]
    out = []
    for line in lines:
        line = _SPEAKER.sub("", _NUMBER.sub("", line.replace("\"", "")).strip()).strip().strip("'*").strip()
        head, _, why = line.partition(" - ")
        if len(why.split()) >= 5:  # "Title - because you liked ..." is an explanation; "M:I - Fallout" is a title
            line = head.strip().strip("\"'*").strip()
        if line:
            out.append(line)
    return out[:n]


@dataclass
class Match:
    text: str  # the generated entry
    item_id: str | None
    kind: str  # exact / year / fuzzy / unmatched


class TitleIndex:
    """Normalised catalogue titles -> items (untitled items are left out: nothing can name them)."""

    def __init__(self, items: Sequence[dict], max_edit_distance: int = 2, min_fuzzy_chars: int = 6):
        self.by_title: dict[str, list[tuple[str, int | None]]] = {}
        for it in items:
            if it.get("has_title") is False:
                continue
            title = it.get("title") or split_year(it.get("name") or "")[0]
            key = norm(title)
            if key:
                self.by_title.setdefault(key, []).append((it["item_id"], it.get("year")))
        self.titles = list(self.by_title)
        self.max_edit_distance, self.min_fuzzy_chars = max_edit_distance, min_fuzzy_chars

    def _pick(self, key: str, year: int | None) -> tuple[str, bool]:
        """(item id, year agreed): the same year, else the nearest, else the most recent."""
        items = self.by_title[key]
        if year is not None:
            best = min(items, key=lambda x: (abs((x[1] or 0) - year), -(x[1] or 0)))
            return best[0], best[1] == year
        best = max(items, key=lambda x: x[1] or 0)
        return best[0], len(items) == 1

    def match(self, text: str) -> Match:
        title, year = split_year(text)
        whole = norm(title)
        tail = _YEAR_TAIL.match(title)
        tries = [(whole, year, False)]
        if tail and year is None:  # "Heat 1995": a year inside the line, unless the title itself ends so
            tries.append((norm(tail.group(1)), int(tail.group(2)), True))
        for key, y, from_tail in tries:
            if key in self.by_title:
                item, agreed = self._pick(key, y)
                return Match(text, item, "exact" if agreed and not from_tail else "year")
        if len(whole) >= self.min_fuzzy_chars and self.max_edit_distance > 0:
            found = process.extractOne(whole, self.titles, scorer=Levenshtein.distance,
                                       score_cutoff=self.max_edit_distance)
            if found is not None:
                return Match(text, self._pick(found[0], year)[0], "fuzzy")
        return Match(text, None, "unmatched")


def match_list(index: TitleIndex, entries: Sequence[str]) -> tuple[list[str], list[Match], dict[str, int]]:
    """(ranked item ids without duplicates, every entry's match, counts per kind + ``duplicate`` + ``titles``)."""
    matches = [index.match(e) for e in entries]
    ranked, seen = [], set()
    counts = Counter({k: 0 for k in KINDS})
    counts["duplicate"] = 0
    for m in matches:
        counts[m.kind] += 1
        if m.item_id is None:
            continue
        if m.item_id in seen:
            counts["duplicate"] += 1
            continue
        seen.add(m.item_id)
        ranked.append(m.item_id)
    counts["titles"] = len(entries)
    return ranked, matches, dict(counts)
