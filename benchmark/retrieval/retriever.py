"""The trained dual-view retriever at use time: a cached item index and batched ``candidates``.

    retriever = DualViewRetriever("results/models/retriever/dualview/redial/seed0")
    retriever.candidates(contexts, feedbacks, k=20)   # contexts: lists of turns; feedbacks: new user text or None
    retriever.scored_candidates(contexts, replies, exclude, k=20)   # [(ids, scores)] for the interactive loop

The index of a catalogue (semantic item embeddings from the fine-tuned encoder, CF embeddings and item biases
aligned to that catalogue) is built once per (model, catalogue) and kept in memory. Only the stage that trains the
model writes it to disk (``cache_index=True``: ``<model>/index/<dataset>.pt``, inside its own output directory);
every later reader uses that file when its fingerprint matches and never writes into the model directory (a
transfer catalogue is encoded in memory: about 7k MiniLM item texts). A catalogue of another dataset is aligned
through the unified movie key (unmatched items: zero CF vector and the smallest learned bias).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import torch

from benchmark.config import stored_path
from benchmark.data.bundle import Catalog, DatasetBundle, align
from benchmark.data.context import context_item_matrix, recent_items
from benchmark.device import resolve_device
from benchmark.io import read_json
from benchmark.retrieval.fusion import DualViewFusion
from benchmark.retrieval.semantic import encode, load_encoder
from benchmark.retrieval.text import context_text, item_text
from benchmark.retrieval.train import autocast


class DualViewRetriever:
    def __init__(self, model_dir: str | os.PathLike, semantic_dir: str | os.PathLike | None = None,
                 device: str = "auto", cache_index: bool = False):
        """``device``: where encodings and scores live (``benchmark.device.resolve_device``); ``cache_index``:
        write a freshly built index to ``<model>/index/`` (only the training stage, whose output that is)."""
        self.dir = Path(model_dir)
        self.device = resolve_device(device)
        self.cache_index = cache_index
        state = torch.load(self.dir / "fusion.pt", map_location="cpu")
        self.recipe = state["recipe"]
        # the matching fields of the training catalogue (IMDb id, title, year) align a transfer test catalogue;
        # models saved before they were stored fall back to the unified key alone
        items = state.get("item_match") or [{"item_id": i, "key": k}
                                            for i, k in zip(state["item_ids"], state["item_keys"], strict=True)]
        self.train_catalog = Catalog(items, state["dataset"])
        self.train_dataset = state["dataset"]
        self.train_dir = stored_path(state["train_dir"], self.dir)  # relative to the model directory
        self.semantic_dir = Path(semantic_dir) if semantic_dir else stored_path(
            read_json(self.dir / "meta.json")["semantic_dir"], self.dir)
        self.model = DualViewFusion(state["sem_dim"], self.recipe["cf_dim"], self.recipe["dim"], self.recipe["heads"],
                                    tuple(state["views"]), state["fusion"], self.recipe["dropout"],
                                    self.recipe["cf_prior"])
        self.model.load_state_dict(state["model"])
        self.model.to(self.device).eval()
        self.bias = state["bias"]
        self.cf = torch.load(self.dir / "cf.pt", map_location="cpu")["cf"]
        self._encoder = None
        self._indexes: dict[str, dict] = {}

    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = load_encoder(self.semantic_dir / "encoder", self.recipe["max_seq_length"], self.device)
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
        if path.exists() and (cached := torch.load(path, map_location="cpu"))["fingerprint"] == fingerprint:
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
            if self.cache_index:
                path.parent.mkdir(parents=True, exist_ok=True)
                torch.save(idx, path.with_suffix(".partial"))
                os.replace(path.with_suffix(".partial"), path)
        idx = {k: v.to(self.device) if torch.is_tensor(v) else v for k, v in idx.items()}
        with torch.no_grad():
            idx["views"] = self.model.item_views(idx["item_sem"], idx["item_cf"])
        idx["position"] = {i: n for n, i in enumerate(idx["item_ids"])}
        self._indexes[catalog.dataset] = idx
        return idx

    def scores(self, contexts: Sequence[Sequence[dict]], feedbacks: Sequence[str | None], catalog: Catalog):
        idx = self.index(catalog)
        texts = [context_text(c, f) for c, f in zip(contexts, feedbacks, strict=True)]
        sem = encode(self.encoder, texts, device=self.device)
        items = context_item_matrix([recent_items(c) for c in contexts], idx["position"],
                                    self.recipe["max_context_items"]).to(self.device)
        with torch.no_grad(), autocast(self.device):  # bf16 on CUDA; fp32 (no autocast) on the CPU
            u = self.model.context(sem, items, idx["item_cf"])
            scores = self.model.score(u, idx["views"], idx["bias"]) + self.model.residual(sem, idx["item_sem"])
        return scores.float()  # [B, N] on self.device

    def candidates(self, contexts: Sequence[Sequence[dict]], feedbacks: Sequence[str | None] | None = None,
                   k: int | None = None, catalog: Catalog | None = None) -> list[list[str]]:
        """Top-``k`` (default: the recipe's K) catalogue ids for each (context, feedback), best first."""
        catalog = catalog or self._default_catalog()
        feedbacks = feedbacks if feedbacks is not None else [None] * len(contexts)
        k = k or self.recipe["candidates"]
        top = self.scores(contexts, feedbacks, catalog).topk(min(k, len(catalog)), dim=1).indices.tolist()
        return [[catalog.ids[j] for j in row] for row in top]

    def scored_candidates(self, contexts: Sequence[Sequence[dict]],
                          feedbacks: Sequence[str | Sequence[str] | None] | None = None,
                          exclude: Sequence[Sequence[str] | None] | None = None, k: int | None = None,
                          catalog: Catalog | None = None) -> list[tuple[list[str], list[float]]]:
        """(ids, scores) of the top-``k`` items per query, best first: the interactive loop's candidate source.

        ``feedbacks[i]``: the simulated user's replies so far (a string or a list, oldest first). They are joined
        newest first and enter as the newest seeker turn of the *semantic* context text (``context_text``), so the
        encoder truncates the oldest reply first; the fused context representation and hence every item's score
        follow from that text. The CF view reads only the annotated items of the real turns (replies carry none).
        ``exclude[i]``: ids removed from query i's list (their score is set to -inf before the top-k).
        ``candidates`` keeps its earlier signature and output; this method adds scores, exclusion and reply lists.
        """
        catalog = catalog or self._default_catalog()
        feedbacks = feedbacks if feedbacks is not None else [None] * len(contexts)
        joined = [f if f is None or isinstance(f, str) else " ".join(reversed(list(f))) or None for f in feedbacks]
        k = min(k or self.recipe["candidates"], len(catalog))
        scores = self.scores(contexts, joined, catalog)
        idx = self.index(catalog)
        for row, items in enumerate(exclude or []):
            cols = [idx["position"][i] for i in (items or []) if i in idx["position"]]
            scores[row, cols] = float("-inf")
        top = scores.topk(k, dim=1)
        out = []
        for ids, vals in zip(top.indices.tolist(), top.values.tolist(), strict=True):
            kept = [(catalog.ids[j], v) for j, v in zip(ids, vals, strict=True) if v != float("-inf")]
            out.append(([i for i, _ in kept], [v for _, v in kept]))
        return out

    def _default_catalog(self) -> Catalog:
        return DatasetBundle(self.train_dir).catalog


class RetrieverSystem:
    """A trained retriever variant as a System: its top-k list is the ranking (``model_dir`` from the workflow)."""

    name = "retriever"

    def __init__(self, model: str, batch_size: int = 256, device: str = "auto"):
        """``model``: a trained retriever directory (``results/models/retriever/<variant>/<dataset>/seed<N>``)."""
        self.retriever = DualViewRetriever(model, device=device)
        self.recipe = self.retriever.recipe  # recorded in the predictions' meta and the metrics' provenance
        self.batch_size = batch_size

    def fit(self, train: DatasetBundle, seed: int) -> None:
        if self.retriever.train_dataset != train.name:
            from benchmark.errors import BenchmarkError

            raise BenchmarkError(f"retriever {self.retriever.dir} was trained on {self.retriever.train_dataset}, "
                                 f"not {train.name}")

    def recommend(self, samples, catalog: Catalog, k: int) -> list[list[str]]:
        return self.retriever.candidates([s["context"] for s in samples], None, k, catalog)
