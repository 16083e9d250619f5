"""``ievalm``: base LLM recommender + untrained LLM user over T turns of the episode loop; see ``README.md``."""

from baselines.ievalm.system import IEvaLMSystem

__all__ = ["IEvaLMSystem"]
