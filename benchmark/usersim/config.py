"""Simulator SFT hyper-parameters: a documented dataclass filled from a YAML recipe (workflow/recipes/usersim/)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

import yaml

from benchmark.errors import BenchmarkError


@dataclass
class SimulatorSFTConfig:
    # --- data ---
    task_weights: dict[str, float] = field(default_factory=lambda: {"feedback": 1.0, "attributes": 1.0, "target": 1.0})
    # share of each task's records in the training mix (0 drops a task); records are drawn with the seed
    max_records: int = 4000  # cap on the mixed training set (the step budget sees ~max_steps * batch of them)
    max_length: int = 384  # tokens per prompt + completion (longer records are truncated by TRL)
    # --- LoRA (PEFT) ---
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    # --- optimisation (TRL SFTTrainer) ---
    learning_rate: float = 3e-4
    batch_size: int = 4
    grad_accum: int = 1
    max_steps: int = 200  # ~2-3 s per step of 4 x ~300 tokens on 2 cores (bf16 autocast)
    warmup_steps: int = 10
    save_steps: int = 50  # checkpoint interval (resume after an interruption)
    logging_steps: int = 10
    bf16: bool = False  # autocast to bfloat16 (the CPU recipe sets it: AMX); always set explicitly (TRL default on)
    gradient_checkpointing: bool = False  # TRL defaults it to True; off on the tiny CPU model

    @classmethod
    def from_yaml(cls, path: str | os.PathLike | None, **overrides) -> SimulatorSFTConfig:
        values = {}
        if path:
            with open(path, encoding="utf-8") as fh:
                values = yaml.safe_load(fh) or {}
        values.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in dataclasses.fields(cls)}
        if unknown := sorted(set(values) - known):
            raise BenchmarkError(f"{path}: unknown simulator recipe keys {unknown} (known: {sorted(known)})")
        cfg = cls(**values)
        if bad := sorted(set(cfg.task_weights) - {"feedback", "attributes", "target"}):
            raise BenchmarkError(f"{path}: unknown tasks in task_weights: {bad}")
        return cfg

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
