"""One call that seeds every random number generator a stage draws from (Python, NumPy, torch).

    from benchmark.seeding import seed_everything
    seed_everything(0)   # first thing in every stage (predict, train-*), before any model is built

Stages that need an independent stream (an epoch order) make their own ``torch.Generator().manual_seed(seed)``.
"""

from __future__ import annotations

import contextlib
import random

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed ``random``, ``numpy.random`` and torch's global generator (CPU and, through it, every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # the data and evaluation stages run without torch
        pass


@contextlib.contextmanager
def single_thread_on_cpu(device: str = "cpu"):
    """Run the block on one intra-op thread when ``device`` is the CPU, then restore the thread count.

    For models whose CPU kernels reduce in a thread-dependent order: KBRD's R-GCN message passing (scatter-add)
    gave a different training loss in the 8th digit on every 2-thread run, and different transfer rankings; on one
    thread it is byte-identical across runs. GPU runs are untouched (their determinism is not claimed).
    """
    import torch

    if str(device).startswith("cuda"):
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
