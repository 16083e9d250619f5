"""Registered recommender systems (``SYSTEMS``: name -> class, imported lazily) and their families.

Baselines live in the top-level ``baselines`` package and are named here only as strings, so the harness never
imports them unless a run asks for one. ``FAMILIES`` gives each system's family (``python -m benchmark systems``).
"""

from benchmark.registry import Registry

SYSTEMS = Registry("system", {
    "random": "baselines.sanity:RandomSystem",
    "popularity": "baselines.sanity:PopularitySystem",
    "repeat-context": "baselines.sanity:RepeatContextSystem",
    "bm25": "baselines.text:BM25System",
    "dense": "baselines.text:DenseSystem",
    "sasrec": "baselines.sequential:SASRecSystem",
    "kbrd": "baselines.kbrd:KBRDSystem",
    "llm-free": "baselines.llm_free:LLMFree",
    "ievalm": "baselines.ievalm:IEvaLMSystem",
    "grsu": "baselines.grsu:GRSUSystem",
    "retriever": "benchmark.retrieval.retriever:RetrieverSystem",
    "candidates-oracle": "benchmark.recommender.system:CandidatesOracleSystem",
    "llm-zero-shot": "benchmark.recommender.system:LLMRecommenderSystem",
    "smtpo-sft": "benchmark.recommender.system:SFTRecommenderSystem",
    "smtpo": "benchmark.recommender.interactive:SMTPOSystem",
})

# Family of each system: the baselines/<family>/ card for baselines, "smtpo" for the system under study and its parts.
FAMILIES = {
    "random": "sanity", "popularity": "sanity", "repeat-context": "sanity",
    "bm25": "text", "dense": "text",
    "sasrec": "sequential",
    "kbrd": "kbrd",
    "llm-free": "llm_free", "ievalm": "ievalm", "grsu": "grsu",
    "retriever": "smtpo", "candidates-oracle": "smtpo", "llm-zero-shot": "smtpo", "smtpo-sft": "smtpo",
    "smtpo": "smtpo",
}


def family(name: str) -> str:
    """The family of a registered system (``"?"`` for one registered without a family)."""
    SYSTEMS.target(name)  # unknown names fail here, with suggestions
    return FAMILIES.get(name, "?")
