"""One identity per movie: find catalogue items that are the same film ("twins") and merge them into one item.

A twin group is merged into its *canonical* item (the one with metadata, then a year, then the most mentions,
then the smallest id); the other ids become ``aliases`` of it, every dialogue mention is rewritten to the
canonical id (duplicates within a turn dropped), and samples built afterwards therefore never hold a target
and its twin as two items. Rules (``docs/reconstruction.md``, "One identity per movie"):

* ReDial (``imdb_twins``): ids whose ``id2info.json`` entries share an IMDb id **and** whose titles agree up to
  a leading article, with years at most one apart or missing. id2info's IMDb ids come from a title search and
  are wrong often enough (*Goodfellas (1990)* and *It (1990)* share tt0099685) that a shared IMDb id alone is
  not evidence; groups whose titles disagree are kept apart and listed as ``conflicts``.
* INSPIRED (``title_twins``): titles equal up to a leading article ("Matrix (1999)" / "The Matrix (1999)"),
  years at most one apart or missing on one side; a group whose years spread further is split by exact year
  and its undated members stay alone (ambiguous).

    python -m benchmark process redial ...   # writes processed/<ds>/twins.json and stats["twins"]
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

from benchmark.data import movies
from benchmark.data.matching import TOLERANCE


def _year_clusters(members: list[dict]) -> list[list[dict]]:
    """Split same-title items into groups that are one film: all years within TOLERANCE, else per exact year."""
    years = [m["year"] for m in members if m.get("year") is not None]
    if not years or max(years) - min(years) <= TOLERANCE:
        return [members]
    by_year: dict[int, list[dict]] = defaultdict(list)
    for m in members:
        if m.get("year") is not None:
            by_year[m["year"]].append(m)
    return list(by_year.values())  # undated members are ambiguous between the years: left alone


def _by_title(items: Sequence[dict]) -> list[list[dict]]:
    buckets: dict[str, list[dict]] = defaultdict(list)
    for it in items:
        if it.get("title"):
            buckets[movies.bare_title(it["title"])].append(it)
    return [g for members in buckets.values() for g in _year_clusters(members) if len(g) > 1]


def title_twins(items: Sequence[dict]) -> list[list[str]]:
    """Groups of item ids (each >= 2) whose titles agree up to an article and whose years agree (INSPIRED)."""
    return [[it["item_id"] for it in g] for g in _by_title(items)]


def imdb_twins(items: Sequence[dict]) -> tuple[list[list[str]], list[list[str]]]:
    """``(groups, conflicts)``: same IMDb id and agreeing titles -> a group; a shared IMDb id whose items are
    not all merged into one group -> a conflict (ids of the whole IMDb bucket)."""
    buckets: dict[str, list[dict]] = defaultdict(list)
    for it in items:
        if it.get("imdb_id"):
            buckets[it["imdb_id"]].append(it)
    groups, conflicts = [], []
    for _, members in sorted(buckets.items()):
        if len(members) < 2:
            continue
        found = _by_title(members)
        groups.extend([it["item_id"] for it in g] for g in found)
        if not (len(found) == 1 and len(found[0]) == len(members)):
            conflicts.append([it["item_id"] for it in members])
    return groups, conflicts


def default_rank(mentions: Counter) -> Callable[[dict], tuple]:
    def rank(it: dict) -> tuple:
        return (bool(it.get("genres") or it.get("plot")), it.get("year") is not None,
                mentions.get(it["item_id"], it.get("nb_mentions", 0)))
    return rank


def merge(catalog: list[dict], groups: list[list[str]], rank: Callable[[dict], tuple],
          rule: str) -> tuple[list[dict], dict[str, str], list[dict]]:
    """``(catalog without aliases, alias -> canonical, group records)``; the canonical item gets ``aliases``."""
    by_id = {it["item_id"]: it for it in catalog}
    alias_of: dict[str, str] = {}
    records = []
    for ids in groups:
        # Best rank first; among equals the smallest id, so the choice never depends on file order.
        ordered = sorted(ids, key=lambda i: (tuple(-int(x) for x in rank(by_id[i])), i))
        canonical, rest = ordered[0], sorted(ordered[1:])
        alias_of.update({a: canonical for a in rest})
        records.append({"canonical": canonical, "aliases": rest, "rule": rule,
                        "names": {i: by_id[i].get("name") for i in ordered}})
    merged = []
    for it in catalog:
        if it["item_id"] in alias_of:
            continue
        aliases = sorted(a for a, c in alias_of.items() if c == it["item_id"])
        merged.append(dict(it, aliases=aliases))
    return merged, alias_of, records


def remap_dialogues(dialogues: dict[str, list[dict]], alias_of: dict[str, str]) -> dict[str, int]:
    """Rewrite turn items to canonical ids in place (order kept, duplicates dropped); mentions rewritten per split."""
    rewritten = {}
    for split, ds in dialogues.items():
        n = 0
        for d in ds:
            for t in d["turns"]:
                n += sum(i in alias_of for i in t["items"])
                t["items"] = list(dict.fromkeys(alias_of.get(i, i) for i in t["items"]))
        rewritten[split] = n
    return rewritten


def report(records: list[dict], conflicts: list[list[str]], items_before: int, items_after: int,
           rewritten: dict[str, int], names: dict[str, str | None]) -> dict:
    """The ``twins.json`` record (counts also go to ``stats.json``)."""
    return {
        "counts": {"items_before": items_before, "items_after": items_after, "groups": len(records),
                   "aliases": items_before - items_after, "conflict_groups": len(conflicts),
                   "mentions_rewritten": rewritten},
        "groups": records,
        "conflicts": [{"ids": ids, "names": {i: names.get(i) for i in ids}} for ids in conflicts],
    }
