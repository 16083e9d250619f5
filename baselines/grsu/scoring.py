"""How likely the simulated user is to accept each candidate: two scorers over a ``UserSimulator``'s model.

* ``TargetScorer`` (default, ``score: target``): log p(item name + end of text | the simulator's target-prediction
  prompt for the dialogue), i.e. the multi-task simulator's own answer to "which movie will this person be
  recommended?", read as a distribution over the candidates. One prompt per sample; the K continuations are
  scored in right-padded batches (no generation).
* ``AcceptScorer`` (``score: accept``): -NLL of an acceptance reply (``ACCEPT``) under the simulator's feedback
  prompt with the candidate as the only offered item (``UserSimulator.reply_nll``, one forward per candidate).

Both return, per sample, one float per candidate (higher = more likely accepted). ``rank`` combines them with the
retriever's scores.

>>> rank(["a", "b", "c"], [3.0, 2.0, 1.0], [-9.0, -1.0, -5.0], retriever_weight=0.0)
['b', 'c', 'a']
>>> rank(["a", "b", "c"], [3.0, 2.0, 1.0], [-9.0, -1.0, -5.0], retriever_weight=1.0)
['a', 'b', 'c']
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from benchmark.usersim import templates
from benchmark.usersim.simulator import Request

ACCEPT = "Yes, {title} sounds great, I would like to watch it."  # the reply whose likelihood `accept` reads


def _z(values: Sequence[float]) -> list[float]:
    """Standardised within one candidate list (scales of log-probs and retriever scores differ)."""
    t = torch.tensor(values, dtype=torch.float64)
    sd = t.std(unbiased=False)
    return ((t - t.mean()) / sd if sd > 0 else t - t.mean()).tolist()


def rank(ids: Sequence[str], retriever_scores: Sequence[float], sim_scores: Sequence[float],
         retriever_weight: float = 0.0) -> list[str]:
    """Candidates by (1 - w) * z(simulator score) + w * z(retriever score), best first; ties keep retriever order."""
    if not 0.0 <= retriever_weight <= 1.0:
        raise ValueError(f"retriever_weight must be in [0, 1], got {retriever_weight}")
    zs, zr = _z(sim_scores), _z(retriever_scores)
    score = [(1 - retriever_weight) * s + retriever_weight * r for s, r in zip(zs, zr, strict=True)]
    return [ids[j] for j in sorted(range(len(ids)), key=lambda j: -score[j])]  # sorted is stable


def continuation_logprobs(model, tokenizer, prompts: Sequence[str], continuations: Sequence[str],
                          batch_size: int = 32, length_norm: bool = False) -> list[float]:
    """Summed (or per-token mean) log-probability of each continuation after its prompt; right padding."""
    out = []
    def encode(text):
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    for start in range(0, len(prompts), batch_size):
        chunk = zip(prompts[start:start + batch_size], continuations[start:start + batch_size], strict=True)
        pairs = [(encode(p), encode(c)) for p, c in chunk]
        width = max(len(p) + len(c) for p, c in pairs)
        ids = torch.full((len(pairs), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        target = torch.zeros_like(ids, dtype=torch.bool)  # positions whose token is a continuation token
        for i, (p, c) in enumerate(pairs):
            ids[i, :len(p) + len(c)] = torch.tensor(p + c)
            mask[i, :len(p) + len(c)] = 1
            target[i, len(p):len(p) + len(c)] = True
        device = next(model.parameters()).device
        with torch.no_grad():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
        logp = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:].to(device).unsqueeze(-1)).squeeze(-1)
        picked = logp * target[:, 1:].to(device)
        sums = picked.sum(1)
        if length_norm:
            sums = sums / target[:, 1:].sum(1).clamp(min=1).to(device)
        out.extend(sums.tolist())
    return out


class TargetScorer:
    """log p(candidate name | target-prediction prompt) under the simulator's model."""

    def __init__(self, simulator, batch_size: int = 32, length_norm: bool = False):
        self.sim, self.batch_size, self.length_norm = simulator, batch_size, length_norm

    def __call__(self, contexts: Sequence[Sequence[dict]], candidates: Sequence[Sequence[dict]]) -> list[list[float]]:
        tok = self.sim.tokenizer
        prompts, conts = [], []
        for ctx, items in zip(contexts, candidates, strict=True):
            messages = templates.target_prompt(list(ctx), max_turns=self.sim.max_turns)
            text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            for it in items:
                prompts.append(text)
                conts.append((it.get("name") or it.get("title") or it["item_id"]) + tok.eos_token)
        flat = continuation_logprobs(self.sim.model, tok, prompts, conts, self.batch_size, self.length_norm)
        out, at = [], 0
        for items in candidates:
            out.append(flat[at:at + len(items)])
            at += len(items)
        return out


class AcceptScorer:
    """-NLL of ``ACCEPT`` for each candidate offered alone (``UserSimulator.reply_nll``)."""

    def __init__(self, simulator, length_norm: bool = False):
        self.sim, self.length_norm = simulator, length_norm

    def __call__(self, contexts: Sequence[Sequence[dict]], candidates: Sequence[Sequence[dict]]) -> list[list[float]]:
        out = []
        for ctx, items in zip(contexts, candidates, strict=True):
            requests = [Request(list(ctx), [it]) for it in items]
            replies = [ACCEPT.format(title=it.get("title") or it.get("name") or "it") for it in items]
            nll = self.sim.reply_nll(requests, replies)
            out.append([-(n / t if self.length_norm else n) for n, t in nll])
        return out
