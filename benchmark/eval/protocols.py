"""The two evaluation protocol variants, side by side in every table (DESIGN.md section 4).

* ``all``: every (sample, target) pair counts, including targets already mentioned earlier in the dialogue.
  A system that repeats the context scores well here (published numbers often use this variant).
* ``fresh``: targets already mentioned in the context are dropped; samples left with no target are dropped.
  Only new recommendations count; repeating the context scores exactly 0 on the repeated part.

>>> s = {"targets": ["a", "b"], "context_items": ["b", "c"]}
>>> PROTOCOLS["all"].targets(s), PROTOCOLS["fresh"].targets(s)
(['a', 'b'], ['a'])
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmark.registry import unknown_name


@dataclass(frozen=True)
class Protocol:
    name: str
    description: str
    drop_context_targets: bool

    def targets(self, sample: dict) -> list[str]:
        if not self.drop_context_targets:
            return list(sample["targets"])
        seen = set(sample["context_items"])
        return [t for t in sample["targets"] if t not in seen]


PROTOCOLS = {
    "all": Protocol("all", "every (recommender turn, mentioned item) pair; items already in the context count",
                    drop_context_targets=False),
    "fresh": Protocol("fresh", "(recommender turn, mentioned item) pairs whose item was not mentioned earlier in "
                               "the dialogue; turns left without such items are dropped", drop_context_targets=True),
}


def get_protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise unknown_name("protocol", name, PROTOCOLS)
    return PROTOCOLS[name]
