"""``kbrd``: a KBRD-style knowledge-graph recommender (Chen et al., EMNLP 2019); card ``baselines/kbrd/README.md``.

Graph: the catalogue's own metadata (``baselines.kbrd.graph``). A sample's context nodes are the items mentioned
in it (most recent first) and the genres and people named in its text (most recent turn first), at most
``max_context``. Trained with a softmax cross-entropy over the catalogue on every (train sample, target) pair,
Adam, one full-graph R-GCN pass per batch; the epoch with the best valid fresh Recall@10 is kept and training
stops after ``patience`` epochs without improvement. Seeded; deterministic on the CPU (the R-GCN's scatter sums
run in a fixed order there).

    python -m benchmark train-system kbrd --train results/processed/redial --seed 0 \\
        --out results/models/kbrd/redial/seed0
    python -m benchmark predict kbrd --train results/processed/redial --test results/processed/redial \\
        --split test --seed 0 --params '{"model": "results/models/kbrd/redial/seed0"}' \\
        --out results/predictions/kbrd/redial/redial/seed0.jsonl
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from baselines.checkpoint import load_checkpoint, save_checkpoint
from baselines.kbrd.graph import MetadataGraph, build_graph, link_text
from baselines.kbrd.model import KBRDModel
from benchmark.best_epoch import BestEpoch
from benchmark.data.bundle import Catalog, DatasetBundle, align
from benchmark.data.context import pad_rows, recent_context_items
from benchmark.device import resolve_device
from benchmark.errors import BenchmarkError
from benchmark.eval.evaluate import evaluate_rankings
from benchmark.progress import report
from benchmark.seeding import single_thread_on_cpu


class KBRDSystem:
    """KBRD-style R-GCN over a metadata knowledge graph, self-attention user pooling."""

    name = "kbrd"

    def __init__(self, dim: int = 128, num_bases: int = 8, layers: int = 1, dropout: float = 0.0, max_cast: int = 3,
                 max_context: int = 32, link_text: bool = True, epochs: int = 30, patience: int = 5,
                 batch_size: int = 256, lr: float = 1e-3, weight_decay: float = 0.0, model: str | None = None,
                 device: str = "auto"):
        self.hp = dict(dim=dim, num_bases=num_bases, layers=layers, dropout=dropout)
        self.max_cast, self.max_context, self.link = max_cast, max_context, link_text
        self.epochs, self.patience, self.batch_size, self.lr, self.wd = epochs, patience, batch_size, lr, weight_decay
        self.model_dir = Path(model) if model else None
        self.device = resolve_device(device)
        self.graph: MetadataGraph | None = None
        self.model: KBRDModel | None = None
        self.catalog: Catalog | None = None
        self.history: list[dict] = []
        self.best_epoch = 0
        self._links: dict[str, list[int]] = {}

    def _text_nodes(self, text: str) -> list[int]:
        if text not in self._links:
            self._links[text] = [self.graph.node(e) for e in link_text(text, self.graph)]
        return self._links[text]

    def context_nodes(self, samples: Sequence[dict], index: dict[str, int]) -> torch.Tensor:
        """``[B, max_context]`` node indices of each sample's context (-1 padded); ``index``: item id -> node."""
        rows = []
        for s in samples:
            nodes = [index[i] for i in recent_context_items(s) if i in index]
            if self.link:
                nodes += [n for turn in reversed(s["context"]) for n in self._text_nodes(turn["text"])]
            rows.append(list(dict.fromkeys(nodes))[: self.max_context])
        return pad_rows(rows, self.max_context)

    def _edges(self):
        return self.graph.edge_index.to(self.device), self.graph.edge_type.to(self.device)

    def _scores(self, samples, index, mapping=None):
        self.model.eval()
        edge_index, edge_type = self._edges()
        out = []
        with torch.no_grad():
            for start in range(0, len(samples), 512):
                scores = self.model(self.context_nodes(samples[start:start + 512], index).to(self.device),
                                    edge_index, edge_type)
                if mapping is not None:  # test catalogue of another dataset (-inf for items it lacks)
                    known = (mapping >= 0).to(scores.device)
                    mapped = torch.full((scores.shape[0], len(mapping)), float("-inf"), device=scores.device)
                    mapped[:, known] = scores[:, mapping.to(scores.device)[known]]
                    scores = mapped
                out.append(scores)
        self.model.train()
        return torch.cat(out) if out else torch.zeros(0, len(mapping) if mapping is not None else self.graph.n_items)

    def _valid_recall(self, valid, index) -> float:
        top = self._scores(valid, index).topk(min(10, self.graph.n_items), dim=1).indices.tolist()
        preds = {s["sample_id"]: {"ranked_items": [self.catalog.ids[j] for j in row]}
                 for s, row in zip(valid, top, strict=True)}
        return evaluate_rankings(valid, preds, set(self.catalog.ids), ("fresh",), (10,))["fresh"]["metrics"][
            "recall@10"]["mean"]

    def fit(self, train: DatasetBundle, seed: int) -> None:
        with single_thread_on_cpu(self.device):  # scatter-add order: 2 threads differ run to run (seeding.py)
            self._fit(train, seed)

    def _fit(self, train: DatasetBundle, seed: int) -> None:
        if self.model_dir is not None:
            self.load(self.model_dir, train)
            return
        torch.manual_seed(seed)
        self.catalog = train.catalog
        self.graph = build_graph(self.catalog.items, self.max_cast)
        index = {i: n for n, i in enumerate(self.catalog.ids)}
        self.model = KBRDModel(self.graph.n_nodes, self.graph.n_items, self.graph.n_relations, **self.hp)
        self.model.to(self.device)
        samples = train.samples("train")
        rows = [(n, index[t]) for n, s in enumerate(samples) for t in s["targets"]]
        if not rows:
            raise BenchmarkError(f"kbrd: {train.dir} has no training (context, target) pairs")
        x = self.context_nodes(samples, index)[torch.tensor([r[0] for r in rows])].to(self.device)
        y = torch.tensor([r[1] for r in rows]).to(self.device)
        opt = torch.optim.Adam(self.model.parameters(), lr=self.lr, weight_decay=self.wd)
        gen = torch.Generator().manual_seed(seed)  # batch order on the CPU: the same on every device
        edge_index, edge_type = self._edges()
        valid = train.samples("valid")
        best = BestEpoch(self.patience)
        for epoch in range(self.epochs):
            total = 0.0
            for idx in torch.randperm(len(y), generator=gen).split(self.batch_size):
                idx = idx.to(self.device)
                loss = nn.functional.cross_entropy(self.model(x[idx], edge_index, edge_type), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            recall = self._valid_recall(valid, index)
            self.history.append({"epoch": epoch + 1, "loss": total / len(y), "valid_fresh_recall@10": recall})
            report(f"kbrd epoch {epoch + 1}/{self.epochs}: loss {total / len(y):.4f}, valid fresh R@10 {recall:.4f}")
            stop = best.update(epoch + 1, recall, lambda: copy.deepcopy(self.model.state_dict()))
            self.best_epoch = best.epoch
            if stop:
                break
        self.model.load_state_dict(best.state)

    def train_info(self) -> dict:
        import torch_geometric

        best = next((h for h in self.history if h["epoch"] == self.best_epoch), {})
        return {"best_epoch": self.best_epoch, "valid_fresh": {"recall@10": best.get("valid_fresh_recall@10")},
                "history": self.history, "compute_device": self.device, "torch_geometric": torch_geometric.__version__,
                "graph": {"items": self.graph.n_items, "entities": len(self.graph.entities),
                          "edges": int(self.graph.edge_index.shape[1]), "linkable_names": len(self.graph.names)}}

    def save(self, out: str | Path) -> None:
        save_checkpoint(out, self.model, self.catalog, hp=self.hp, max_cast=self.max_cast)

    def load(self, directory: str | Path, train: DatasetBundle) -> None:
        state = load_checkpoint(directory, train, "kbrd")
        self.hp, self.max_cast, self.catalog = state["hp"], state["max_cast"], train.catalog
        self.graph = build_graph(self.catalog.items, self.max_cast)  # deterministic: the graph it was trained on
        self.model = KBRDModel(self.graph.n_nodes, self.graph.n_items, self.graph.n_relations, **self.hp)
        self.model.load_state_dict(state["model"])
        self.model.to(self.device)

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        with single_thread_on_cpu(self.device):
            return self._recommend(samples, catalog, k)

    def _recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        if catalog.dataset == self.catalog.dataset:
            index = {i: n for n, i in enumerate(self.catalog.ids)}
            scores = self._scores(samples, index)
        else:  # transfer: test items map into the training graph through the unified key
            to_train = align(self.catalog, catalog)
            index = {catalog.ids[n]: j for n, j in enumerate(to_train) if j >= 0}
            scores = self._scores(samples, index, mapping=torch.tensor(to_train))
        top = scores.topk(min(k, scores.shape[1]), dim=1).indices.tolist()
        return [[catalog.ids[j] for j in row] for row in top]
