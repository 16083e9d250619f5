"""Sanity baselines (random, popularity, repeat-context); card: ``baselines/sanity/README.md``."""

from baselines.sanity.systems import PopularitySystem, RandomSystem, RepeatContextSystem

__all__ = ["PopularitySystem", "RandomSystem", "RepeatContextSystem"]
