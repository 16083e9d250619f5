"""Greedy batched chat generation, shared by every LLM system (the SMTPO recommender, the LLM baselines).

    texts = greedy_chat(model, tokenizer, [[{"role": "user", "content": "Hi"}]], batch_size=16, max_new_tokens=64)

Left padding (set on the tokenizer here) so every row's generation starts right after its prompt; the chat template
adds the generation prompt; decoding stops at ``max_new_tokens`` or EOS and special tokens are dropped. Greedy, so
the output does not depend on a seed; it can still differ across devices and dtypes (floating-point ties).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def greedy_chat(model, tokenizer, conversations: Sequence[list[dict]], batch_size: int,
                max_new_tokens: int) -> list[str]:
    tokenizer.padding_side = "left"
    out = []
    for start in range(0, len(conversations), batch_size):
        texts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True)
                 for m in conversations[start:start + batch_size]]
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
        width = enc["input_ids"].shape[1]
        out.extend(tokenizer.decode(g[width:], skip_special_tokens=True) for g in gen)
    return out
