"""Stage ``train-recommender-grpo``: multi-turn GRPO of the recommender (TRL 1.16 ``GRPOTrainer(rollout_func=...)``).

    python -m benchmark train-recommender-grpo --train results/processed/redial \\
        --llm results/models/base/llm/meta.json --sft results/models/recommender/sft/redial/seed0/adapter \\
        --retriever results/models/retriever/dualview/redial/seed0 \\
        --simulator results/models/usersim/multitask/redial/seed0/adapter \\
        --recipe workflow/recipes/recommender/grpo/cpu.yaml --seed 0 --out results/models/recommender/grpo/redial/seed0

One GRPO completion is one episode of ``episode.run_episodes`` (the same loop as the evaluation): T recommender
turns with the simulator's replies in between. Its tokens are [turn-1 answer][template + reply + new candidates]
[turn-2 answer]...; ``env_mask`` is 1 on the recommender's sampled tokens and 0 on the rest, so only the
recommender's own tokens carry loss (``tests/unit/test_grpo.py`` proves it). Turn t > 1 is generated from the
whole token sequence so far, exactly the sequence the loss later scores.

Facts of TRL 1.16 this relies on (trl/trainer/grpo_trainer.py): ``rollout_func(prompts, trainer)`` gets the
dataset's prompts already repeated G times in a row (RepeatSampler) and returns one completion per entry; it must
return ``prompt_ids``, ``completion_ids``, ``logprobs`` (None here: no vLLM, so no importance-sampling correction
and TRL computes the old log-probabilities itself); ``env_mask`` becomes the tool mask; other keys reach the reward
functions. The dataset prompt is the turn-1 chat (it also keys the sample: the shown order is seeded per sample).

Rewards (``rewards.py``) are scored per turn on that turn's answer and averaged over turns (``turn_reward``), each
logged by TRL as ``rewards/<name>/mean`` per step. Checkpoints every ``save_steps``; a rerun resumes.
"""

from __future__ import annotations

import copy
import json
import os
import random
import resource
import shutil
import time
from pathlib import Path

import torch

from benchmark.errors import BenchmarkError
from benchmark.io import write_json, write_text
from benchmark.provenance import provenance
from benchmark.recommender import prompt, rewards
from benchmark.recommender.episode import EpisodeSettings, first_prompts, run_episodes
from benchmark.recommender.grpo_config import REWARD_NAMES, RecommenderGRPOConfig
from benchmark.seeding import seed_everything
from benchmark.training import save_adapter, train_resumable


