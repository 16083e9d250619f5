"""KBRD's recommender: R-GCN node embeddings, self-attention pooling of the context's nodes, item scores.

As in Chen et al. (2019): one R-GCN layer (``torch_geometric.nn.RGCNConv``, basis decomposition) over the knowledge
graph gives every item and entity an embedding; the user is the self-attention pooling (``a = softmax(b^T tanh(W
H))``) of the embeddings of the items and entities mentioned in the context (a zero vector when there are none);
the score of an item is the dot product with its embedding plus a per-item bias. The original feeds one-hot node
features (``x=None``); here the input is a learned embedding of the same size as the output, which is the same
function family with ``dim^2`` instead of ``n_nodes * dim`` weights per basis (12k-20k nodes here).
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import RGCNConv


class SelfAttentionPool(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.w = nn.Linear(dim, dim, bias=False)
        self.b = nn.Linear(dim, 1, bias=False)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``h [B, L, D]``, ``mask [B, L]`` (True = a real node) -> ``[B, D]``; all-masked rows give zeros."""
        logits = self.b(torch.tanh(self.w(h))).squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(logits, dim=-1).nan_to_num(0.0)  # a row with no node: softmax of all -inf is NaN
        return (weights.unsqueeze(-1) * h).sum(1)


class KBRDModel(nn.Module):
    def __init__(self, n_nodes: int, n_items: int, n_relations: int, dim: int = 128, num_bases: int = 8,
                 layers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.n_items = n_items
        self.embed = nn.Embedding(n_nodes, dim)
        nn.init.normal_(self.embed.weight, std=dim ** -0.5)
        self.convs = nn.ModuleList(RGCNConv(dim, dim, n_relations, num_bases=min(num_bases, n_relations))
                                   for _ in range(layers))
        self.pool = SelfAttentionPool(dim)
        self.bias = nn.Parameter(torch.zeros(n_items))
        self.drop = nn.Dropout(dropout)

    def nodes(self, edge_index: torch.Tensor, edge_type: torch.Tensor) -> torch.Tensor:
        """Embeddings of every node ``[n_nodes, D]`` after the R-GCN layers."""
        h = self.embed.weight
        for n, conv in enumerate(self.convs):
            h = conv(h, edge_index, edge_type)
            if n < len(self.convs) - 1:
                h = torch.relu(h)
        return h

    def forward(self, context: torch.Tensor, edge_index: torch.Tensor, edge_type: torch.Tensor) -> torch.Tensor:
        """``context [B, L]`` node indices (-1 = padding) -> item scores ``[B, n_items]``."""
        h = self.nodes(edge_index, edge_type)
        user = self.pool(self.drop(h[context.clamp(min=0)]), context >= 0)
        return user @ h[: self.n_items].T + self.bias
