"""Retriever hyper-parameters: a documented dataclass filled from a YAML recipe (workflow/recipes/retriever/)."""

from __future__ import annotations

from dataclasses import dataclass

from benchmark.errors import BenchmarkError
from benchmark.recipe import Recipe


@dataclass
class RetrieverConfig(Recipe):
    kind = "retriever recipe"

    # --- semantic view: MiniLM fine-tuned contrastively (context -> target item text) ---
    max_seq_length: int = 64  # tokens for contexts and items; 64 keeps queries >100/s on 2 cores (128: ~88/s)
    sem_batch_size: int = 32  # in-batch negatives per step (no duplicate items in a batch)
    sem_epochs: float = 1.0
    sem_max_steps: int = -1  # > 0 caps the steps (tests, quick runs)
    sem_lr: float = 5e-5
    sem_freeze_layers: int = 3  # embeddings + the first N of 6 transformer layers stay frozen (halves step time)
    sem_save_steps: int = 100  # checkpoint interval (resume after an interruption)
    # --- CF view: PPMI-SVD item embeddings from co-occurrence in training dialogues ---
    cf_dim: int = 64
    cf_min_count: int = 2  # items mentioned fewer times in training get no CF vector
    cf_smoothing: float = 0.75  # context-distribution smoothing of PMI (1.0 = plain PMI)
    # --- fusion: cross-attention module trained with a softmax over the full catalogue ---
    dim: int = 128
    heads: int = 4
    dropout: float = 0.1  # on the projected context tokens and item CF tokens
    view_dropout: float = 0.5  # share of training rows that see no CF view (modality dropout; see fusion.py)
    cf_prior: float = 4.0  # initial attention-logit offset against CF tokens (see fusion.py); 0 = none
    pop_weight_init: float = 0.0  # initial weight of the log-popularity item bias
    scalar_lr: float = 1e-2  # learning rate of the scalar parameters (CF priors, popularity weight, cosine scale)
    max_context_items: int = 20  # most recent context items the query attends over
    epochs: int = 30
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    train_targets: str = "all"  # "all" or "fresh": which (sample, target) pairs train the fusion
    select_on: str = "recall@10"  # valid metric (fresh protocol) that picks the best epoch
    patience: int = 5  # stop after this many epochs without a better valid score
    # --- use ---
    candidates: int = 20  # K: candidates handed to the LLM recommender per turn

    def validate(self, path) -> None:
        if self.train_targets not in ("all", "fresh"):
            raise BenchmarkError(f"{path}: train_targets must be 'all' or 'fresh'")