class TokenPolicy:
    """The recommender inside a rollout: generates with the trainer's model and keeps each episode's tokens.

    Chat i of every call is episode i (``run_episodes`` keeps the batch order); a chat of two messages starts an
    episode. ``prompt_ids[i]``, ``completion_ids[i]`` and ``env_mask[i]`` are read after the episodes ran.
    """

    def __init__(self, model, tokenizer, generation_config, max_new_tokens: int, max_prompt_tokens: int):
        self.model, self.tok = model, tokenizer
        self.gen = copy.deepcopy(generation_config)  # the trainer's sampling settings, with the per-turn length
        self.gen.max_new_tokens = max_new_tokens
        self.max_new_tokens, self.max_prompt_tokens = max_new_tokens, max_prompt_tokens
        self.eos_text = tokenizer.eos_token
        self.prompt_ids: list[list[int]] = []
        self.completion_ids: list[list[int]] = []
        self.env_mask: list[list[int]] = []
        self.truncated_prompts = 0

    def _render(self, chat, generation_prompt: bool) -> str:
        return self.tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=generation_prompt)

    def _encode(self, text: str) -> list[int]:
        return self.tok(text, add_special_tokens=False)["input_ids"]

    def _first(self, chat) -> list[int]:
        ids = self._encode(self._render(chat, True))
        if len(ids) <= self.max_prompt_tokens:
            return ids
        self.truncated_prompts += 1  # keep the system message, drop the oldest tokens after it
        head = len(self._encode(self._render(chat[:1], False)))
        return ids[:head] + ids[len(ids) - (self.max_prompt_tokens - head):]

    def _between(self, chat, ended: bool) -> list[int]:
        """Tokens between the last answer and the next one: template closing it, the new user message, header."""
        before, answered, now = self._render(chat[:-2], True), self._render(chat[:-1], False), self._render(chat, True)
        content = chat[-2]["content"]
        if not (answered.startswith(before + content) and now.startswith(answered)):
            raise BenchmarkError("multi-turn GRPO needs a chat template that renders a conversation as a prefix of "
                                 "its continuation (ChatML does); this tokenizer's does not")
        tail = answered[len(before) + len(content):]
        if ended and tail.startswith(self.eos_text):  # the sampled answer already ends with the eos token
            tail = tail[len(self.eos_text):]
        return self._encode(tail + now[len(answered):])

    def __call__(self, chats: list[list[dict]]) -> list[str]:
        if len(chats[0]) == 2:
            self.prompt_ids = [self._first(c) for c in chats]
            self.completion_ids, self.env_mask = [[] for _ in chats], [[] for _ in chats]
        else:
            for i, chat in enumerate(chats):
                ended = bool(self.completion_ids[i]) and self.completion_ids[i][-1] == self.tok.eos_token_id
                env = self._between(chat, ended)
                self.completion_ids[i] += env
                self.env_mask[i] += [0] * len(env)
        seqs = [p + c for p, c in zip(self.prompt_ids, self.completion_ids, strict=True)]
        new = self._generate(seqs)
        for i, ids in enumerate(new):
            self.completion_ids[i] += ids
            self.env_mask[i] += [1] * len(ids)
        return [self.tok.decode(ids, skip_special_tokens=True) for ids in new]

    def _generate(self, seqs: list[list[int]]) -> list[list[int]]:
        width = max(map(len, seqs))
        pad = self.tok.pad_token_id
        device = next(self.model.parameters()).device
        ids = torch.tensor([[pad] * (width - len(s)) + s for s in seqs], device=device)
        mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in seqs], device=device)
        with torch.no_grad():
            out = self.model.generate(input_ids=ids, attention_mask=mask, generation_config=self.gen)
        result = []
        for row in out[:, width:].tolist():
            cut = row.index(self.tok.eos_token_id) + 1 if self.tok.eos_token_id in row else len(row)
            result.append(row[:cut])
        return result


def per_turn(fn, name: str, aggregate: str, **fixed):
    """``fn`` (a ``rewards`` function) scored on each turn's answer with that turn's shown order, then averaged
    over the turns (``aggregate="mean"``) or taken at the last turn (``"last"``)."""

    def reward(prompts, completions, turn_outputs, turn_orders, turn_candidates_meta, **kwargs):
        out = []
        for i, outputs in enumerate(turn_outputs):
            turns = range(len(outputs)) if aggregate == "mean" else [len(outputs) - 1]
            scores = [fn(None, [outputs[t]], order=[turn_orders[i][t]], candidates_meta=[turn_candidates_meta[i][t]],
                         targets=[kwargs["targets"][i]], target_attributes=[kwargs["target_attributes"][i]],
                         **fixed)[0] for t in turns]
            out.append(sum(scores) / len(scores))
        return out

    reward.__name__ = name  # TRL logs rewards/<__name__>/mean
    return reward


def make_rollout(samples: dict[str, dict], catalog, retriever, simulator, settings: EpisodeSettings, cfg,
                 log_path: Path | None = None):
    """The ``rollout_func``: the dataset prompt (turn-1 chat, JSON) names the sample; runs the episodes batched."""

    def rollout(prompts, trainer) -> dict:
        batch = [samples[json.dumps(p, sort_keys=True)] for p in prompts]
        policy = TokenPolicy(trainer.model, trainer.processing_class, trainer.generation_config, cfg.max_new_tokens,
                             cfg.max_prompt_tokens)
        was_training = trainer.model.training
        trainer.model.eval()
        try:
            episodes = run_episodes(batch, catalog, retriever, policy, simulator, settings)
        finally:
            trainer.model.train(was_training)
        rollout.stats["truncated_prompts"] += policy.truncated_prompts
        for ep in episodes:
            for t in ep.turns:
                rollout.stats["parse"][t.status] = rollout.stats["parse"].get(t.status, 0) + 1
        meta = [[[_attrs(catalog.by_id[i]) for i in t.order] for t in ep.turns] for ep in episodes]
        if log_path is not None:
            with open(log_path, "a", encoding="utf-8") as fh:
                for ep in episodes:
                    fh.write(json.dumps({"step": trainer.state.global_step, **ep.to_dict()}) + "\n")
        return {"prompt_ids": policy.prompt_ids, "completion_ids": policy.completion_ids, "logprobs": None,
                "env_mask": policy.env_mask, "turn_outputs": [[t.output for t in ep.turns] for ep in episodes],
                "turn_orders": [[t.order for t in ep.turns] for ep in episodes], "turn_candidates_meta": meta,
                "order": [ep.turns[-1].order for ep in episodes], "candidates_meta": [m[-1] for m in meta]}

    rollout.stats = {"truncated_prompts": 0, "parse": {}}  # over this run's rollouts (turns by parse status)
    return rollout


