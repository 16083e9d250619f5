"""Stage ``train-retriever``: CF view + cross-attention fusion on top of the fine-tuned semantic view.

Reads the semantic stage's encoder and embeddings, computes the CF item embeddings, and trains the fusion module
with a softmax cross-entropy over the **whole catalogue** (every other item is a negative: in-batch and sampled
negatives are both subsets of that, and at <7k items the full softmax is cheap). The epoch with the best valid
``select_on`` (fresh protocol) is kept. Writes ``fusion.pt``, ``cf.pt``, the index for the training catalogue
(``index/<dataset>.pt``) and ``meta.json`` (timings, peak memory, valid metrics). Paths to other artefacts
(``train_dir``, ``semantic_dir``, ``init``) are stored relative to the model directory (``config.portable_path``).

Device: ``--device auto`` (default) trains on CUDA when present (bf16 autocast), else on the CPU, where nothing
differs from a run without the option (same ops, dtypes and RNG streams: the epoch order is drawn on the CPU).

    python -m benchmark train-retriever --train results/processed/redial \\
        --semantic results/models/semantic/redial/seed0 \\
        --recipe workflow/recipes/retriever/cpu.yaml --views semantic,cf --fusion attention --seed 0 \\
        --out results/models/retriever/dualview/redial/seed0 [--device auto|cpu|cuda]
"""

from __future__ import annotations

import copy
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from benchmark.best_epoch import BestEpoch
from benchmark.config import portable_path
from benchmark.data.bundle import DatasetBundle
from benchmark.data.context import context_item_matrix, recent_context_items
from benchmark.data.matching import match_fields
from benchmark.device import compute_dtype, resolve_device
from benchmark.errors import BenchmarkError
from benchmark.eval.evaluate import evaluate_rankings
from benchmark.io import read_json, write_json
from benchmark.progress import report
from benchmark.provenance import provenance
from benchmark.retrieval.cf import cf_embeddings
from benchmark.retrieval.config import RetrieverConfig
from benchmark.retrieval.fusion import DualViewFusion
from benchmark.seeding import seed_everything


@dataclass
class Batch:
    context_sem: torch.Tensor  # [B, S]
    context_items: torch.Tensor  # [B, L], -1 padded
    targets: torch.Tensor  # [B]


def context_items(samples, index: dict[str, int], max_items: int) -> torch.Tensor:
    """``[B, max_items]`` catalogue indices of each sample's context items, most recent first, -1 padded."""
    return context_item_matrix([recent_context_items(s) for s in samples], index, max_items)


def examples(samples, context_sem, index, cfg: RetrieverConfig) -> Batch:
    rows, targets = [], []
    for n, s in enumerate(samples):
        seen = set(s["context_items"])
        for t in s["targets"]:
            if cfg.train_targets == "fresh" and t in seen:
                continue
            rows.append(n)
            targets.append(index[t])
    ctx_items = context_items(samples, index, cfg.max_context_items)
    rows_t = torch.tensor(rows, dtype=torch.long)
    return Batch(context_sem[rows_t], ctx_items[rows_t], torch.tensor(targets, dtype=torch.long))


def autocast(device: str):
    """bf16 autocast on CUDA; a disabled context on the CPU (CPU numbers stay exactly those of fp32)."""
    kind = "cuda" if str(device).startswith("cuda") else "cpu"
    return torch.autocast(kind, dtype=compute_dtype(device), enabled=kind == "cuda")


def rank_valid(model, bundle, context_sem, item_sem, item_cf, bias, cfg, k: int = 50) -> dict:
    index = {i: n for n, i in enumerate(bundle.catalog.ids)}
    samples = bundle.samples("valid")
    model.eval()
    device = context_sem.device
    with torch.no_grad(), autocast(str(device)):
        items = context_items(samples, index, cfg.max_context_items).to(device)
        scores = model(context_sem, items, item_sem, item_cf, bias).float()
        top = scores.topk(min(k, scores.shape[1]), dim=1).indices.tolist()
    model.train()
    preds = {s["sample_id"]: {"ranked_items": [bundle.catalog.ids[j] for j in row]}
             for s, row in zip(samples, top, strict=True)}
    metrics = evaluate_rankings(samples, preds, set(bundle.catalog.ids), ("fresh",), (10, 20, 50))["fresh"]["metrics"]
    return {k: v for k, v in metrics.items() if k.startswith("recall")}


