"""``sasrec``: a SASRec-style self-attentive sequential model over the items mentioned in the dialogue.

The sequence of a sample is the items mentioned in its context in order of last mention (oldest first, at most
``max_len - 1``), followed by a begin/query token; a transformer encodes it and the query position scores every
catalogue item through the (tied) item embeddings. Trained with a softmax cross-entropy over the catalogue on
the training samples' (context, target) pairs, best epoch chosen on the valid split (fresh Recall@10). It sees no
text: this is the collaborative-filtering-only baseline. Across datasets, items map through the unified key.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from benchmark.eval.evaluate import evaluate_rankings
from benchmark.systems.base import Catalog, DatasetBundle, align
from benchmark.systems.sanity import recent_context_items


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
        x = self.items(seq.clamp(min=0)) + self.pos(torch.arange(seq.shape[1]).expand_as(seq))
        # Only the last (begin-token) position is read, so no causal mask is needed; a causal mask with left
        # padding would leave padded rows with no key at all (NaN that spreads through the layers).
        h = self.norm(self.encoder(self.drop(x), src_key_padding_mask=pad))[:, -1]
        return h @ self.items.weight[: self.bos].T


class SASRecSystem:
    name = "sasrec"

    def __init__(self, dim: int = 64, heads: int = 2, layers: int = 2, max_len: int = 20, dropout: float = 0.2,
                 epochs: int = 30, batch_size: int = 256, lr: float = 1e-3):
        self.hp = dict(dim=dim, heads=heads, layers=layers, max_len=max_len, dropout=dropout)
        self.epochs, self.batch_size, self.lr = epochs, batch_size, lr
        self.model: SASRecModel | None = None
        self.catalog: Catalog | None = None

    def _sequences(self, samples: Sequence[dict], index: dict[str, int]) -> torch.Tensor:
        n = self.hp["max_len"]
        rows = []
        for s in samples:
            ids = [index[i] for i in recent_context_items(s) if i in index][: n - 1][::-1]  # oldest first
            row = ids + [self.model.bos]
            rows.append([-1] * (n - len(row)) + row)
        return torch.tensor(rows, dtype=torch.long).reshape(len(rows), n)

    def _rank(self, samples, index, k, mapping=None) -> list[list[int]]:
        self.model.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(samples), 512):
                scores = self.model(self._sequences(samples[start:start + 512], index))
                if mapping is not None:  # test catalogue of another dataset
                    known = mapping >= 0
                    mapped = torch.full((scores.shape[0], len(mapping)), float("-inf"))
                    mapped[:, known] = scores[:, mapping[known]]
                    scores = mapped
                out.extend(scores.topk(min(k, scores.shape[1]), dim=1).indices.tolist())
        self.model.train()
        return out

    def fit(self, train: DatasetBundle, seed: int) -> None:
        torch.manual_seed(seed)
        self.catalog = train.catalog
        index = {i: n for n, i in enumerate(self.catalog.ids)}
        self.model = SASRecModel(len(self.catalog), **self.hp)
        samples = train.samples("train")
        rows = [(n, index[t]) for n, s in enumerate(samples) for t in s["targets"]]
        seqs = self._sequences(samples, index)
        x = seqs[torch.tensor([r[0] for r in rows])]
        y = torch.tensor([r[1] for r in rows])
        opt = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        gen = torch.Generator().manual_seed(seed)
        valid = train.samples("valid")
        best = (-1.0, None)
        for _ in range(self.epochs):
            for idx in torch.randperm(len(y), generator=gen).split(self.batch_size):
                loss = nn.functional.cross_entropy(self.model(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            top = self._rank(valid, index, 10)
            preds = {s["sample_id"]: {"ranked_items": [self.catalog.ids[j] for j in row]}
                     for s, row in zip(valid, top, strict=True)}
            score = evaluate_rankings(valid, preds, set(self.catalog.ids), ("fresh",), (10,))["fresh"]["metrics"]
            if score["recall@10"]["mean"] > best[0]:
                best = (score["recall@10"]["mean"], copy.deepcopy(self.model.state_dict()))
        self.model.load_state_dict(best[1])

    def recommend(self, samples: Sequence[dict], catalog: Catalog, k: int) -> list[list[str]]:
        if catalog.dataset == self.catalog.dataset:
            index = {i: n for n, i in enumerate(self.catalog.ids)}
            return [[catalog.ids[j] for j in row] for row in self._rank(samples, index, k)]
        # Transfer: context items of the test catalogue map into the training catalogue through the key.
        to_train = align(self.catalog, catalog)
        index = {catalog.ids[n]: j for n, j in enumerate(to_train) if j >= 0}
        rows = self._rank(samples, index, k, mapping=torch.tensor(to_train))
        return [[catalog.ids[j] for j in row] for row in rows]
