"""Multi-turn GRPO: recipe validation, the env_mask, a tiny run that changes the weights, resume after a crash."""

import json

import pytest
import torch

from benchmark.data.bundle import DatasetBundle
from benchmark.errors import BenchmarkError
from benchmark.recommender import rewards
from benchmark.recommender.episode import EpisodeSettings, run_episodes
from benchmark.recommender.grpo import TokenPolicy, per_turn, train_grpo
from benchmark.recommender.grpo_config import RecommenderGRPOConfig
from tests.conftest import ROOT
from tests.unit.test_episode import CATALOG, SAMPLES, FakeRetriever, FakeSimulator

TINY = dict(turns=2, candidates=10, max_new_tokens=6, max_samples=4, num_generations=2, batch_size=2,
            max_steps=2, save_steps=1, learning_rate=5e-2, lora_r=4, lora_alpha=8)


def _tiny(tiny_llm):
    from benchmark.models.base import model_path
    from benchmark.usersim.train import load_base

    return load_base(model_path(str(tiny_llm)))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"bogus": 1}, "unknown recommender GRPO recipe keys \\['bogus'\\]"),
    ({"num_generations": 1}, "G\\) = 1 is impossible"),
    ({"candidates": 9}, "K\\) = 9 is impossible"),
    ({"batch_size": 3}, "not a multiple of num_generations"),
    ({"reward_weights": {"fun": 1.0}}, "unknown rewards"),
])
def test_recipe_rejects_bad_values_at_load(overrides, message):
    with pytest.raises(BenchmarkError, match=message):
        RecommenderGRPOConfig.from_yaml(None, **overrides)


def test_shipped_recipes_load():
    for profile in ("cpu", "gpu"):
        cfg = RecommenderGRPOConfig.from_yaml(ROOT / f"workflow/recipes/recommender/grpo/{profile}.yaml")
        assert cfg.num_generations >= 2 and cfg.candidates >= 10


def test_env_mask_zeroes_exactly_the_simulator_and_template_tokens(tiny_llm):
    from transformers import GenerationConfig

    model, tok = _tiny(tiny_llm)
    torch.manual_seed(0)
    others = [i for i in tok.all_special_ids if i != tok.eos_token_id]  # keep the decoded text = the token text
    gen = GenerationConfig(do_sample=True, temperature=1.0, pad_token_id=tok.pad_token_id,
                           eos_token_id=tok.eos_token_id, suppress_tokens=others)
    policy = TokenPolicy(model.eval(), tok, gen, max_new_tokens=5, max_prompt_tokens=2000)
    eps = run_episodes(SAMPLES, CATALOG, FakeRetriever(), policy, FakeSimulator(), EpisodeSettings(turns=3))
    for i, ep in enumerate(eps):
        ids, mask = policy.completion_ids[i], policy.env_mask[i]
        assert len(ids) == len(mask) and 0 in mask and mask[0] == 1
        model_text = tok.decode([t for t, m in zip(ids, mask, strict=True) if m], skip_special_tokens=True)
        env_text = tok.decode([t for t, m in zip(ids, mask, strict=True) if not m])
        assert model_text == "".join(t.output for t in ep.turns)  # every sampled token is scored ...
        for t in ep.turns[:-1]:  # ... and every reply and new candidate list is masked out
            assert t.reply in env_text and t.reply not in model_text
        assert env_text.count("New candidates:") == 2 and "New candidates:" not in model_text
        # the sequence the last turn was generated from is exactly its chat as the evaluation renders it
        last = len(ids) - next(n for n in range(len(mask)) if mask[len(mask) - 1 - n] == 0)
        rendered = tok.apply_chat_template(ep.chat[:-1], tokenize=False, add_generation_prompt=True)
        assert tok.decode(policy.prompt_ids[i] + ids[:last]) == rendered


def test_per_turn_reward_averages_over_turns():
    fn = per_turn(rewards.recommend_reward, "recommend", "mean")
    out = fn(None, ["ignored"], turn_outputs=[["<answer>1</answer>", "<answer>2</answer>"]],
             turn_orders=[[["a", "b"], ["a", "b"]]], turn_candidates_meta=[[[{}, {}], [{}, {}]]],
             targets=[["a"]], target_attributes=[{}], k=1)
    assert fn.__name__ == "recommend" and out == [pytest.approx(0.5)]
    last = per_turn(rewards.recommend_reward, "recommend", "last", k=1)
    assert last(None, ["x"], turn_outputs=[["<answer>1</answer>", "<answer>2</answer>"]],
                turn_orders=[[["a", "b"], ["a", "b"]]], turn_candidates_meta=[[[{}, {}], [{}, {}]]],
                targets=[["a"]], target_attributes=[{}]) == [0.0]


