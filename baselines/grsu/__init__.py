"""``grsu``: the multi-task user simulator ranks the retriever's candidates (no recommender); see ``README.md``."""

from baselines.grsu.system import GRSUSystem

__all__ = ["GRSUSystem"]
