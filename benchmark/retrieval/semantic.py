"""Semantic view: fine-tune the sentence embedder contrastively (context -> target item text).

``SentenceTransformerTrainer`` with ``MultipleNegativesRankingLoss`` (in-batch negatives; the no-duplicates batch
sampler keeps one pair per item per batch), seeded, checkpointed every ``sem_save_steps`` and resumed from the last
checkpoint. After training, the contexts of the train/valid samples and the items of the catalogue are encoded once
and stored beside the encoder (``embeddings.pt``) for the fusion stage.

    python -m benchmark train-semantic --train results/processed/redial \\
        --embedder results/models/base/embedder/meta.json \\
        --recipe workflow/recipes/retriever/cpu.yaml --seed 0 --out results/models/semantic/redial/seed0
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import torch

from benchmark.data.bundle import DatasetBundle
from benchmark.io import atomic_dir, write_json
from benchmark.models.base import model_path
from benchmark.provenance import provenance
from benchmark.retrieval.config import RetrieverConfig
from benchmark.retrieval.text import context_text, item_text
from benchmark.seeding import seed_everything


def load_encoder(path: str | os.PathLike, max_seq_length: int, device: str | None = None):
    """``device``: where the encoder runs (default: CUDA when present, else the CPU)."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device=device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model.max_seq_length = max_seq_length
    return model


def encode(model, texts: list[str], batch_size: int = 128, progress: bool = False, device: str = "cpu") -> torch.Tensor:
    """fp32 unit vectors ``[len(texts), dim]`` on ``device`` (the scorer's device: no round trip through the CPU)."""
    return model.encode(texts, batch_size=batch_size, convert_to_tensor=True, normalize_embeddings=True,
                        show_progress_bar=progress).float().to(device)


def training_pairs(bundle: DatasetBundle, split: str = "train") -> dict[str, list[str]]:
    """(context text, target item text) for every sample target with a title (untitled items have no text)."""
    anchors, positives = [], []
    for s in bundle.samples(split):
        for t in s["targets"]:
            item = bundle.catalog.by_id[t]
            if item["has_title"]:
                anchors.append(context_text(s["context"]))
                positives.append(item_text(item))
    return {"anchor": anchors, "positive": positives}


def freeze_lower_layers(model, n_layers: int) -> None:
    for name, param in model.named_parameters():
        if "embeddings" in name or any(f"layer.{i}." in name for i in range(n_layers)):
            param.requires_grad = False


def train_semantic(train_dir, embedder_meta, out, cfg: RetrieverConfig, seed: int = 0, progress: bool = True) -> dict:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer import losses
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    seed_everything(seed)
    out, bundle = Path(out), DatasetBundle(train_dir)
    started = time.time()
    model = load_encoder(model_path(embedder_meta), cfg.max_seq_length)
    freeze_lower_layers(model, cfg.sem_freeze_layers)
    pairs = Dataset.from_dict(training_pairs(bundle))
    ckpt_dir = out / "checkpoints"
    args = SentenceTransformerTrainingArguments(
        output_dir=str(ckpt_dir), per_device_train_batch_size=cfg.sem_batch_size, num_train_epochs=cfg.sem_epochs,
        max_steps=cfg.sem_max_steps, learning_rate=cfg.sem_lr, warmup_steps=0.1, seed=seed, data_seed=seed,
        batch_sampler=BatchSamplers.NO_DUPLICATES, save_steps=cfg.sem_save_steps, save_total_limit=1,
        logging_steps=10, report_to="none", disable_tqdm=not progress, bf16=False, fp16=False,
        use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=pairs,
                                         loss=losses.MultipleNegativesRankingLoss(model))
    resume = any(ckpt_dir.glob("checkpoint-*"))
    result = trainer.train(resume_from_checkpoint=True if resume else None)
    with atomic_dir(out / "encoder") as tmp:
        model.save(str(tmp))
    train_seconds = time.time() - started
    # Encode once for the fusion stage (shared by every retriever variant).
    started = time.time()
    embeddings = {
        "item_ids": bundle.catalog.ids,
        "items": encode(model, [item_text(it) for it in bundle.catalog.items], progress=progress),
        **{f"{split}_contexts": encode(model, [context_text(s["context"]) for s in bundle.samples(split)],
                                      progress=progress) for split in ("train", "valid")},
    }
    torch.save(embeddings, out / "embeddings.pt.partial")
    os.replace(out / "embeddings.pt.partial", out / "embeddings.pt")
    meta = {
        "dataset": bundle.name, "seed": seed, "recipe": cfg.to_dict(), "pairs": len(pairs),
        "steps": result.global_step, "train_loss": result.training_loss, "resumed": resume,
        "train_seconds": train_seconds, "encode_seconds": time.time() - started,
        "encoder": str((out / "encoder").resolve()), "base_embedder": model_path(embedder_meta),
        "provenance": provenance(inputs={"train_samples": bundle.dir / "train.samples.jsonl"}, seed=seed),
    }
    shutil.rmtree(ckpt_dir, ignore_errors=True)  # finished: the checkpoints are no longer needed
    write_json(out / "meta.json", meta)
    return meta
