"""The knowledge graph of KBRD, built from the catalogue's own metadata, and entity linking of dialogue text.

Nodes: every catalogue item (indices ``0..n_items-1``, in catalogue order) followed by the metadata entities
``genre:<g>``, ``person:<name>`` (directors and the first ``max_cast`` actors) and ``year:<y>``. Relations:
``genre``, ``director``, ``cast``, ``year``, each in both directions (item -> entity as relation r, entity -> item
as r + 4), so an item's R-GCN embedding collects its metadata and a genre's collects its films. The same
construction works on ReDial and INSPIRED (no external KG needed).

>>> g = build_graph([{"item_id": "a", "genres": ["horror"], "director": ["X Y"], "cast": [], "year": 1990}])
>>> g.entities, g.edge_type.tolist()
(['genre:horror', 'person:x y', 'year:1990'], [0, 4, 1, 5, 3, 7])
>>> link_text("I love scary movies by X Y", g)
['genre:horror', 'person:x y']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

RELATIONS = ("genre", "director", "cast", "year")
# Words a seeker uses for a genre (ReDial/INSPIRED genres are IMDb's, e.g. "sci-fi"): linked to that genre node.
GENRE_ALIASES = {"scary": "horror", "horrors": "horror", "funny": "comedy", "comedies": "comedy",
                 "romantic": "romance", "animated": "animation", "cartoon": "animation", "cartoons": "animation",
                 "sci fi": "sci-fi", "scifi": "sci-fi", "science fiction": "sci-fi", "thrillers": "thriller",
                 "documentaries": "documentary", "musicals": "musical", "westerns": "western",
                 "superhero": "action", "kids": "family"}
MAX_NGRAM = 4  # longest name linked from text (person names are 2-3 words)
TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def normalise(name: str) -> str:
    return " ".join(TOKEN.findall(name.lower().replace("-", " ")))


@dataclass
class MetadataGraph:
    item_ids: list[str]
    entities: list[str]  # node n_items + j is entities[j]
    edge_index: torch.Tensor  # [2, E] source -> target
    edge_type: torch.Tensor  # [E]
    names: dict[str, str] = field(default_factory=dict)  # normalised surface form -> entity

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_nodes(self) -> int:
        return len(self.item_ids) + len(self.entities)

    @property
    def n_relations(self) -> int:
        return 2 * len(RELATIONS)

    def node(self, entity: str) -> int:
        return self.n_items + self._index[entity]

    def __post_init__(self):
        self._index = {e: j for j, e in enumerate(self.entities)}


def item_entities(item: dict, max_cast: int) -> list[tuple[str, str]]:
    """(relation, entity) pairs of one catalogue item, in a fixed order."""
    out = [("genre", f"genre:{g.lower()}") for g in item.get("genres") or []]
    out += [("director", f"person:{normalise(p)}") for p in item.get("director") or [] if normalise(p)]
    out += [("cast", f"person:{normalise(p)}") for p in (item.get("cast") or [])[:max_cast] if normalise(p)]
    if item.get("year"):
        out.append(("year", f"year:{item['year']}"))
    return out


def build_graph(items: Sequence[dict], max_cast: int = 3) -> MetadataGraph:
    """The metadata graph of a catalogue (entities in order of first appearance, so it is deterministic)."""
    entities: dict[str, int] = {}
    src, dst, rel = [], [], []
    for n, item in enumerate(items):
        for relation, entity in dict.fromkeys(item_entities(item, max_cast)):  # an actor who also directs: both
            j = entities.setdefault(entity, len(entities))
            r = RELATIONS.index(relation)
            node = len(items) + j
            src += [n, node]
            dst += [node, n]
            rel += [r, r + len(RELATIONS)]
    names = {}
    for entity in entities:
        kind, _, value = entity.partition(":")
        # Persons need two words (a first name alone links to too much); genres link by name and aliases.
        if kind == "person" and len(value.split()) >= 2 or kind == "genre":
            names[normalise(value)] = entity
    for alias, genre in GENRE_ALIASES.items():
        if f"genre:{genre}" in entities:
            names.setdefault(normalise(alias), f"genre:{genre}")
    # reshape: a catalogue without any metadata still gives a [2, 0] edge tensor (items keep their own embedding)
    edge_index = torch.tensor([src, dst], dtype=torch.long).reshape(2, len(src))
    return MetadataGraph([it["item_id"] for it in items], list(entities), edge_index,
                         torch.tensor(rel, dtype=torch.long), names)


def link_text(text: str, graph: MetadataGraph) -> list[str]:
    """Entities whose name occurs in ``text`` (longest match first, left to right), each once."""
    tokens = TOKEN.findall(text.lower().replace("-", " "))
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for n in range(min(MAX_NGRAM, len(tokens) - i), 0, -1):
            entity = graph.names.get(" ".join(tokens[i:i + n]))
            if entity:
                if entity not in out:
                    out.append(entity)
                i += n
                break
        else:
            i += 1
    return out
