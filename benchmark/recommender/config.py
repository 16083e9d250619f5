"""Recommender SFT recipe: a documented dataclass filled from YAML (workflow/recipes/recommender/sft/<profile>.yaml).

    cfg = RecommenderSFTConfig.from_yaml("workflow/recipes/recommender/sft/cpu.yaml", max_steps=10)

An unknown key or an impossible value (K < 10, an unknown target variant, ...) fails at load with the key named.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmark.errors import BenchmarkError
from benchmark.recipe import Recipe
from benchmark.recommender import prompt


@dataclass
class RecommenderSFTConfig(Recipe):
    kind = "recommender SFT recipe"

    # --- model: a prepared meta.json, a local model directory or a hub id; the stage's --llm argument wins ---
    model: str | None = None
    # --- data (recommender-sft-data) ---
    candidates: int = 20  # K: retriever candidates shown per prompt (the answer lists 10 of them)
    targets: str = "fresh"  # "fresh": targets already mentioned in the context are not trained on; or "all"
    inject_missing: bool = True  # a target the retriever missed replaces a candidate at a seeded random position
    max_turns: int = prompt.MAX_TURNS  # dialogue turns in a prompt
    max_chars: int = prompt.MAX_CHARS  # characters of dialogue in a prompt (oldest cut first)
    show_rank: bool = False  # each candidate line says its retriever rank ("[search rank r]"); recorded in the
    #                          model's meta.json so every later stage prompts the same way (prompt.py)
    max_records: int = 4000  # cap on training records (seeded draw); the step budget sees max_steps * batch
    # --- LoRA (PEFT) ---
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    # --- optimisation (TRL SFTTrainer; loss on the completion only) ---
    max_length: int = 1280  # prompt (ReDial, K=20: median 720, max 921 tokens) + trace+answer (median 219, max 327)
    learning_rate: float = 2e-4
    batch_size: int = 4
    grad_accum: int = 1
    max_steps: int = 150
    warmup_steps: int = 10
    save_steps: int = 50  # checkpoint interval (a rerun resumes from the last checkpoint)
    logging_steps: int = 10
    bf16: bool = False  # always set explicitly (TRL defaults it to True)
    gradient_checkpointing: bool = False  # TRL defaults it to True; off for the small CPU model

    def validate(self, path) -> None:
        where = path or "recommender SFT recipe"
        if self.candidates < prompt.K_ANSWER:
            raise BenchmarkError(f"{where}: candidates (K) = {self.candidates} is impossible: the answer lists "
                                 f"{prompt.K_ANSWER} distinct candidates, so K must be >= {prompt.K_ANSWER}")
        if self.targets not in ("fresh", "all"):
            raise BenchmarkError(f"{where}: targets must be 'fresh' or 'all', got {self.targets!r}")
        for name in ("max_steps", "batch_size", "grad_accum", "lora_r", "save_steps", "max_records", "max_length"):
            if getattr(self, name) < 1:
                raise BenchmarkError(f"{where}: {name} must be >= 1, got {getattr(self, name)}")
