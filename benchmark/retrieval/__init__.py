"""Retrieval: item text, the dual-view retriever (semantic + CF views, cross-attention fusion) and the
retrieval / sequential baselines (bm25, dense, sasrec)."""
