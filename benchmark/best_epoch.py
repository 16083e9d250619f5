"""Best-epoch model selection with patience, shared by every epoch-based training loop (retriever, SASRec, KBRD).

    best = BestEpoch(patience=5)
    for epoch in range(1, epochs + 1):
        ...train one epoch, score the valid split...
        if best.update(epoch, score, lambda: copy.deepcopy(model.state_dict())):
            break                                   # ``patience`` epochs without a better score
    model.load_state_dict(best.state)

The first score always counts as the best (so a NaN or negative first score still leaves a state to restore);
later ones only when strictly greater, so on a tie the earlier epoch wins. ``snapshot`` is called only for a new
best, and nothing here draws random numbers: a loop's RNG consumption is that of the loop alone.

>>> b = BestEpoch(patience=2)
>>> [b.update(e, s, lambda: e) for e, s in enumerate([0.1, 0.3, 0.3, 0.2], start=1)]
[False, False, False, True]
>>> b.epoch, b.score, b.state
(2, 0.3, 2)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class BestEpoch:
    """The best valid score so far, its epoch and a snapshot of the state at that epoch."""

    def __init__(self, patience: int | None = None):
        """``patience``: stop after this many epochs without a better score (``None``: never stop early)."""
        self.patience = patience
        self.score: float | None = None
        self.epoch = 0
        self.state: Any = None

    def update(self, epoch: int, score: float, snapshot: Callable[[], Any]) -> bool:
        """Record ``epoch``'s valid ``score``; keep ``snapshot()`` if it is the best. True = stop training now."""
        if self.score is None or score > self.score:
            self.score, self.epoch, self.state = score, epoch, snapshot()
            return False
        return self.patience is not None and epoch - self.epoch >= self.patience
