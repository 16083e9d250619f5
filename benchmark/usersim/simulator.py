"""Runtime user simulator: batched generation with a seed, a record/replay cache, and the leakage guard.

    sim = UserSimulator.load(llm_meta="results/models/base/llm/meta.json",
                             adapter="results/models/usersim/multitask/redial/seed0/adapter",
                             cache="results/usersim/cache/multitask-redial.jsonl")
    replies = sim.feedback([Request(history=turns, offered=[item, ...], held_out=[target_item])])

Every generation goes through ``_generate``, which applies ``guard.check`` to every prompt (a held-out target
may appear only if the seeker had already said it) and looks the prompt up in the cache first. The cache key is
sha256 of (model id, prompt, sampling parameters, seed); ``mode="replay"`` raises on a miss, so a replayed run
provably makes no new model calls. Decoding is greedy unless ``temperature > 0``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from benchmark.errors import BenchmarkError
from benchmark.usersim import guard, templates


@dataclass
class Request:
    history: list[dict]  # turns: {"role", "text", "items"}
    offered: list[dict] = field(default_factory=list)  # catalogue items the recommender just offered
    held_out: list[dict] = field(default_factory=list)  # targets the prompt must not reveal (guard only)


class GenerationCache:
    """JSON-lines store of ``{"key", "text"}``; appended as entries are made, loaded whole at start."""

    def __init__(self, path: str | os.PathLike | None, mode: str = "record"):
        if mode not in ("record", "replay", "off"):
            raise BenchmarkError(f"cache mode must be record, replay or off, got {mode!r}")
        self.path, self.mode = (Path(path) if path else None), mode
        self.entries: dict[str, str] = {}
        self.hits = self.misses = 0
        if self.path and self.path.exists():
            with open(self.path, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        row = json.loads(line)
                        self.entries[row["key"]] = row["text"]

    def get(self, key: str) -> str | None:
        text = self.entries.get(key) if self.mode != "off" else None
        if text is None:
            self.misses += 1
            if self.mode == "replay":
                raise BenchmarkError(f"replay mode: no cached generation for key {key[:12]}... in {self.path}")
        else:
            self.hits += 1
        return text

    def put(self, key: str, text: str) -> None:
        if self.mode == "off":
            return
        self.entries[key] = text
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"key": key, "text": text}, ensure_ascii=False) + "\n")


class UserSimulator:
    def __init__(self, model, tokenizer, model_id: str, cache: GenerationCache | None = None, seed: int = 0,
                 max_new_tokens: int = 48, temperature: float = 0.0, batch_size: int = 16,
                 max_turns: int = templates.MAX_TURNS):
        self.model, self.tokenizer, self.model_id = model.eval(), tokenizer, model_id
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.cache = cache or GenerationCache(None, "off")
        self.seed, self.max_new_tokens, self.temperature = seed, max_new_tokens, temperature
        self.batch_size, self.max_turns = batch_size, max_turns

    @classmethod
    def load(cls, llm_meta: str, adapter: str | None = None, cache: str | None = None, cache_mode: str = "record",
             dtype: str = "bfloat16", **kwargs) -> UserSimulator:
        """``dtype``: bfloat16 by default (5x faster generation than float32 on CPUs with AMX, the reference
        machine's kind; the adapter is merged in float32 first)."""
        from benchmark.models.base import model_path
        from benchmark.usersim.train import load_base

        base = model_path(llm_meta) if str(llm_meta).endswith("meta.json") else str(llm_meta)
        model, tokenizer = load_base(base)
        if adapter:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
        model = model.to(getattr(torch, dtype))
        model_id = f"{base}+{adapter or 'none'}+{dtype}"
        return cls(model, tokenizer, model_id, GenerationCache(cache, cache_mode), **kwargs)

    # --- the three tasks -------------------------------------------------------------------------------------
    def feedback(self, requests: Sequence[Request]) -> list[str]:
        prompts = [templates.feedback_prompt(r.history, r.offered, self.max_turns) for r in requests]
        return self._generate(prompts, requests, self.max_new_tokens)

    def attributes(self, requests: Sequence[Request]) -> list[str]:
        prompts = [templates.attributes_prompt(r.history, self.max_turns) for r in requests]
        return self._generate(prompts, requests, 40)

    def target(self, requests: Sequence[Request]) -> list[str]:
        prompts = [templates.target_prompt(r.history, max_turns=self.max_turns) for r in requests]
        return self._generate(prompts, requests, 20)

    # --- shared path: guard, cache, batched generation ---------------------------------------------------------
    def _key(self, text: str, max_new_tokens: int) -> str:
        params = {"max_new_tokens": max_new_tokens, "temperature": self.temperature, "seed": self.seed}
        blob = json.dumps([self.model_id, text, params], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _render(self, messages: list[dict]) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def _generate(self, prompts: list[list[dict]], requests: Sequence[Request], max_new_tokens: int) -> list[str]:
        texts = []
        for messages, req in zip(prompts, requests, strict=True):
            guarded = messages[-1]["content"].split("The recommender now suggests:")[0]
            guard.check(req.history, guarded, req.held_out)
            texts.append(self._render(messages))
        keys = [self._key(t, max_new_tokens) for t in texts]
        out: list[str | None] = [self.cache.get(k) for k in keys]
        todo = [i for i, o in enumerate(out) if o is None]
        for start in range(0, len(todo), self.batch_size):
            idx = todo[start:start + self.batch_size]
            for i, text in zip(idx, self._run([texts[i] for i in idx], max_new_tokens), strict=True):
                out[i] = text
                self.cache.put(keys[i], text)
        return [o or "" for o in out]

    def _run(self, texts: list[str], max_new_tokens: int) -> list[str]:
        torch.manual_seed(self.seed)
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        sampling = {"do_sample": True, "temperature": self.temperature, "top_p": 0.9} if self.temperature > 0 \
            else {"do_sample": False}
        with torch.no_grad():
            gen = self.model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=self.tokenizer.pad_token_id,
                                      **sampling)
        return [self.tokenizer.decode(g[enc["input_ids"].shape[1]:], skip_special_tokens=True).strip() for g in gen]

    def reply_nll(self, requests: Sequence[Request], replies: Sequence[str]) -> list[tuple[float, int]]:
        """(summed negative log-likelihood, tokens) of each real ``reply`` under the feedback prompt."""
        out = []
        for r, reply in zip(requests, replies, strict=True):
            guard.check(r.history, templates.feedback_prompt(r.history, [], self.max_turns)[-1]["content"], r.held_out)
            prompt = self._render(templates.feedback_prompt(r.history, r.offered, self.max_turns))
            p_ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
            r_ids = self.tokenizer(reply + self.tokenizer.eos_token, add_special_tokens=False)["input_ids"]
            ids = torch.tensor([p_ids + r_ids])
            with torch.no_grad():
                logits = self.model(ids).logits[0, len(p_ids) - 1:-1]
            nll = torch.nn.functional.cross_entropy(logits.float(), torch.tensor(r_ids), reduction="sum").item()
            out.append((nll, len(r_ids)))
        return out
