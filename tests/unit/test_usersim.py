"""User simulator: templates, SFT records, leakage guard (and that no path bypasses it), cache, tiny SFT, eval."""

import json

import pytest
import torch

from benchmark.errors import BenchmarkError
from benchmark.systems.base import DatasetBundle
from benchmark.usersim import guard, templates
from benchmark.usersim.data import build_records
from benchmark.usersim.guard import LeakageError
from benchmark.usersim.simulator import GenerationCache, Request, UserSimulator

IT = {"item_id": "i1", "title": "It", "name": "It (2017)", "has_title": True, "genres": ["horror"],
      "director": ["Andy Muschietti"], "cast": ["Bill Skarsgard"]}
HEAT = {"item_id": "h1", "title": "Heat", "name": "Heat (1995)", "has_title": True, "genres": ["crime"],
        "director": ["Michael Mann"], "cast": []}
HISTORY = [{"role": "seeker", "text": "I want something scary", "items": []},
           {"role": "recommender", "text": "Did you like Heat (1995)?", "items": ["h1"]}]


def test_feedback_prompt_by_hand():
    msgs = templates.feedback_prompt(HISTORY, [IT])
    assert msgs[0] == {"role": "system", "content": templates.SYSTEM["feedback"]}
    assert msgs[1]["content"] == (
        "Conversation so far:\nUser: I want something scary\nSystem: Did you like Heat (1995)?\n\n"
        "The recommender now suggests:\n- It (2017) - horror; directed by Andy Muschietti\n\nWrite your reply.")


def test_attribute_and_target_prompts_by_hand():
    assert templates.attributes_prompt(HISTORY[:1])[1]["content"] == (
        "Conversation so far:\nUser: I want something scary\n\nDescribe the movie.")
    assert templates.target_prompt([], ["It (2017)"])[1]["content"] == (
        "Conversation so far:\n(the conversation has not started)\n\nCandidates:\n- It (2017)\n\nWhich movie?")
    assert templates.format_attributes(templates.attribute_values(HEAT)) == \
        "genres: crime | director: Michael Mann | cast: none"


@pytest.mark.parametrize("text", ["", "no idea", "genres horror", "|||", "cast", "title: Heat | year: 1995"])
def test_malformed_attribute_output_is_a_counted_failure_not_a_crash(text):
    assert templates.parse_attributes(text) is None


def test_attribute_parsing_tolerates_order_and_case():
    assert templates.parse_attributes("Cast: A, B | GENRES: Drama") == {"genres": {"drama"}, "director": set(),
                                                                        "cast": {"a", "b"}}


def test_guard():
    guard.check(HISTORY, "User: I want something scary\nSystem: Did you like Heat (1995)?", [IT])  # not named
    with pytest.raises(LeakageError, match="Heat"):
        guard.check(HISTORY, "System: Did you like Heat (1995)?", [HEAT])  # recommender said it, not the seeker
    seeker_said = HISTORY + [{"role": "seeker", "text": "Heat is great", "items": []}]
    guard.check(seeker_said, "System: Did you like Heat (1995)? User: Heat is great", [HEAT])
    with pytest.raises(LeakageError):  # the short title "It" is matched through its display name
        guard.check([], "maybe It (2017)?", [IT])
    guard.check([], "it is a scary one", [IT])  # "it" as a word is not a mention of It (2017)


def test_guard_reads_the_real_turns_by_their_annotations_not_their_text():
    # cases found on INSPIRED test turns: an ordinary word and a longer title that contain a held-out title
    here = {"item_id": "Here (2011)", "name": "Here (2011)", "title": "Here", "has_title": True}
    fallen = {"item_id": "Fallen (1998)", "name": "Fallen (1998)", "title": "Fallen", "has_title": True}
    turns = [{"role": "recommender", "text": "Hello! I am here to help.", "items": []},
             {"role": "recommender", "text": "Have you seen Angel Has Fallen?", "items": ["Angel Has Fallen (2019)"]}]
    prompt = templates.attributes_prompt(turns)[1]["content"]
    guard.check(turns, prompt, [here, fallen])
    with pytest.raises(LeakageError, match="Fallen"):  # the same title added by code around the turns is a leak
        guard.check(turns, prompt + "\nCandidates:\n- Fallen (1998)", [here, fallen])
    with pytest.raises(LeakageError, match="Here"):  # ... and so is an annotated mention in the turns
        guard.check(turns[:1] + [{"role": "recommender", "text": "x", "items": ["Here (2011)"]}], prompt, [here])


