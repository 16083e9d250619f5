"""The trained dual-view retriever at use time: a cached item index and batched ``candidates``.

    retriever = DualViewRetriever("results/models/retriever/dualview/redial/seed0")
    retriever.candidates(contexts, feedbacks, k=20)   # contexts: lists of turns; feedbacks: new user text or None

The index of a catalogue (semantic item embeddings from the fine-tuned encoder, CF embeddings and item biases
aligned to that catalogue) is built once per (model, catalogue) and cached at ``<model>/index/<dataset>.pt``;
a catalogue of another dataset is aligned through the unified movie key (unmatched items: zero CF vector and the
smallest learned bias).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import torch

from benchmark.io import read_json
from benchmark.retrieval.fusion import DualViewFusion
from benchmark.retrieval.semantic import encode, load_encoder
from benchmark.retrieval.text import context_text, item_text
from benchmark.systems.base import Catalog, DatasetBundle, align


def recent_items(turns: Sequence[dict]) -> list[str]:
    out: list[str] = []
    for turn in reversed(turns):
        for item in reversed(turn.get("items", [])):
            if item not in out:
                out.append(item)
    return out


class DualViewRetriever:
    def __init__(self, model_dir: str | os.PathLike, semantic_dir: str | os.PathLike | None = None):
        self.dir = Path(model_dir)
        state = torch.load(self.dir / "fusion.pt")
        self.recipe = state["recipe"]
        pairs = zip(state["item_ids"], state["item_keys"], strict=True)
        self.train_catalog = Catalog([{"item_id": i, "key": k} for i, k in pairs], state["dataset"])
        self.train_dataset = state["dataset"]
        self.train_dir = Path(state["train_dir"])
        self.semantic_dir = Path(semantic_dir or read_json(self.dir / "meta.json")["semantic_dir"])
        self.model = DualViewFusion(state["sem_dim"], self.recipe["cf_dim"], self.recipe["dim"], self.recipe["heads"],
                                    tuple(state["views"]), state["fusion"], self.recipe["dropout"],
                                    self.recipe["cf_prior"])
        self.model.load_state_dict(state["model"])
        self.model.eval()
        self.bias = state["bias"]
        self.cf = torch.load(self.dir / "cf.pt")["cf"]
        self._encoder = None
        self._indexes: dict[str, dict] = {}

    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = load_encoder(self.semantic_dir / "encoder", self.recipe["max_seq_length"])
        return self._encoder

    def _fingerprint(self, catalog: Catalog) -> str:
        h = hashlib.sha256((self.dir / "fusion.pt").read_bytes())
        h.update(json.dumps([[it["item_id"], item_text(it)] for it in catalog.items]).encode())
        return h.hexdigest()

    def index(self, catalog: Catalog) -> dict:
        """Item-side tensors for ``catalog`` (loaded from the disk cache when it matches)."""
        if catalog.dataset in self._indexes:
            return self._indexes[catalog.dataset]
        path = self.dir / "index" / f"{catalog.dataset or 'catalog'}.pt"
        fingerprint = self._fingerprint(catalog)
        if path.exists() and (cached := torch.load(path))["fingerprint"] == fingerprint:
            idx = cached
        else:
            mapping = torch.tensor(align(self.train_catalog, catalog), dtype=torch.long)
            known = mapping >= 0
            item_cf = torch.zeros(len(catalog), self.cf.shape[1])
            item_cf[known] = self.cf[mapping[known]]
            bias = torch.full((len(catalog),), float(self.bias.min()))
            bias[known] = self.bias[mapping[known]]
            item_sem = encode(self.encoder, [item_text(it) for it in catalog.items])
            idx = {"fingerprint": fingerprint, "item_ids": catalog.ids, "item_sem": item_sem, "item_cf": item_cf,
                   "bias": bias, "matched": int(known.sum())}
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(idx, path.with_suffix(".partial"))
            os.replace(path.with_suffix(".partial"), path)
        with torch.no_grad():
            idx["views"] = self.model.item_views(idx["item_sem"], idx["item_cf"])
        idx["position"] = {i: n for n, i in enumerate(idx["item_ids"])}
        self._indexes[catalog.dataset] = idx
        return idx

    def scores(self, contexts: Sequence[Sequence[dict]], feedbacks: Sequence[str | None], catalog: Catalog):
        idx = self.index(catalog)
        texts = [context_text(c, f) for c, f in zip(contexts, feedbacks, strict=True)]
        sem = encode(self.encoder, texts)
        width = self.recipe["max_context_items"]
        rows = []
        for c in contexts:
            ids = [idx["position"][i] for i in recent_items(c) if i in idx["position"]][:width]
            rows.append(ids + [-1] * (width - len(ids)))
        items = torch.tensor(rows, dtype=torch.long).reshape(len(rows), width)
        with torch.no_grad():
            u = self.model.context(sem, items, idx["item_cf"])
            return self.model.score(u, idx["views"], idx["bias"]) + self.model.residual(sem, idx["item_sem"])

    def candidates(self, contexts: Sequence[Sequence[dict]], feedbacks: Sequence[str | None] | None = None,
                   k: int | None = None, catalog: Catalog | None = None) -> list[list[str]]:
        """Top-``k`` (default: the recipe's K) catalogue ids for each (context, feedback), best first."""
        catalog = catalog or self._default_catalog()
        feedbacks = feedbacks if feedbacks is not None else [None] * len(contexts)
        k = k or self.recipe["candidates"]
        top = self.scores(contexts, feedbacks, catalog).topk(min(k, len(catalog)), dim=1).indices.tolist()
        return [[catalog.ids[j] for j in row] for row in top]

    def _default_catalog(self) -> Catalog:
        return DatasetBundle(self.train_dir).catalog


class RetrieverSystem:
    """A trained retriever variant as a System: its top-k list is the ranking (``model_dir`` from the workflow)."""

    name = "retriever"

    def __init__(self, model: str, batch_size: int = 256):
        """``model``: a trained retriever directory (``results/models/retriever/<variant>/<dataset>/seed<N>``)."""
        self.retriever = DualViewRetriever(model)
        self.batch_size = batch_size

    def fit(self, train: DatasetBundle, seed: int) -> None:
        if self.retriever.train_dataset != train.name:
            from benchmark.errors import BenchmarkError

            raise BenchmarkError(f"retriever {self.retriever.dir} was trained on {self.retriever.train_dataset}, "
                                 f"not {train.name}")

    def recommend(self, samples, catalog: Catalog, k: int) -> list[list[str]]:
        return self.retriever.candidates([s["context"] for s in samples], None, k, catalog)