def train_retriever(train_dir, semantic_dir, out, cfg: RetrieverConfig, views=("semantic", "cf"),
                    fusion: str = "attention", seed: int = 0, init: str | os.PathLike | None = None,
                    device: str = "auto") -> dict:
    """Train one retriever variant; ``init`` = a trained variant whose weights start this one (warm start).

    The dual-view model is warm-started from the semantic-only variant by default (config ``retriever.variants``):
    the semantic path starts trained, the CF path enters through its attention offsets as far as it improves the
    valid score, and epoch 0 (the warm start itself) is a candidate for the best epoch.
    """
    seed_everything(seed)
    device = resolve_device(device)
    started = time.time()
    bundle, semantic_dir, out = DatasetBundle(train_dir), Path(semantic_dir), Path(out)
    emb = {k: v.to(device) if torch.is_tensor(v) else v
           for k, v in torch.load(semantic_dir / "embeddings.pt", map_location="cpu").items()}
    if emb["item_ids"] != bundle.catalog.ids:
        raise BenchmarkError(f"{semantic_dir}: embeddings were made for another catalogue than {bundle.dir}")
    cf, mentions = cf_embeddings(bundle.dialogues("train"), bundle.catalog.ids, cfg.cf_dim, cfg.cf_min_count,
                                 cfg.cf_smoothing)
    item_cf = torch.from_numpy(cf).to(device)
    cf_seconds = time.time() - started
    index = {i: n for n, i in enumerate(bundle.catalog.ids)}
    data = examples(bundle.samples("train"), emb["train_contexts"], index, cfg)
    data.context_items, data.targets = data.context_items.to(device), data.targets.to(device)
    model = DualViewFusion(emb["items"].shape[1], cfg.cf_dim, cfg.dim, cfg.heads, tuple(views), fusion, cfg.dropout,
                           cfg.cf_prior).to(device)
    # Item bias = a learned weight on log-popularity (one scalar, not one free bias per item: with ~2-8k training
    # pairs and up to 7k items, free biases overfit within one epoch).
    log_pop = torch.from_numpy(np.log1p(mentions)).float().to(device)
    pop_weight = torch.nn.Parameter(torch.tensor(float(cfg.pop_weight_init), device=device))
    scalars = [p for p in model.parameters() if p.dim() == 0] + ([pop_weight] if model.use_cf else [])
    tensors = [p for p in model.parameters() if p.dim() > 0]
    opt = torch.optim.AdamW([{"params": tensors}, {"params": scalars, "lr": cfg.scalar_lr, "weight_decay": 0.0}],
                            lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(seed)  # on the CPU on every device: the same epoch order everywhere
    best, history = BestEpoch(cfg.patience), []

    def snapshot():  # the fusion weights and the item bias they were selected with
        return copy.deepcopy(model.state_dict()), (pop_weight * log_pop).detach().clone()

    if init is not None:
        model.load_state_dict(torch.load(Path(init) / "fusion.pt", map_location=device)["model"])
        valid = rank_valid(model, bundle, emb["valid_contexts"], emb["items"], item_cf, (pop_weight * log_pop).detach(),
                           cfg)
        history.append({"epoch": 0, "loss": None, **{k: v["mean"] for k, v in valid.items()}})
        best.update(0, valid[cfg.select_on]["mean"], snapshot)
    for epoch in range(cfg.epochs):
        order = torch.randperm(len(data.targets), generator=gen)
        total = 0.0
        for start in range(0, len(order), cfg.batch_size):
            idx = order[start:start + cfg.batch_size].to(device)
            with autocast(device):
                scores = model(data.context_sem[idx], data.context_items[idx], emb["items"], item_cf,
                               pop_weight * log_pop, view_dropout=cfg.view_dropout)
            loss = torch.nn.functional.cross_entropy(scores.float(), data.targets[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        valid = rank_valid(model, bundle, emb["valid_contexts"], emb["items"], item_cf,
                           (pop_weight * log_pop).detach(), cfg)
        history.append({"epoch": epoch + 1, "loss": total / len(order), **{k: v["mean"] for k, v in valid.items()}})
        report(f"retriever {'+'.join(views)} epoch {epoch + 1}/{cfg.epochs}: loss {total / len(order):.4f}, "
               f"valid fresh {cfg.select_on} {valid[cfg.select_on]['mean']:.4f}")
        if best.update(epoch + 1, valid[cfg.select_on]["mean"], snapshot):
            break
    best_state, best_bias = best.state
    model.load_state_dict(best_state)
    out.mkdir(parents=True, exist_ok=True)
    # saved on the CPU, so a model trained on a GPU loads anywhere
    state = {"model": {k: v.cpu() for k, v in model.state_dict().items()}, "bias": best_bias.cpu(),
             "views": list(views), "fusion": fusion,
             "sem_dim": emb["items"].shape[1], "recipe": cfg.to_dict(), "item_ids": bundle.catalog.ids,
             "item_keys": [it["key"] for it in bundle.catalog.items], "dataset": bundle.name,
             "item_match": [match_fields(it) for it in bundle.catalog.items],  # transfer matching (IMDb, year)
             "train_dir": portable_path(bundle.dir, out)}
    # a fixed temporary name (not atomic_path's random one): torch.save names the zip's inner folder after the file,
    # so a fixed name keeps fusion.pt byte-identical across runs (its sha256 fingerprints the cached index)
    torch.save(state, out / "fusion.pt.partial")
    os.replace(out / "fusion.pt.partial", out / "fusion.pt")
    torch.save({"item_ids": bundle.catalog.ids, "cf": item_cf.cpu(), "mentions": torch.from_numpy(mentions)},
               out / "cf.pt.partial")
    os.replace(out / "cf.pt.partial", out / "cf.pt")
    train_seconds = time.time() - started
    from benchmark.retrieval.retriever import DualViewRetriever

    index_started = time.time()
    # built once and cached in this stage's own output directory (prediction stages only read it)
    DualViewRetriever(out, semantic_dir=semantic_dir, device=device, cache_index=True).index(bundle.catalog)
    sem_meta = read_json(semantic_dir / "meta.json")
    meta = {
        "dataset": bundle.name, "seed": seed, "views": list(views), "fusion": fusion, "recipe": cfg.to_dict(),
        "semantic_dir": portable_path(semantic_dir, out), "examples": len(data.targets), "best_epoch": best.epoch,
        "init": portable_path(init, out) if init else None, "device": device,
        "valid_fresh": {k: v for k, v in next(h for h in history if h["epoch"] == best.epoch).items()
                        if k.startswith("recall")},
        "history": history, "cf_seconds": cf_seconds, "fusion_seconds": train_seconds - cf_seconds,
        "index_seconds": time.time() - index_started,
        "semantic_seconds": sem_meta["train_seconds"] + sem_meta["encode_seconds"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "provenance": provenance(inputs={"semantic_meta": semantic_dir / "meta.json",
                                         "train_dialogues": bundle.dir / "train.dialogues.jsonl"}, seed=seed),
    }
    write_json(out / "meta.json", meta)
    return meta
