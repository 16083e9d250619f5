"""Stage ``train-recommender-sft``: LoRA SFT of the reasoning recommender with TRL's SFTTrainer.

    python -m benchmark train-recommender-sft --data results/recommender/sft-data/redial \\
        --llm results/models/base/llm/meta.json --recipe workflow/recipes/recommender/sft/cpu.yaml --seed 0 \\
        --out results/models/recommender/sft/redial/seed0

The model is ``--llm`` if given, else the recipe's ``model`` (a prepared meta.json, a local directory or a hub
id). Records are drawn with the seed and capped at ``max_records``; the loss is on the completion (trace +
answer) only. Checkpoints every ``save_steps``; a rerun resumes from the last one. Writes ``adapter/`` (LoRA) and
``meta.json`` (steps, losses, wall time, peak memory, record counts, recipe, provenance).
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import time
from pathlib import Path

import torch

from benchmark.errors import BenchmarkError
from benchmark.io import read_jsonl, write_json
from benchmark.provenance import provenance
from benchmark.recommender.config import RecommenderSFTConfig
from benchmark.seeding import seed_everything
from benchmark.training import lora_sft_trainer, save_adapter, train_resumable


def resolve_model(spec: str | os.PathLike | None) -> str:
    """What ``from_pretrained`` loads for a model spec: a prepared meta.json, a local directory or a hub id."""
    if not spec:
        raise BenchmarkError("no recommender model: pass --llm or set `model` in the recipe")
    if str(spec).endswith("meta.json"):
        from benchmark.models.base import model_path

        return model_path(spec)
    return str(spec)


def load_model(spec: str | os.PathLike | None, dtype=torch.float32):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model(spec)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    if torch.cuda.is_available():
        model = model.to("cuda")
    return model, tokenizer


def train_recommender_sft(data_dir, out, cfg: RecommenderSFTConfig, llm=None, seed: int = 0,
                          progress: bool = True) -> dict:
    from datasets import Dataset

    seed_everything(seed)
    started = time.time()
    out, data_dir = Path(out), Path(data_dir)
    records = read_jsonl(data_dir / "train.jsonl", "recommender SFT records (python -m benchmark recommender-sft-data)")
    if not records:
        raise BenchmarkError(f"{data_dir / 'train.jsonl'}: no SFT records (did the retriever miss every target "
                             "with inject_missing off?)")
    rng = random.Random(seed)
    records = rng.sample(records, min(cfg.max_records, len(records)))
    train_set = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in records])
    model_spec = llm or cfg.model
    model, tokenizer = load_model(model_spec)
    ckpt_dir = out / "checkpoints"
    trainer = lora_sft_trainer(model, tokenizer, train_set, cfg, ckpt_dir, seed, progress)
    resumed_from = max((int(p.name.split("-")[1]) for p in ckpt_dir.glob("checkpoint-*")), default=0)
    result, resume = train_resumable(trainer, ckpt_dir)
    save_adapter(trainer.model, tokenizer, out / "adapter")
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    meta = {
        "records": len(records), "steps": result.global_step, "train_loss": result.training_loss,
        "first_logged_loss": losses[:1], "last_logged_loss": losses[-1:], "loss_log": losses, "resumed": resume,
        "resumed_from_step": resumed_from,
        "seed": seed, "wall_seconds": time.time() - started, "device": str(trainer.model.device),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None,
        "base_model": str(model_spec), "recipe": cfg.to_dict(), "prompt": {"show_rank": cfg.show_rank},
        "adapter": str((out / "adapter").resolve()),
        "provenance": provenance(inputs={"train_records": data_dir / "train.jsonl"}, seed=seed),
    }
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    write_json(out / "meta.json", meta)
    return meta