def _length_reward(prompts, completions, order, **kwargs):
    """A random tiny model never writes a valid answer, so every real reward is 0 and GRPO's advantage is 0; the
    answer length varies between samples, which gives the group a non-zero advantage to learn from."""
    return [len(c) / 50 for c in completions]


def _train(tiny_llm, fixture_results, out, monkeypatch, callbacks=None, show_rank=False, **overrides):
    from peft import LoraConfig

    monkeypatch.setattr(rewards, "format_reward", _length_reward)
    model, tok = _tiny(tiny_llm)
    cfg = RecommenderGRPOConfig(**{**TINY, **overrides})
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, target_modules=cfg.lora_targets, task_type="CAUSAL_LM")
    bundle = DatasetBundle(fixture_results / "processed/redial")
    return train_grpo(bundle, model, tok, FakeRetriever(), FakeSimulator(), out, cfg, seed=0, progress=False,
                      callbacks=callbacks, peft_config=lora, show_rank=show_rank)


def test_tiny_grpo_run_changes_the_lora_weights_and_logs_rewards(tiny_llm, fixture_results, tmp_path, monkeypatch):
    from safetensors.torch import load_file

    meta = _train(tiny_llm, fixture_results, tmp_path / "out", monkeypatch, max_steps=1, show_rank=True)
    assert meta["steps"] == 1 and not meta["resumed"]
    assert meta["prompt"] == {"show_rank": True}  # an adapter trained on ranked prompts is prompted so later
    weights = load_file(tmp_path / "out/adapter/adapter_model.safetensors")
    lora_b = [w for k, w in weights.items() if "lora_B" in k]
    assert lora_b and any(w.abs().sum() > 0 for w in lora_b)  # LoRA B starts at 0: only training moves it
    assert [set(h) >= {"rewards/format/mean", "rewards/recommend/mean", "rewards/preference/mean"}
            for h in meta["reward_log"]] == [True]
    rows = [json.loads(x) for x in (tmp_path / "out/rollouts.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(len(r["turns"]) == 2 for r in rows)  # 1 step x batch 2, T = 2
    assert all("[search rank 1]" in t["prompt"][-1]["content"] for r in rows for t in r["turns"])
    assert sum(meta["parse"].values()) == 2 * 2


def test_grpo_resumes_after_an_interruption(tiny_llm, fixture_results, tmp_path, monkeypatch):
    from transformers import TrainerCallback

    class Crash(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            raise KeyboardInterrupt("simulated interruption after the first checkpoint")

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        _train(tiny_llm, fixture_results, out, monkeypatch, callbacks=[Crash()], turns=1)
    assert (out / "checkpoints/checkpoint-1").is_dir() and not (out / "meta.json").exists()
    meta = _train(tiny_llm, fixture_results, out, monkeypatch, turns=1)
    assert meta["resumed"] and meta["steps"] == 2 and not (out / "checkpoints").exists()
    assert len((out / "rollouts.jsonl").read_text().splitlines()) == 2 + 2  # one step before, one after the crash


def test_missing_retriever_or_simulator_names_the_rule_that_makes_it(tmp_path, capsys):
    from benchmark.cli import main

    recipe = ROOT / "workflow/recipes/recommender/grpo/cpu.yaml"
    args = ["train-recommender-grpo", "--train", str(tmp_path), "--llm", str(tmp_path / "meta.json"),
            "--recipe", str(recipe), "--out", str(tmp_path / "out")]
    assert main(args + ["--retriever", str(tmp_path / "nope"), "--simulator", "base"]) == 2
    assert "Snakemake rule train_retriever" in capsys.readouterr().err
    (tmp_path / "fusion.pt").write_bytes(b"")  # existence is checked before anything is loaded
    assert main(args + ["--retriever", str(tmp_path), "--simulator", str(tmp_path / "sim")]) == 2
    assert "Snakemake rule train_usersim" in capsys.readouterr().err
    assert main(args + ["--retriever", str(tmp_path)]) == 2
    assert "needs --simulator" in capsys.readouterr().err


def test_rollout_log_keeps_only_the_steps_before_the_resume_point(tmp_path):
    from benchmark.recommender.grpo import _trim_rollouts

    log = tmp_path / "rollouts.jsonl"
    log.write_text("".join(json.dumps({"step": s, "sample_id": f"x#{s}"}) + "\n" for s in (0, 0, 1, 2, 2)))
    _trim_rollouts(log, 2)  # resuming from checkpoint-2: steps 2.. are rolled out again
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [0, 0, 1]
    _trim_rollouts(log, 0)  # a fresh run
    assert log.read_text() == ""
    _trim_rollouts(tmp_path / "absent.jsonl", 0)
    assert not (tmp_path / "absent.jsonl").exists()
