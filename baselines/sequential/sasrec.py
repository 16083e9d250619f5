"""``sasrec``: a SASRec-style self-attentive sequential model over the items mentioned in the dialogue.

Card: ``baselines/sequential/README.md``.

The sequence of a sample is the items mentioned in its context in order of last mention (oldest first, at most
``max_len - 1``), followed by a begin/query token; a transformer encodes it and the query position scores every
catalogue item through the (tied) item embeddings. Trained with a softmax cross-entropy over the catalogue on
the training samples' (context, target) pairs, best epoch chosen on the valid split (fresh Recall@10). It sees no
text: this is the collaborative-filtering-only baseline. Across datasets, items map through the unified key.

Trained once per (dataset, seed) by its own stage, then loaded by ``predict`` (``model`` = the trained directory)::

    python -m benchmark train-system sasrec --train results/processed/redial --seed 0 \\
        --out results/models/sasrec/redial/seed0
    python -m benchmark predict sasrec --train results/processed/redial --test results/processed/redial \\
        --split test --seed 0 --params '{"model": "results/models/sasrec/redial/seed0"}' \\
        --out results/predictions/sasrec/redial/redial/seed0.jsonl

Without ``model``, ``fit`` trains in place (same seed, same numbers). The device is ``resolve_device(device)``
(CUDA when present); on the CPU the computation is exactly the one the committed reference was made with.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from baselines.checkpoint import load_checkpoint, save_checkpoint
from benchmark.best_epoch import BestEpoch
from benchmark.data.bundle import Catalog, DatasetBundle, align
from benchmark.data.context import pad_rows, recent_context_items
from benchmark.device import resolve_device
from benchmark.eval.evaluate import evaluate_rankings
from benchmark.progress import report


class SASRecModel(nn.Module):
    def __init__(self, n_items: int, dim: int, heads: int, layers: int, max_len: int, dropout: float):
        super().__init__()
        self.bos = n_items  # index of the begin token; items are 0..n_items-1
        self.items = nn.Embedding(n_items + 1, dim)
        self.pos = nn.Embedding(max_len + 1, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, 2 * dim, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        """``seq [B, L]`` (left-padded with -1, begin token included) -> scores ``[B, n_items]``."""
        pad = seq < 0
        x = self.items(seq.clamp(min=0)) + self.pos(torch.arange(seq.shape[1], device=seq.device).expand_as(seq))
        # Only the last (begin-token) position is read, so no causal mask is needed; a causal mask with left
        # padding would leave padded rows with no key at all (NaN that spreads through the layers).
        h = self.norm(self.encoder(self.drop(x), src_key_padding_mask=pad))[:, -1]
        return h @ self.items.weight[: self.bos].T


class SASRecSystem:
    """SASRec-style transformer over the context's item sequence (CF only, no text)."""

    name = "sasrec"

    def __init__(self, dim: int = 64, heads: int = 2, layers: int = 2, max_len: int = 20, dropout: float = 0.2,
                 epochs: int = 30, batch_size: int = 256, lr: float = 1e-3, model: str | None = None,
                 device: str = "auto"):
        self.hp = dict(dim=dim, heads=heads, layers=layers, max_len=max_len, dropout=dropout)
        self.epochs, self.batch_size, self.lr = epochs, batch_size, lr
        self.model_dir = Path(model) if model else None
        self.device = resolve_device(device)
        self.model: SASRecModel | None = None
        self.catalog: Catalog | None = None
        self.history: list[dict] = []
        self.best_epoch = 0

    def _sequences(self, samples: Sequence[dict], index: dict[str, int]) -> torch.Tensor:
        n = self.hp["max_len"]
        rows = [[index[i] for i in recent_context_items(s) if i in index][: n - 1][::-1] + [self.model.bos]
                for s in samples]  # oldest first, then the begin/query token
        return pad_rows(rows, n, left=True)

    def _rank(self, samples, index, k, mapping=None) -> list[list[int]]:
        self.model.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(samples), 512):
                scores = self.model(self._sequences(samples[start:start + 512], index).to(self.device))
                if mapping is not None:  # test catalogue of another dataset
                    known = mapping >= 0
                    mapped = torch.full((scores.shape[0], len(mapping)), float("-inf"), device=scores.device)
                    mapped[:, known.to(scores.device)] = scores[:, mapping[known].to(scores.device)]
                    scores = mapped
                out.extend(scores.topk(min(k, scores.shape[1]), dim=1).indices.tolist())
        self.model.train()
        return out

    def fit(self, train: DatasetBundle, seed: int) -> None:
        if self.model_dir is not None:
            self.load(self.model_dir, train)
            return
        torch.manual_seed(seed)
        self.catalog = train.catalog
        index = {i: n for n, i in enumerate(self.catalog.ids)}
        self.model = SASRecModel(len(self.catalog), **self.hp).to(self.device)
        samples = train.samples("train")
        rows = [(n, index[t]) for n, s in enumerate(samples) for t in s["targets"]]
        seqs = self._sequences(samples, index)
        x = seqs[torch.tensor([r[0] for r in rows])].to(self.device)
        y = torch.tensor([r[1] for r in rows]).to(self.device)
        opt = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        gen = torch.Generator().manual_seed(seed)  # on the CPU on every device: the same batch order everywhere
        valid = train.samples("valid")
        best = BestEpoch()  # no early stop: every one of ``epochs`` epochs runs
        for epoch in range(self.epochs):
            for idx in torch.randperm(len(y), generator=gen).split(self.batch_size):
                idx = idx.to(self.device)
                loss = nn.functional.cross_entropy(self.model(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            top = self._rank(valid, index, 10)
            preds = {s["sample_id"]: {"ranked_items": [self.catalog.ids[j] for j in row]}
                     for s, row in zip(valid, top, strict=True)}
            score = evaluate_rankings(valid, preds, set(self.catalog.ids), ("fresh",), (10,))["fresh"]["metrics"]
            self.history.append({"epoch": epoch + 1, "valid_fresh_recall@10": score["recall@10"]["mean"]})
            report(f"sasrec epoch {epoch + 1}/{self.epochs}: valid fresh R@10 {score['recall@10']['mean']:.4f}")
            best.update(epoch + 1, score["recall@10"]["mean"], lambda: copy.deepcopy(self.model.state_dict()))
        self.best_epoch = best.epoch
        self.model.load_state_dict(best.state)

    def train_info(self) -> dict:
        """What the training stage records in meta.json beside time and memory."""
        best = next((h for h in self.history if h["epoch"] == self.best_epoch), {})
        return {"best_epoch": self.best_epoch, "valid_fresh": {"recall@10": best.get("valid_fresh_recall@10")},
                "history": self.history, "compute_device": self.device}

    def save(self, out: str | Path) -> None:
        save_checkpoint(out, self.model, self.catalog, hp=self.hp)

    def load(self, directory: str | Path, train: DatasetBundle) -> None:
        state = load_checkpoint(directory, train, "sasrec")
        self.hp, self.catalog = state["hp"], train.catalog
        self.model = SASRecModel(len(self.catalog), **self.hp)
        self.model.load_state_dict(state["model"])
        self.model.to(self.device)

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        if catalog.dataset == self.catalog.dataset:
            index = {i: n for n, i in enumerate(self.catalog.ids)}
            return [[catalog.ids[j] for j in row] for row in self._rank(samples, index, k)]
        # Transfer: context items of the test catalogue map into the training catalogue through the key.
        to_train = align(self.catalog, catalog)
        index = {catalog.ids[n]: j for n, j in enumerate(to_train) if j >= 0}
        rows = self._rank(samples, index, k, mapping=torch.tensor(to_train))
        return [[catalog.ids[j] for j in row] for row in rows]
