"""Which item of a source catalogue is the same film as an item of a target catalogue (transfer runs, metadata).

``match_items(source, target)`` returns, per target item, ``(source index or -1, match type)``. The rules are
tried in this order, and a rule matches only when it leaves exactly one candidate (ambiguous -> next rule):

========== ===========================================================================================
``imdb``    both items carry an IMDb id (``imdb_id``) and they are equal
``key``     equal unified key (normalised title + year, or title alone when both years are missing); when
            several source items share the key, the one with metadata, then the most mentioned, wins
``year_pm1`` same normalised title, years one apart (festival vs release year: *Taken* 2008 / 2009)
``no_year`` same normalised title, the year missing on exactly one side (*Anchorman* / *Anchorman (2004)*),
            the title naming one film on each side, and the dated film not newer than the undated side's
            catalogue (its 99th-percentile year: 2018 for ReDial, collected 2017-18)
``article`` same title up to a leading article, both years known and at most one apart (*Matrix* / *The Matrix*)
``none``    no rule left exactly one candidate
========== ===========================================================================================

Why not looser: 510 ReDial titles recur once articles are dropped, and many are different films with
different years (*It* 1990 / 2017, *The Lion King* 1994 / 2019), so a year gap over one never matches and a
missing year matches only when the title names one film on each side.

    python -c "from benchmark.data.matching import match_items; print(match_items(src_items, tgt_items)[:5])"
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from benchmark.data import movies

MATCH_TYPES = ("id", "imdb", "key", "year_pm1", "no_year", "article", "none")
TOLERANCE = 1  # years; a festival premiere and the release year differ by one (Taken 2008/2009, Ex Machina)


MATCH_FIELDS = ("item_id", "key", "title", "year", "imdb_id", "nb_mentions")


def match_fields(item: dict) -> dict:
    """The part of a catalogue item that ``match_items`` reads (stored with trained models for transfer runs)."""
    out = {f: item.get(f) for f in MATCH_FIELDS if item.get(f) is not None}
    out["has_meta"] = bool(item.get("genres") or item.get("plot"))
    return out


def _preference(item: dict) -> tuple:
    """Among source items sharing a key: metadata first, then mentions (ReDial ``nb_mentions``)."""
    return (bool(item.get("has_meta") or item.get("genres") or item.get("plot")), item.get("nb_mentions", 0))


class _Index:
    """Source-side lookups by IMDb id, unified key, normalised title and bare title."""

    def __init__(self, source: Sequence[dict]):
        self.items = source
        self.imdb: dict[str, list[int]] = defaultdict(list)
        self.key: dict[str, list[int]] = defaultdict(list)
        self.title: dict[str, list[int]] = defaultdict(list)
        self.bare: dict[str, list[int]] = defaultdict(list)
        for n, it in enumerate(source):
            if it.get("imdb_id"):
                self.imdb[it["imdb_id"]].append(n)
            if it.get("title"):
                self.key[it["key"]].append(n)
                self.title[movies.normalise_title(it["title"])].append(n)
                self.bare[movies.bare_title(it["title"])].append(n)

        years = sorted(it["year"] for it in source if it.get("year") is not None)
        # 99th percentile of the source's years: ReDial (collected 2017-18) lists 3 announced 2019 films of 6.5k.
        self.era_end = years[int(0.99 * (len(years) - 1))] if years else 9999

    def year(self, n: int) -> int | None:
        return self.items[n].get("year")

    def match(self, it: dict, own: _Index) -> tuple[int, str]:
        """``it`` is an item of the target catalogue indexed as ``own``."""
        if it.get("imdb_id") and len(found := self.imdb.get(it["imdb_id"], [])) == 1:
            return found[0], "imdb"
        if not it.get("title"):
            return -1, "none"
        if found := self.key.get(it["key"]):
            return max(found, key=lambda n: (_preference(self.items[n]), -n)), "key"
        year, title = it.get("year"), movies.normalise_title(it["title"])
        same = self.title.get(title, [])
        if year is not None:
            near = [n for n in same if self.year(n) is not None and abs(self.year(n) - year) <= TOLERANCE]
            if len(near) == 1:
                return near[0], "year_pm1"
            # An undated source title stands for a dated target only when the title names one film on each
            # side and the target is not newer than the source's era (ReDial's undated "Lady and the Tramp" is
            # not the 2019 remake).
            if len(same) == 1 == len(own.title[title]) and self.year(same[0]) is None and year <= self.era_end:
                return same[0], "no_year"
        elif len(same) == 1 and len(own.title[title]) == 1 and self.year(same[0]) <= own.era_end:
            return same[0], "no_year"  # undated target: the title names one film on both sides, of its era
        if year is not None:
            bare = [n for n in self.bare.get(movies.bare_title(it["title"]), [])
                    if n not in same and self.year(n) is not None and abs(self.year(n) - year) <= TOLERANCE]
            if len(bare) == 1:
                return bare[0], "article"
        return -1, "none"


def match_items(source: Sequence[dict], target: Sequence[dict]) -> list[tuple[int, str]]:
    """Per target item: the index of the same film in ``source`` (-1 if none) and the rule that matched."""
    index, own = _Index(source), _Index(target)
    return [index.match(it, own) for it in target]
