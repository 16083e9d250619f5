"""Text retrieval baselines (bm25, dense); card: ``baselines/text/README.md``."""

from baselines.text.systems import BM25System, DenseSystem

__all__ = ["BM25System", "DenseSystem"]
