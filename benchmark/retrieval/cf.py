"""Collaborative-filtering view: item embeddings from item co-occurrence in training dialogues.

Two items co-occur when one dialogue mentions both (any turn, any role). The embedding is the truncated SVD of
the positive pointwise mutual information (PPMI) matrix of these counts, ``E = U_d * sqrt(S_d)``, L2-normalised,
over the items mentioned at least ``min_count`` times in training; other items get a zero vector (how popular an
item is goes to the fusion's item bias, not to the vector's length). PMI uses context-distribution smoothing
(column counts to the power 0.75, Levy et al. 2015): plain PMI gives the largest values to the rarest pairs, and
in the INSPIRED train file most items are mentioned once or twice. Deterministic (dense LAPACK SVD, fixed signs).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def cooccurrence(dialogues: Sequence[dict], vocab: dict[str, int]) -> np.ndarray:
    counts = np.zeros((len(vocab), len(vocab)), dtype=np.float64)
    for d in dialogues:
        ids = sorted({vocab[i] for t in d["turns"] for i in t["items"] if i in vocab})
        for a in ids:
            for b in ids:
                if a != b:
                    counts[a, b] += 1.0
    return counts


def ppmi(counts: np.ndarray, smoothing: float = 1.0) -> np.ndarray:
    """Positive PMI; ``smoothing`` < 1 raises the column counts to that power (context-distribution smoothing)."""
    total = counts.sum()
    if total == 0:
        return counts
    row = counts.sum(axis=1, keepdims=True)
    col = counts.sum(axis=0, keepdims=True) ** smoothing
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(counts * col.sum() / (row * col))
    return np.where(np.isfinite(pmi) & (pmi > 0), pmi, 0.0)


def cf_embeddings(dialogues: Sequence[dict], item_ids: Sequence[str], dim: int = 64, min_count: int = 2,
                  smoothing: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """``(embeddings [len(item_ids), dim], mentions [len(item_ids)])`` for the given catalogue order."""
    mention_counts: dict[str, int] = {}
    for d in dialogues:
        for t in d["turns"]:
            for i in t["items"]:
                mention_counts[i] = mention_counts.get(i, 0) + 1
    seen = sorted(i for i, n in mention_counts.items() if n >= min_count)
    vocab = {item: n for n, item in enumerate(seen)}
    mentions = np.zeros(len(item_ids), dtype=np.float32)
    out = np.zeros((len(item_ids), dim), dtype=np.float32)
    if len(seen) >= 2:
        u, s, _ = np.linalg.svd(ppmi(cooccurrence(dialogues, vocab), smoothing), full_matrices=False)
        d = min(dim, len(s))
        emb = u[:, :d] * np.sqrt(s[:d])
        emb *= np.where(emb[np.abs(emb).argmax(axis=0), range(d)] < 0, -1.0, 1.0)  # deterministic signs
        emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        for n, item in enumerate(item_ids):
            if item in vocab:
                out[n, :d] = emb[vocab[item]]
    for n, item in enumerate(item_ids):
        mentions[n] = mention_counts.get(item, 0)
    return out, mentions
