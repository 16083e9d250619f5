"""Sequential item models (sasrec); card: ``baselines/sequential/README.md``."""

from baselines.sequential.sasrec import SASRecModel, SASRecSystem

__all__ = ["SASRecModel", "SASRecSystem"]