def _attrs(item: dict) -> dict:
    return {f: list(item.get(f) or []) for f in rewards.ATTRIBUTE_FIELDS}


def training_samples(bundle, cfg: RecommenderGRPOConfig, seed: int) -> list[dict]:
    """A seeded draw of ``max_samples`` train samples that keep a catalogue target (``fresh``: not yet mentioned)."""
    rows = []
    for s in bundle.samples("train"):
        said = set(s.get("context_items", []))
        targets = [t for t in s["targets"] if t in bundle.catalog and (cfg.targets == "all" or t not in said)]
        if targets:
            rows.append({**s, "targets": targets})
    rows = random.Random(seed).sample(rows, min(cfg.max_samples, len(rows)))
    if not rows:
        raise BenchmarkError(f"{bundle.dir}: no train samples with a {cfg.targets} catalogue target")
    return rows


def build_dataset(samples, catalog, retriever, settings: EpisodeSettings):
    """(TRL dataset, prompt-JSON -> sample): the prompt column is each sample's turn-1 chat."""
    from datasets import Dataset

    rows, lookup = [], {}
    for s, (chat, _) in zip(samples, first_prompts(samples, catalog, retriever, settings), strict=True):
        lookup[json.dumps(chat, sort_keys=True)] = s
        attrs = rewards.attributes_of([catalog.by_id[t] for t in s["targets"]])
        rows.append({"prompt": chat, "sample_id": s["sample_id"], "targets": s["targets"], "target_attributes": attrs})
    if len(lookup) != len(rows):
        raise BenchmarkError("two training samples share a turn-1 prompt; the rollout could not tell them apart")
    return Dataset.from_list(rows), lookup


def train_grpo(bundle, model, tokenizer, retriever, simulator, out, cfg: RecommenderGRPOConfig, seed: int = 0,
               progress: bool = True, callbacks=None, peft_config=None, show_rank: bool = False) -> dict:
    """GRPO on ``bundle``'s train samples; ``model`` may already carry a trainable (SFT) adapter; ``show_rank``:
    prompt as that adapter was trained (``prompt.adapter_prompt_options``)."""
    from trl import GRPOConfig, GRPOTrainer

    seed_everything(seed)
    started = time.time()
    out = Path(out)
    settings = EpisodeSettings(turns=cfg.turns, candidates=cfg.candidates, seed=seed, show_rank=show_rank)
    dataset, lookup = build_dataset(training_samples(bundle, cfg, seed), bundle.catalog, retriever, settings)
    ckpt_dir = out / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    args = GRPOConfig(
        output_dir=str(ckpt_dir), num_generations=cfg.num_generations, per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, max_completion_length=cfg.turns * cfg.max_new_tokens,
        temperature=cfg.temperature, top_p=cfg.top_p, beta=cfg.beta, learning_rate=cfg.learning_rate,
        max_steps=cfg.max_steps, warmup_steps=cfg.warmup_steps, logging_steps=cfg.logging_steps,
        save_steps=cfg.save_steps, save_total_limit=1, seed=seed, data_seed=seed, bf16=cfg.bf16, fp16=False,
        gradient_checkpointing=cfg.gradient_checkpointing, report_to="none", disable_tqdm=not progress,
        use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0, log_completions=False,
        reward_weights=[float(cfg.reward_weights.get(r, 0.0)) for r in REWARD_NAMES],
    )
    funcs = [per_turn(rewards.format_reward, "format", cfg.turn_reward),
             per_turn(rewards.recommend_reward, "recommend", cfg.turn_reward),
             per_turn(rewards.preference_reward, "preference", cfg.turn_reward, top=cfg.preference_top)]
    rollout = make_rollout(lookup, bundle.catalog, retriever, simulator, settings, cfg, out / "rollouts.jsonl")
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is experimental in TRL 1.16 (known)
    trainer = GRPOTrainer(model=model, reward_funcs=funcs, args=args, train_dataset=dataset,
                          processing_class=tokenizer, rollout_func=rollout, callbacks=callbacks,
                          peft_config=peft_config)
    start_step = _step_of(ckpt_dir)  # 0 on a fresh run; the checkpoint's step when this run resumes
    _trim_rollouts(out / "rollouts.jsonl", start_step)
    train_started = time.time()
    result, resume = train_resumable(trainer, ckpt_dir)
    train_seconds = time.time() - train_started
    save_adapter(trainer.model, tokenizer, out / "adapter")
    steps = [h for h in trainer.state.log_history if "step" in h and any(k.startswith("rewards/") for k in h)]
    meta = {
        "steps": result.global_step, "resumed": resume, "seed": seed, "samples": len(dataset),
        "seconds_per_step": train_seconds / max(1, result.global_step - start_step),
        "wall_seconds": time.time() - started, "train_seconds": train_seconds,
        **rollout.stats,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "reward_log": [{k: v for k, v in h.items() if k == "step" or k.startswith(("reward", "completions/"))}
                       for h in steps],
        "recipe": cfg.to_dict(), "prompt": {"show_rank": show_rank}, "adapter": str((out / "adapter").resolve()),
        "provenance": provenance(inputs={}, seed=seed),
    }
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    write_json(out / "meta.json", meta)
    return meta


