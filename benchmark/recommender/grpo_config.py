"""Multi-turn GRPO recipe: a documented dataclass filled from YAML (workflow/recipes/recommender/grpo/<profile>.yaml).

    cfg = RecommenderGRPOConfig.from_yaml("workflow/recipes/recommender/grpo/cpu.yaml", max_steps=2)

An unknown key or an impossible value (G = 1, K < 10, a batch that G does not divide, an unknown reward) fails at
load with the key named. Weights, T, K, G, lengths and beta live here, nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmark.errors import BenchmarkError
from benchmark.recipe import Recipe
from benchmark.recommender.prompt import K_ANSWER

REWARD_NAMES = ("format", "recommend", "preference")


@dataclass
class RecommenderGRPOConfig(Recipe):
    kind = "recommender GRPO recipe"

    # --- model: a prepared meta.json, a local model directory or a hub id; the stage's --llm argument wins ---
    model: str | None = None
    # --- episode (benchmark.recommender.episode) ---
    turns: int = 2  # T recommender turns per episode, simulator replies in between (T = 1: no simulator)
    candidates: int = 20  # K retriever candidates per turn (the answer lists 10 of them)
    max_new_tokens: int = 160  # per recommender turn (a trace + a 10-number answer is ~100-150 SmolLM2 tokens)
    max_prompt_tokens: int = 900  # turn-1 prompt cap (TRL 1.16 has no max_prompt_length): longer ones lose the
    #                               oldest tokens after the system message; a K=20 prompt is ~700 tokens
    max_samples: int = 256  # training samples (a seeded draw of the train split's samples with a target)
    targets: str = "fresh"  # "fresh": targets already mentioned in the context do not count; or "all"
    simulator_max_new_tokens: int = 32  # reply length (a reply is one or two short sentences)
    # --- rewards (benchmark.recommender.rewards), each logged separately by TRL as rewards/<name>/mean ---
    reward_weights: dict[str, float] = field(
        default_factory=lambda: {"format": 0.2, "recommend": 1.0, "preference": 0.5})  # 0 removes a reward
    turn_reward: str = "mean"  # a reward is the mean over the episode's turns ("mean") or the last turn's ("last")
    preference_top: int = 3  # answer slots compared with the targets' attributes
    # --- GRPO (TRL GRPOConfig) ---
    num_generations: int = 4  # G completions per prompt (the group the advantage is computed in)
    batch_size: int = 4  # completions per device step; a multiple of G
    grad_accum: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    beta: float = 0.0  # KL coefficient (0: no reference model is kept, as in TRL's default)
    learning_rate: float = 5e-5
    max_steps: int = 20
    warmup_steps: int = 0
    save_steps: int = 10  # checkpoint interval (a rerun resumes from the last checkpoint)
    logging_steps: int = 1  # every step: the reward curves are plotted per step
    # --- LoRA (PEFT); with an SFT adapter given, that adapter is trained further instead ---
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    bf16: bool = False  # always set explicitly (TRL defaults it to True)
    gradient_checkpointing: bool = False  # TRL defaults it to True; off for the small CPU model

    def validate(self, path) -> None:
        where = path or self.kind
        if self.num_generations < 2:
            raise BenchmarkError(f"{where}: num_generations (G) = {self.num_generations} is impossible: GRPO's "
                                 "advantage compares completions within a group, so G must be >= 2")
        if self.candidates < K_ANSWER:
            raise BenchmarkError(f"{where}: candidates (K) = {self.candidates} is impossible: the answer lists "
                                 f"{K_ANSWER} distinct candidates, so K must be >= {K_ANSWER}")
        if (self.batch_size * self.grad_accum) % self.num_generations:
            raise BenchmarkError(f"{where}: batch_size * grad_accum = {self.batch_size * self.grad_accum} is not a "
                                 f"multiple of num_generations = {self.num_generations}")
        if bad := sorted(set(self.reward_weights) - set(REWARD_NAMES)):
            raise BenchmarkError(f"{where}: unknown rewards in reward_weights: {bad} (known: {list(REWARD_NAMES)})")
        if not any(self.reward_weights.get(r, 0) for r in REWARD_NAMES):
            raise BenchmarkError(f"{where}: every reward weight is 0: nothing to optimise")
        if self.turn_reward not in ("mean", "last"):
            raise BenchmarkError(f"{where}: turn_reward must be 'mean' or 'last', got {self.turn_reward!r}")
        if self.targets not in ("fresh", "all"):
            raise BenchmarkError(f"{where}: targets must be 'fresh' or 'all', got {self.targets!r}")
        for name in ("turns", "max_new_tokens", "max_prompt_tokens", "max_samples", "batch_size", "grad_accum",
                     "max_steps", "save_steps", "lora_r", "preference_top"):
            if getattr(self, name) < 1:
                raise BenchmarkError(f"{where}: {name} must be >= 1, got {getattr(self, name)}")
