"""``llm-free``: the base LLM generates titles for the dialogue (He et al., CIKM 2023); see ``README.md``."""

from baselines.llm_free.system import LLMFree

__all__ = ["LLMFree"]
