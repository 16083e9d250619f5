"""Text retrieval baselines over item text (``benchmark.retrieval.text``), the dialogue context as query.

Card: ``baselines/text/README.md``.

* ``bm25``: Okapi BM25 (``bm25s``, Lucene variant, k1=1.5, b=0.75, English stop words) over item texts.
* ``dense``: zero-shot sentence embedder (all-MiniLM-L6-v2 by default), cosine of context and item text.

Neither learns from the training dialogues (``fit`` only records the seed); both rank the *test* catalogue.

    python -m benchmark predict bm25 --train results/processed/redial --test results/processed/redial \\
        --split test --seed 0 --out results/predictions/bm25/redial/redial/seed0.jsonl
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from benchmark.data.bundle import Catalog, DatasetBundle
from benchmark.retrieval.text import context_text, item_text


class BM25System:
    """Okapi BM25 over item text, the dialogue context as query (no training)."""

    name = "bm25"

    def __init__(self, k1: float = 1.5, b: float = 0.75, max_turns: int = 8):
        self.k1, self.b, self.max_turns = k1, b, max_turns
        self._index: dict[str, object] = {}

    def fit(self, train: DatasetBundle, seed: int) -> None:
        pass

    def _retriever(self, catalog: Catalog):
        import bm25s

        if catalog.dataset not in self._index:
            corpus = bm25s.tokenize([item_text(it) for it in catalog.items], stopwords="en", show_progress=False)
            retriever = bm25s.BM25(k1=self.k1, b=self.b)
            retriever.index(corpus, show_progress=False)
            self._index[catalog.dataset] = retriever
        return self._index[catalog.dataset]

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        import bm25s

        retriever = self._retriever(catalog)
        queries = [context_text(s["context"], max_turns=self.max_turns) for s in samples]
        tokens = bm25s.tokenize(queries, stopwords="en", return_ids=False, show_progress=False)
        tokens = [t or ["movie"] for t in tokens]  # an all-stop-word query would be empty
        docs, _ = retriever.retrieve(tokens, k=min(k, len(catalog)), show_progress=False, n_threads=1)
        return [[catalog.ids[j] for j in row] for row in np.asarray(docs).tolist()]


class DenseSystem:
    """Zero-shot sentence-embedding cosine of context and item text (no training)."""

    name = "dense"

    def __init__(self, model: str, max_seq_length: int = 128, batch_size: int = 128):
        """``model``: a prepared model's meta.json (``prepare-model``), a local directory or a hub id."""
        self.model, self.max_seq_length, self.batch_size = model, max_seq_length, batch_size
        self._encoder = None
        self._items: dict[str, object] = {}

    def fit(self, train: DatasetBundle, seed: int) -> None:
        from benchmark.models.base import model_path
        from benchmark.retrieval.semantic import load_encoder

        path = model_path(self.model) if str(self.model).endswith("meta.json") else self.model
        self._encoder = load_encoder(path, self.max_seq_length)

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        from benchmark.retrieval.semantic import encode

        if catalog.dataset not in self._items:
            self._items[catalog.dataset] = encode(self._encoder, [item_text(it) for it in catalog.items],
                                                  self.batch_size)
        queries = encode(self._encoder, [context_text(s["context"]) for s in samples], self.batch_size)
        top = (queries @ self._items[catalog.dataset].T).topk(min(k, len(catalog)), dim=1).indices.tolist()
        return [[catalog.ids[j] for j in row] for row in top]