def _step_of(ckpt_dir: Path) -> int:
    return max((int(p.name.split("-")[1]) for p in ckpt_dir.glob("checkpoint-*")), default=0)


def _trim_rollouts(path: Path, start_step: int) -> None:
    """Keep the episode log of the steps before ``start_step`` only: a fresh run starts it empty, a resumed run
    drops the rollouts of steps it repeats (those after its checkpoint), so every logged step appears once."""
    if not path.exists():
        return
    keep = [line for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
            if line.strip() and json.loads(line)["step"] < start_step]
    write_text(path, "".join(keep))


def _need(path: Path, what: str, rule: str) -> Path:
    if not path.exists():
        raise BenchmarkError(f"{what} not found at {path}: make it with the Snakemake rule {rule}")
    return path


def main(a) -> dict:
    """The CLI stage: load recipe, retriever, simulator and policy, then ``train_grpo``."""
    from benchmark.data.bundle import DatasetBundle
    from benchmark.models.base import model_path
    from benchmark.retrieval.retriever import DualViewRetriever
    from benchmark.usersim.simulator import UserSimulator
    from benchmark.usersim.train import load_base

    cfg = RecommenderGRPOConfig.from_yaml(a.recipe, max_steps=a.max_steps, turns=a.turns)
    rule = "train_retriever (results/models/retriever/<variant>/<dataset>/seed<N>)"
    retriever_dir = _need(Path(a.retriever) / "fusion.pt", "the candidate retriever", rule).parent
    adapter = None
    if cfg.turns > 1:
        if a.simulator in (None, "none"):
            raise BenchmarkError(f"turns = {cfg.turns} needs --simulator (an adapter directory or 'base')")
        if a.simulator != "base":
            rule = "train_usersim (results/models/usersim/<variant>/<dataset>/seed<N>/adapter)"
            adapter = str(_need(Path(a.simulator) / "adapter_config.json", "the simulator adapter", rule).parent)
    sft = _need(Path(a.sft) / "adapter_config.json", "the recommender SFT adapter", "train_recommender_sft").parent \
        if a.sft else None
    spec = cfg.model or a.llm
    base = model_path(spec) if str(spec).endswith("meta.json") else str(spec)
    retriever = DualViewRetriever(retriever_dir)
    simulator = None
    if cfg.turns > 1:
        simulator = UserSimulator.load(str(a.sim_llm or spec), adapter=adapter, cache=None, cache_mode="off",
                                       max_new_tokens=cfg.simulator_max_new_tokens, seed=a.seed,
                                       dtype="bfloat16" if cfg.bf16 or torch.cuda.is_available() else "float32")
    model, tokenizer = load_base(base)
    peft_config = None
    if sft:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(sft), is_trainable=True)
    else:
        from peft import LoraConfig

        peft_config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                 target_modules=cfg.lora_targets, task_type="CAUSAL_LM")
    return train_grpo(DatasetBundle(a.train), model, tokenizer, retriever, simulator, a.out, cfg, seed=a.seed,
                      progress=not a.quiet, peft_config=peft_config,
                      show_rank=prompt.adapter_prompt_options(sft)["show_rank"])
