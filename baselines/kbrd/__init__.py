"""KBRD-style knowledge-graph recommender; card: ``baselines/kbrd/README.md``."""

from baselines.kbrd.system import KBRDSystem

__all__ = ["KBRDSystem"]
