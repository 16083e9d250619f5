"""Runtime user simulator: batched generation with a seed, a bounded record/replay cache, and the leakage guard.

    sim = UserSimulator.load(llm_meta="results/models/base/llm/meta.json",
                             adapter="results/models/usersim/multitask/redial/seed0/adapter",
                             cache="results/usersim/cache/multitask-redial.jsonl")
    replies = sim.feedback([Request(history=turns, offered=[item, ...], held_out=[target_item], sample_id="20001#3")])

Every generation goes through ``_generate``, which runs ``guard.scan`` on every prompt (the real turns are exempt
by span, the offered-items block is exempt) and ``feedback`` scans every reply. A firing never raises: it is
appended to ``sim.guard_events`` (sample, item, where, matched text), logged, and the matched text is replaced by
``guard.WITHHELD`` before the model sees the prompt / before the reply is returned.

Runtime properties needed inside RL training: sampling draws from a forked RNG seeded per batch
(``torch.random.fork_rng``), so the caller's global torch RNG stream is left exactly as it was; inputs go to the
model's device; the cache is off, in memory, or on disk, and bounded (``max_entries``, least recently used first
out). The cache key is sha256 of (model id, prompt, sampling parameters, seed); ``mode="replay"`` raises on a
miss, so a replayed run provably makes no new model calls. Decoding is greedy unless ``temperature > 0``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from benchmark.errors import BenchmarkError
from benchmark.usersim import guard, scored, templates


@dataclass
class Request:
    history: list[dict]  # turns: {"role", "text", "items"}
    offered: list[dict] = field(default_factory=list)  # catalogue items the recommender just offered
    held_out: list[dict] = field(default_factory=list)  # targets the prompt must not reveal (guard only)
    sample_id: str = ""  # named in the guard's log


class GenerationCache:
    """JSON-lines store of ``{"key", "text"}``; appended as entries are made, loaded at start.

    ``max_entries`` bounds the entries held in memory (least recently used dropped first; the file keeps all);
    ``None`` = unbounded (evaluation), a few thousand during RL training, or ``mode="off"``."""

    def __init__(self, path: str | os.PathLike | None, mode: str = "record", max_entries: int | None = None):
        if mode not in ("record", "replay", "off"):
            raise BenchmarkError(f"cache mode must be record, replay or off, got {mode!r}")
        if max_entries is not None and max_entries < 1:
            raise BenchmarkError(f"cache max_entries must be >= 1 or None, got {max_entries}")
        self.path, self.mode, self.max_entries = (Path(path) if path else None), mode, max_entries
        self.entries: OrderedDict[str, str] = OrderedDict()
        self.hits = self.misses = 0
        if self.path and self.path.exists():
            with open(self.path, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        row = json.loads(line)
                        self._store(row["key"], row["text"])

    def _store(self, key: str, text: str) -> None:
        self.entries[key] = text
        self.entries.move_to_end(key)
        while self.max_entries is not None and len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)

    def get(self, key: str) -> str | None:
        text = self.entries.get(key) if self.mode != "off" else None
        if text is None:
            self.misses += 1
            if self.mode == "replay":
                raise BenchmarkError(f"replay mode: no cached generation for key {key[:12]}... in {self.path}")
        else:
            self.hits += 1
            self.entries.move_to_end(key)
        return text

    def put(self, key: str, text: str) -> None:
        if self.mode == "off":
            return
        self._store(key, text)
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"key": key, "text": text}, ensure_ascii=False) + "\n")


# Attribute decoding: 0 = greedy; n > 0 = n sampled answers (temperature 1), keep the values at least
# ``share`` of the parsed answers give (templates.vote_attributes). Measured in docs/usersim.md.
ATTRIBUTE_VOTES = 0
ATTRIBUTE_VOTE_SHARE = 0.5
VOTE_SEP = "\n\x1e"  # joins the sampled attribute answers of one prompt in the cache


class UserSimulator:
    def __init__(self, model, tokenizer, model_id: str, cache: GenerationCache | None = None, seed: int = 0,
                 max_new_tokens: int = 48, temperature: float = 0.0, batch_size: int = 16,
                 max_turns: int = templates.MAX_TURNS, attribute_max_new_tokens: int = 40,
                 attribute_votes: int = ATTRIBUTE_VOTES, attribute_vote_share: float = ATTRIBUTE_VOTE_SHARE,
                 attribute_scoring: dict | None = None):
        self.model, self.tokenizer, self.model_id = model.eval(), tokenizer, model_id
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.cache = cache or GenerationCache(None, "off")
        self.seed, self.max_new_tokens, self.temperature = seed, max_new_tokens, temperature
        self.batch_size, self.max_turns = batch_size, max_turns
        self.attribute_max_new_tokens = attribute_max_new_tokens
        self.attribute_votes, self.attribute_vote_share = attribute_votes, attribute_vote_share
        # scored decoding (scored.py): {"genres", "log_prior", "mean", "lam", "k", "names", "pin"} from tune_decoding
        self.attribute_scoring = attribute_scoring
        self.guard_events: list[dict] = []  # every guard firing: {"sample_id", "item_id", "where", "matched", ...}

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @classmethod
    def load(cls, llm_meta: str, adapter: str | None = None, cache: str | None = None, cache_mode: str = "record",
             dtype: str = "bfloat16", device: str | None = None, cache_max_entries: int | None = None,
             **kwargs) -> UserSimulator:
        """``dtype``: bfloat16 by default (5x faster generation than float32 on CPUs with AMX, the reference
        machine's kind; the adapter is merged in float32 first). ``device``: default cuda when available."""
        from benchmark.models.base import model_path
        from benchmark.usersim.train import load_base

        base = model_path(llm_meta) if str(llm_meta).endswith("meta.json") else str(llm_meta)
        model, tokenizer = load_base(base)
        if adapter:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        model = model.to(device=device, dtype=getattr(torch, dtype))
        model_id = f"{base}+{adapter or 'none'}+{dtype}"
        return cls(model, tokenizer, model_id, GenerationCache(cache, cache_mode, cache_max_entries), **kwargs)

    # --- the three tasks -------------------------------------------------------------------------------------
    def feedback(self, requests: Sequence[Request]) -> list[str]:
        """Replies to the offered items; a reply naming a held-out target that was not offered (naming an offered
        one just repeats the recommender) is counted, logged and withheld."""
        prompts = [templates.feedback_prompt(r.history, r.offered, self.max_turns) for r in requests]
        return guard.guard_replies(requests, self._generate(prompts, requests, self.max_new_tokens), self.guard_events)

    def attributes(self, requests: Sequence[Request]) -> list[str]:
        prompts = [templates.attributes_prompt(r.history, self.max_turns) for r in requests]
        if self.attribute_scoring:
            sc = self.attribute_scoring
            pin = sc.get("pin", False)  # decoding files written before `pin` existed did not pin
            greedy = self._generate(prompts, requests, self.attribute_max_new_tokens) \
                if sc["names"] == "greedy" or pin else [""] * len(requests)
            ell = self.genre_loglik(requests, sc["genres"])
            ranked = [scored.rank_genres(sc["log_prior"], sc["mean"], e, sc["genres"], sc["lam"]) for e in ell]
            return [scored.answer(scored.pin_genres(r, g) if pin else r, sc["k"], g, sc["names"])
                    for r, g in zip(ranked, greedy, strict=True)]
        if not self.attribute_votes:
            return self._generate(prompts, requests, self.attribute_max_new_tokens)
        joined = self._generate(prompts, requests, self.attribute_max_new_tokens, votes=self.attribute_votes)
        return [templates.vote_attributes(j.split(VOTE_SEP), self.attribute_vote_share) for j in joined]

    def genre_loglik(self, requests: Sequence[Request], genres: Sequence[str]) -> list[list[float]]:
        """log P(answer ``genres: g`` + delimiter | the guarded attribute prompt) per request and genre."""
        texts = [self._render(self._guarded(templates.attributes_prompt(r.history, self.max_turns), r))
                 for r in requests]
        return scored.genre_loglik(self.model, self.tokenizer, texts, genres)

    def target(self, requests: Sequence[Request]) -> list[str]:
        prompts = [templates.target_prompt(r.history, max_turns=self.max_turns) for r in requests]
        return self._generate(prompts, requests, 20)

    # --- shared path: guard, cache, batched generation ---------------------------------------------------------
    def _key(self, text: str, max_new_tokens: int, votes: int = 0) -> str:
        params = {"max_new_tokens": max_new_tokens, "temperature": self.temperature, "seed": self.seed}
        if votes:
            params["votes"] = votes
        blob = json.dumps([self.model_id, text, params], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _render(self, messages: list[dict]) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def _guarded(self, messages: list[dict], req: Request) -> list[dict]:
        """The prompt with any held-out mention outside the real turns (and the offered block) withheld."""
        content = messages[-1]["content"]
        checked, marker, offered = content.partition(templates.OFFERED_MARKER)
        found = guard.scan(checked, req.held_out, req.history, req.history[-self.max_turns:])
        if not found:
            return messages
        guard.record(found, req.sample_id, self.guard_events)
        return messages[:-1] + [{**messages[-1], "content": guard.redact(checked, found) + marker
                                 + offered}]

    def _generate(self, prompts: list[list[dict]], requests: Sequence[Request], max_new_tokens: int,
                  votes: int = 0) -> list[str]:
        """One text per prompt; with ``votes`` the ``votes`` sampled texts joined by ``VOTE_SEP``."""
        texts = [self._render(self._guarded(m, r)) for m, r in zip(prompts, requests, strict=True)]
        keys = [self._key(t, max_new_tokens, votes) for t in texts]
        out: list[str | None] = [self.cache.get(k) for k in keys]
        todo = [i for i, o in enumerate(out) if o is None]
        for start in range(0, len(todo), self.batch_size):
            idx = todo[start:start + self.batch_size]
            batch_seed = int(hashlib.sha256("".join(keys[i] for i in idx).encode()).hexdigest()[:8], 16)
            gen = self._run([texts[i] for i in idx], max_new_tokens, batch_seed, votes)
            if votes:
                gen = [VOTE_SEP.join(gen[j * votes:(j + 1) * votes]) for j in range(len(idx))]
            for i, text in zip(idx, gen, strict=True):
                out[i] = text
                self.cache.put(keys[i], text)
        return [o or "" for o in out]

    def _run(self, texts: list[str], max_new_tokens: int, batch_seed: int = 0, votes: int = 0) -> list[str]:
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        sampling = {"do_sample": True, "temperature": self.temperature, "top_p": 0.9} if self.temperature > 0 \
            else {"do_sample": False}
        if votes:  # plain sampling of the model's distribution: the vote estimates each value's probability
            sampling = {"do_sample": True, "temperature": 1.0, "top_p": 1.0, "top_k": 0, "num_return_sequences": votes}
        devices = [self.device] if self.device.type == "cuda" else []
        # fork_rng: sampling is seeded by (simulator seed, batch content) and the caller's RNG state is restored
        with torch.no_grad(), torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed * 1_000_003 + batch_seed)
            gen = self.model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=self.tokenizer.pad_token_id,
                                      **sampling)
        return [self.tokenizer.decode(g[enc["input_ids"].shape[1]:], skip_special_tokens=True).strip() for g in gen]


    def reply_nll(self, requests: Sequence[Request], replies: Sequence[str]) -> list[tuple[float, int]]:
        """(summed negative log-likelihood, tokens) of each real ``reply`` under the (guarded) feedback prompt."""
        out = []
        for r, reply in zip(requests, replies, strict=True):
            prompt = self._render(self._guarded(templates.feedback_prompt(r.history, r.offered, self.max_turns), r))
            p_ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
            r_ids = self.tokenizer(reply + self.tokenizer.eos_token, add_special_tokens=False)["input_ids"]
            ids = torch.tensor([p_ids + r_ids], device=self.device)
            with torch.no_grad():
                logits = self.model(ids).logits[0, len(p_ids) - 1:-1]
            target = torch.tensor(r_ids, device=self.device)
            nll = torch.nn.functional.cross_entropy(logits.float(), target, reduction="sum").item()
            out.append((nll, len(r_ids)))
        return out
