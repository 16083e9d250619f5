"""Cross-attention fusion of the semantic and collaborative-filtering views (the dual-view scorer).

Context side: the query is the context's semantic embedding (projected; a learned vector when the semantic view
is off); it attends over itself plus the CF embeddings of the items mentioned in the context (most recent
``max_context_items``), giving the context vector ``u``.
Item side (``fusion="attention"``): each item has one token per view; ``u`` attends over the item's view tokens,
so how much each view counts is decided per (context, item) pair; score = ``u . v_i + b_i`` where ``b_i`` is a
learned item bias (part of the CF view).
With the semantic view on, the (fine-tuned, normalised) cosine of context and item embeddings is added with a
learned scale, a residual path that keeps the encoder's own geometry (initial scale 20 = 1 / temperature 0.05).
``fusion="sum"`` (the no-fusion ablation) skips both attentions: score = ``u_sem . s_i + u_cf . f_i + b_i`` with
``u_cf`` the mean of the context items' CF tokens.

Shapes: ``context_sem [B, S]``, ``context_items [B, L]`` (catalogue indices, -1 = padding), ``item_sem [N, S]``,
``item_cf [N, C]``, ``item_bias [N]`` -> scores ``[B, N]``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

VIEWS = ("semantic", "cf")


class DualViewFusion(nn.Module):
    def __init__(self, sem_dim: int, cf_dim: int, dim: int = 128, heads: int = 4,
                 views: tuple[str, ...] = VIEWS, fusion: str = "attention", dropout: float = 0.1,
                 cf_prior: float = 0.0):
        super().__init__()
        if not views or set(views) - set(VIEWS):
            raise ValueError(f"views must be a non-empty subset of {VIEWS}, got {views}")
        if fusion not in ("attention", "sum"):
            raise ValueError(f"fusion must be 'attention' or 'sum', got {fusion!r}")
        self.views, self.fusion, self.dim = tuple(views), fusion, dim
        self.use_sem, self.use_cf = "semantic" in views, "cf" in views
        self.ctx_sem = nn.Linear(sem_dim, dim)
        self.ctx_cf = nn.Linear(cf_dim, dim)
        self.query = nn.Parameter(torch.zeros(dim))  # the query when the semantic view is off
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm = nn.LayerNorm(dim)
        self.item_sem = nn.Linear(sem_dim, dim)
        self.item_cf = nn.Linear(cf_dim, dim)
        self.view_key = nn.Linear(dim, dim, bias=False)
        self.sem_scale = nn.Parameter(torch.tensor(20.0))
        # Learned attention-logit offsets of the CF tokens (context side and item side), initialised at -cf_prior:
        # with both views on, training starts close to the semantic view and lets the CF view in as far as it
        # helps, instead of letting the CF view (near-free item vectors on small data) memorise the train set.
        self.ctx_cf_prior = nn.Parameter(torch.tensor(-cf_prior))
        self.item_cf_prior = nn.Parameter(torch.tensor(-cf_prior))
        self.dropout = nn.Dropout(dropout)

    def context(self, context_sem: torch.Tensor, context_items: torch.Tensor, item_cf: torch.Tensor) -> torch.Tensor:
        """Context vector ``u [B, dim]`` (attention fusion) or ``[B, 2, dim]`` (sum: one per view)."""
        b = context_sem.shape[0]
        q = self.dropout(self.ctx_sem(context_sem)) if self.use_sem else self.query.expand(b, -1)
        if self.fusion == "sum":
            u_cf = torch.zeros_like(q)
            if self.use_cf:
                mask = (context_items >= 0).unsqueeze(-1).float()
                tokens = self.ctx_cf(item_cf[context_items.clamp(min=0)]) * mask
                u_cf = tokens.sum(1) / mask.sum(1).clamp(min=1.0)
            return torch.stack([q if self.use_sem else torch.zeros_like(q), u_cf], dim=1)
        tokens, pad = q.unsqueeze(1), torch.zeros(b, 1, dtype=torch.bool, device=q.device)
        if self.use_cf:
            tokens = torch.cat([tokens, self.dropout(self.ctx_cf(item_cf[context_items.clamp(min=0)]))], dim=1)
            pad = torch.cat([pad, context_items < 0], dim=1)
        offsets = None
        if self.use_cf and self.use_sem:
            offsets = torch.cat([torch.zeros(1, device=q.device),
                                 self.ctx_cf_prior.expand(tokens.shape[1] - 1)]).unsqueeze(0)
            offsets = offsets.masked_fill(pad, float("-inf")).repeat_interleave(self.attn.num_heads, dim=0)
            offsets = offsets.unsqueeze(1)  # [B * heads, 1, S]
            pad = None
        attended, _ = self.attn(q.unsqueeze(1), tokens, tokens, key_padding_mask=pad, attn_mask=offsets,
                                need_weights=False)
        return self.norm(q + attended.squeeze(1))

    def item_views(self, item_sem: torch.Tensor, item_cf: torch.Tensor) -> torch.Tensor:
        """``[N, V, dim]``: one token per view (V = 2: semantic, cf; an unused view is zeros and masked)."""
        s = (self.item_sem(item_sem) if self.use_sem
             else torch.zeros(item_sem.shape[0], self.dim, device=item_sem.device))
        f = (self.dropout(self.item_cf(item_cf)) if self.use_cf
             else torch.zeros(item_cf.shape[0], self.dim, device=item_cf.device))
        return torch.stack([s, f], dim=1)

    def score(self, u: torch.Tensor, views: torch.Tensor, item_bias: torch.Tensor,
              cf_off: torch.Tensor | None = None) -> torch.Tensor:
        """Scores ``[B, N]``; ``cf_off [B]`` (training only) removes the CF view from the item side of those rows."""
        bias = item_bias if self.use_cf else torch.zeros_like(item_bias)
        if self.fusion == "sum":  # u: [B, 2, dim]
            return torch.einsum("bvd,nvd->bn", u, views) + bias
        dots = torch.einsum("bd,nvd->bnv", u, views)
        if self.use_sem and self.use_cf:
            keys = torch.einsum("bd,nvd->bnv", self.view_key(u), views) / math.sqrt(self.dim)
            if cf_off is not None:
                keys = keys.masked_fill(torch.stack([torch.zeros_like(cf_off), cf_off], -1)[:, None, :], float("-inf"))
            # Sigmoid (non-competing) attention over the views: the CF view can add to an item's score without
            # taking weight away from the semantic view, as a softmax over views would; each weight is in (0, 2).
            weights = 2 * torch.sigmoid(keys + torch.stack([torch.zeros((), device=u.device), self.item_cf_prior]))
        else:
            weights = torch.tensor([1.0, 0.0] if self.use_sem else [0.0, 1.0], device=u.device)
        return (dots * weights).sum(-1) + bias

    def residual(self, context_sem: torch.Tensor, item_sem: torch.Tensor) -> torch.Tensor:
        """``sem_scale * cos(context, item)`` on the fine-tuned embeddings (0 without the semantic view)."""
        if not self.use_sem:
            return torch.zeros(context_sem.shape[0], item_sem.shape[0], device=context_sem.device)
        return self.sem_scale * (context_sem @ item_sem.T)

    def forward(self, context_sem, context_items, item_sem, item_cf, item_bias, view_dropout: float = 0.0):
        """``view_dropout``: in training, the share of rows that see no CF view at all (context or item side),
        so the semantic path stays strong on its own instead of co-adapting with a CF view that can memorise."""
        cf_off = None
        if self.training and view_dropout > 0 and self.use_cf and self.use_sem:
            cf_off = torch.rand(context_sem.shape[0], device=context_sem.device) < view_dropout
            context_items = context_items.masked_fill(cf_off[:, None], -1)
        u = self.context(context_sem, context_items, item_cf)
        scores = self.score(u, self.item_views(item_sem, item_cf), item_bias, cf_off)
        return scores + self.residual(context_sem, item_sem)
