"""Registered recommender systems (``SYSTEMS``: name -> class, imported lazily)."""

from benchmark.registry import Registry

SYSTEMS = Registry("system", {
    "random": "benchmark.systems.sanity:RandomSystem",
    "popularity": "benchmark.systems.sanity:PopularitySystem",
    "repeat-context": "benchmark.systems.sanity:RepeatContextSystem",
    "bm25": "benchmark.retrieval.baselines:BM25System",
    "dense": "benchmark.retrieval.baselines:DenseSystem",
    "sasrec": "benchmark.retrieval.sasrec:SASRecSystem",
    "retriever": "benchmark.retrieval.retriever:RetrieverSystem",
})