@pytest.fixture(scope="module")
def sim(tiny_llm, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache") / "cache.jsonl"
    return UserSimulator.load(str(tiny_llm), cache=str(cache), max_new_tokens=4, batch_size=2)


def test_every_generation_path_calls_the_guard(sim, monkeypatch):
    calls = []
    real = guard.check
    monkeypatch.setattr(guard, "check", lambda *a: (calls.append(a), real(*a))[1])
    reqs = [Request(HISTORY, [IT], [IT]), Request(HISTORY[:1], [], [IT])]
    for method in (sim.feedback, sim.attributes, sim.target):
        calls.clear()
        assert len(method(reqs)) == 2 and len(calls) == 2
    calls.clear()
    sim.reply_nll(reqs, ["sure", "no"])
    assert len(calls) == 2
    leaky = [Request(HISTORY, [], [HEAT])]
    for method in (sim.feedback, sim.attributes, sim.target):
        with pytest.raises(LeakageError):
            method(leaky)
    with pytest.raises(LeakageError):
        sim.reply_nll(leaky, ["x"])


def test_cache_hits_misses_and_replay(sim, tmp_path):
    reqs = [Request(HISTORY, [IT], [])]
    before = (sim.cache.hits, sim.cache.misses)
    first = sim.feedback(reqs)
    second = sim.feedback(reqs)
    assert first == second
    assert sim.cache.misses - before[1] <= 1 and sim.cache.hits - before[0] >= 1
    stored = [json.loads(line) for line in sim.cache.path.read_text().splitlines()]
    assert any(row["text"] == first[0] for row in stored)
    replay = UserSimulator(sim.model, sim.tokenizer, sim.model_id, GenerationCache(sim.cache.path, "replay"),
                           max_new_tokens=4)
    assert replay.feedback(reqs) == first  # replayed from disk, no generation
    fresh = UserSimulator(sim.model, sim.tokenizer, sim.model_id, GenerationCache(tmp_path / "empty.jsonl", "replay"),
                          max_new_tokens=4)
    with pytest.raises(BenchmarkError, match="replay mode"):
        fresh.feedback(reqs)
    other_seed = UserSimulator(sim.model, sim.tokenizer, sim.model_id, GenerationCache(sim.cache.path, "replay"),
                               max_new_tokens=4, seed=1)
    with pytest.raises(BenchmarkError):  # the seed is part of the key
        other_seed.feedback(reqs)


def test_sft_records_from_fixture(fixture_results):
    bundle = DatasetBundle(fixture_results / "processed/redial")
    records = build_records(bundle, "test")
    by_task = {(r["sample_id"], r["task"]): r for r in records}
    # 9001#1 is followed by a seeker turn; 9001#3 and 9002#2 end their dialogues
    assert by_task[("9001#1", "feedback")]["completion"][0]["content"] == "Not yet, thanks"
    assert ("9001#3", "feedback") not in by_task
    assert by_task[("9001#1", "target")]["completion"][0]["content"] == "Movie? C (2003)"
    assert by_task[("9001#1", "attributes")]["completion"][0]["content"] == \
        "genres: horror | director: none | cast: none"
    assert ("9002#2", "attributes") not in by_task  # Movie E has no metadata
    assert "Movie? C" not in by_task[("9001#1", "target")]["prompt"][1]["content"]


def test_tiny_sft_smoke_changes_the_lora_weights(tiny_llm, fixture_results, tmp_path):
    from benchmark.usersim.config import SimulatorSFTConfig
    from benchmark.usersim.data import main as build
    from benchmark.usersim.train import train_usersim

    build(fixture_results / "processed/redial", tmp_path / "data")
    cfg = SimulatorSFTConfig(max_steps=3, batch_size=2, save_steps=2, logging_steps=1, max_length=256,
                             learning_rate=1e-2)
    meta = train_usersim(tmp_path / "data", str(tiny_llm), tmp_path / "out", cfg, seed=0, progress=False)
    assert meta["steps"] == 3 and set(meta["records"]) <= {"feedback", "attributes", "target"}
    from safetensors.torch import load_file

    weights = load_file(tmp_path / "out/adapter/adapter_model.safetensors")
    lora_b = [v for k, v in weights.items() if "lora_B" in k]
    assert lora_b and any(v.abs().sum() > 0 for v in lora_b)  # PEFT initialises lora_B to zero
    assert not (tmp_path / "out/checkpoints").exists()


def test_task_mix_respects_weights():
    from benchmark.usersim.train import mix

    records = [{"task": t, "i": i} for t in ("feedback", "attributes", "target") for i in range(10)]
    only_feedback = mix(records, {"feedback": 1.0}, 100, seed=0)
    assert {r["task"] for r in only_feedback} == {"feedback"} and len(only_feedback) == 10
    half = mix(records, {"feedback": 1.0, "attributes": 0.5, "target": 0.0}, 100, seed=0)
    assert sorted(r["task"] for r in half).count("attributes") == 5
    assert mix(records, {"feedback": 1, "attributes": 1, "target": 1}, 7, seed=0) == \
        mix(records, {"feedback": 1, "attributes": 1, "target": 1}, 7, seed=0)


def test_quality_eval_runs_end_to_end_on_fixtures(sim, fixture_results):
    from benchmark.usersim.evaluate import evaluate_simulator, select_samples

    bundle = DatasetBundle(fixture_results / "processed/redial")
    samples = select_samples(bundle, "test", 10, seed=0)
    assert [s["sample_id"] for s in samples] == ["9001#1", "9001#3", "9002#2"]
    m = evaluate_simulator(sim, bundle, samples)
    assert m["samples"] == 3 and m["feedback_samples"] == 1
    assert 0 <= m["target_hit@1"] <= m["target_hit@10"] <= 1 and 0 <= m["leakage_rate"] <= 1
    assert m["feedback_perplexity"] > 1 and torch.isfinite(torch.tensor(m["feedback_perplexity"]))
