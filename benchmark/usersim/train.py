"""Stage ``train-usersim``: LoRA SFT of the user simulator with TRL's SFTTrainer (multi-task or single-task).

    python -m benchmark train-usersim --data results/usersim/data/redial --llm results/models/base/llm/meta.json \\
        --recipe workflow/recipes/usersim/cpu.yaml --tasks feedback=1,attributes=1,target=1 --seed 0 \\
        --out results/models/usersim/multitask/redial/seed0

The training mix takes ``task_weights[t]`` of each task's records (seeded draw), capped at ``max_records``;
the loss is on the completion only. Checkpoints every ``save_steps``; a rerun resumes from the last one.
Writes the LoRA adapter (``adapter/``) and ``meta.json`` (steps, losses, wall time, peak memory, data counts).
"""

from __future__ import annotations

import random
import resource
import shutil
import time
from collections import Counter
from pathlib import Path

import torch

from benchmark.io import read_jsonl, write_json
from benchmark.models.base import model_path
from benchmark.provenance import provenance
from benchmark.seeding import seed_everything
from benchmark.training import lora_sft_trainer, save_adapter, train_resumable
from benchmark.usersim.config import SimulatorSFTConfig


def mix(records: list[dict], weights: dict[str, float], cap: int, seed: int) -> list[dict]:
    """Take ``weights[task]`` of each task's records (at most 1.0), shuffle with ``seed``, keep ``cap``."""
    rng = random.Random(seed)
    by_task: dict[str, list[dict]] = {}
    for r in records:
        by_task.setdefault(r["task"], []).append(r)
    out = []
    for task, rows in sorted(by_task.items()):
        share = min(1.0, max(0.0, float(weights.get(task, 0.0))))
        out.extend(rng.sample(rows, round(share * len(rows))))
    rng.shuffle(out)
    if len(out) > cap:  # keep the task proportions when capping
        out = out[:cap]
    return out


def load_base(path: str, dtype=torch.float32):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    return model, tokenizer


def train_usersim(data_dir, llm_meta, out, cfg: SimulatorSFTConfig, seed: int = 0, progress: bool = True,
                  model=None, tokenizer=None) -> dict:
    """Train; ``model``/``tokenizer`` may be passed directly (tests use a tiny random Llama)."""
    from datasets import Dataset

    seed_everything(seed)
    started = time.time()
    out, data_dir = Path(out), Path(data_dir)
    records = mix(read_jsonl(data_dir / "train.jsonl", "simulator SFT records (python -m benchmark usersim-data)"),
                  cfg.task_weights, cfg.max_records, seed)
    train_set = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in records])
    if model is None:
        model, tokenizer = load_base(model_path(llm_meta))
    ckpt_dir = out / "checkpoints"
    trainer = lora_sft_trainer(model, tokenizer, train_set, cfg, ckpt_dir, seed, progress)
    result, resume = train_resumable(trainer, ckpt_dir)
    save_adapter(trainer.model, tokenizer, out / "adapter")
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    meta = {
        "task_weights": cfg.task_weights, "records": dict(Counter(r["task"] for r in records)),
        "steps": result.global_step, "train_loss": result.training_loss, "first_logged_loss": losses[:1],
        "last_logged_loss": losses[-1:], "loss_log": losses, "resumed": resume, "seed": seed,
        "wall_seconds": time.time() - started, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "base_model": str(llm_meta), "recipe": cfg.to_dict(), "adapter": str((out / "adapter").resolve()),
        "provenance": provenance(inputs={"train_records": data_dir / "train.jsonl"}, seed=seed),
    }
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    write_json(out / "meta.json", meta)
    return meta
