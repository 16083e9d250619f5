"""Simulator SFT hyper-parameters: a documented dataclass filled from a YAML recipe (workflow/recipes/usersim/)."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmark.errors import BenchmarkError
from benchmark.recipe import Recipe


@dataclass
class SimulatorSFTConfig(Recipe):
    kind = "simulator recipe"

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
    max_steps: int = 120  # ~5 s per step of 4 x ~250 tokens on 2 cores (bf16 autocast): ~10 min
    warmup_steps: int = 10
    save_steps: int = 50  # checkpoint interval (resume after an interruption)
    logging_steps: int = 10
    bf16: bool = False  # autocast to bfloat16 (the CPU recipe sets it: AMX); always set explicitly (TRL default on)
    gradient_checkpointing: bool = False  # TRL defaults it to True; off on the tiny CPU model

    def validate(self, path) -> None:
        if bad := sorted(set(self.task_weights) - {"feedback", "attributes", "target"}):
            raise BenchmarkError(f"{path}: unknown tasks in task_weights: {bad}")
