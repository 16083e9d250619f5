"""The System protocol every recommender implements.

A system is fit once on a training dataset and then ranks catalogue items for batches of evaluation samples::

    system = SYSTEMS.get("popularity")(**params)
    system.fit(DatasetBundle("results/processed/redial"), seed=0)
    ranked = system.recommend(samples, catalog, k=50)   # list of item-id lists, best first

``catalog`` is the *test* dataset's catalogue; when it differs from the training catalogue (transfer runs),
systems map items through ``benchmark.data.bundle.align``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

# Re-exported for one release: these lived here until the data layer took them (benchmark.data.bundle), and code
# outside this repository (a user's own System) may still import them from here. Import from benchmark.data.bundle.
from benchmark.data.bundle import Catalog, DatasetBundle, align, align_matches

__all__ = ["Catalog", "DatasetBundle", "System", "align", "align_matches"]


@runtime_checkable
class System(Protocol):
    """What ``python -m benchmark predict`` needs from a recommender."""

    name: str

    def fit(self, train: DatasetBundle, seed: int) -> None:
        """Learn whatever the system needs from the training dataset (may be a no-op)."""

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        """For each sample, up to ``k`` item ids of ``catalog``, best first."""
