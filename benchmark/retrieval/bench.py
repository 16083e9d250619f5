"""Benchmark: batched query throughput of a trained retriever (context encoding + fusion scoring + top-K).

    python -m benchmark bench-retriever --model results/models/retriever/dualview/redial/seed0 \\
        --processed results/processed/redial --batch-size 256 --n 2048

Prints queries per second over ``n`` test-sample contexts (repeated if the split is smaller), after one warm-up
batch; the item index is loaded (or built) before timing. Target on the 2-core reference machine: >= 100 q/s.
"""

from __future__ import annotations

import itertools
import time

from benchmark.data.bundle import DatasetBundle
from benchmark.retrieval.retriever import DualViewRetriever


def main(model: str, processed: str, batch_size: int = 256, n: int = 2048) -> int:
    bundle = DatasetBundle(processed)
    retriever = DualViewRetriever(model)
    retriever.index(bundle.catalog)
    contexts = [s["context"] for s in itertools.islice(itertools.cycle(bundle.samples("test")), n)]
    retriever.candidates(contexts[:batch_size], catalog=bundle.catalog)  # warm-up
    started = time.perf_counter()
    for start in range(0, n, batch_size):
        retriever.candidates(contexts[start:start + batch_size], catalog=bundle.catalog)
    seconds = time.perf_counter() - started
    print(f"{n} queries in {seconds:.1f} s at batch {batch_size}: {n / seconds:.1f} queries/s "
          f"(catalogue {len(bundle.catalog)} items, K={retriever.recipe['candidates']})")
    return 0
