"""Benchmark: seconds per LoRA SFT step of the base LLM on this CPU, bf16 autocast against fp32.

Why: the recommender SFT recipe sets ``bf16: true``; on a CPU without AMX that choice needs a measurement. One step =
forward + backward + AdamW on a batch of random token ids (the recommender's SFT sequences are ~700-1,280 tokens).
Modes alternate so that warm-up and machine noise hit both.

    .venv/bin/python scripts/bench_sft_step.py --llm results/models/base/llm/meta.json --batch 4 --tokens 1000

Measured on the 2-core reference machine (AVX-512 BF16, no AMX), idle, SmolLM2-135M, LoRA r 16 on q/k/v/o, batch 4 x
1,000 tokens, 2 steps each: bf16 14.4 / 14.9 s, fp32 26.9 / 22.6 s (docs/recommender.md, "Cost").
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--llm", required=True, help="prepared base LLM meta.json (rule prepare_llm) or a model directory")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--tokens", type=int, default=1000)
    p.add_argument("--steps", type=int, default=2, help="steps per mode")
    a = p.parse_args()

    import torch
    from peft import LoraConfig, get_peft_model

    from benchmark.models.base import model_path
    from benchmark.usersim.train import load_base

    torch.manual_seed(0)
    model, _ = load_base(model_path(a.llm) if a.llm.endswith("meta.json") else a.llm)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "k_proj", "v_proj",
                                                                                   "o_proj"]))
    opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=1e-4)
    ids = torch.randint(0, model.config.vocab_size, (a.batch, a.tokens))
    for mode in ("fp32", "bf16") * a.steps:
        start = time.time()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode == "bf16"):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        print(f"{mode}: {time.time() - start:.1f} s/step (batch {a.batch} x {a.tokens} tokens)", flush=True)


if __name__ == "__main__":
    main()
