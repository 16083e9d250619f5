"""Retrieval: item and context text, and the dual-view retriever (semantic + CF views, cross-attention fusion).
The retrieval and sequential baselines (bm25, dense, sasrec) live in ``baselines/``."""
