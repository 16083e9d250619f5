"""Reasoning recommender: prompt shuffling, parser and rewards on hand cases, SFT data, recipes, systems, tiny SFT."""

import json

import pytest

from benchmark.data.bundle import DatasetBundle
from benchmark.errors import BenchmarkError
from benchmark.recommender import prompt
from benchmark.recommender.config import RecommenderSFTConfig
from benchmark.recommender.depth import at_depth
from benchmark.recommender.parse import parse_answer, to_ranking
from benchmark.recommender.rewards import format_reward, preference_reward, recommend_reward

ITEMS = [{"item_id": f"i{n}", "name": f"Film {n} (20{n:02d})", "genres": ["drama" if n % 2 else "crime"],
          "director": [f"Dir {n}"]} for n in range(1, 21)]
HISTORY = [{"role": "seeker", "text": "I love crime films", "items": []},
           {"role": "recommender", "text": "Seen Heat?", "items": []}]
ANSWER10 = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10"


# --- prompt --------------------------------------------------------------------------------------------------
def test_prompt_order_is_a_seeded_shuffle_and_matches_the_numbers_shown():
    messages, order = prompt.build_prompt(HISTORY, ["Too violent."], ITEMS, seed=7)
    assert sorted(order) == sorted(it["item_id"] for it in ITEMS)
    assert order == prompt.build_prompt(HISTORY, ["Too violent."], ITEMS, seed=7)[1]
    assert order != prompt.build_prompt(HISTORY, [], ITEMS, seed=8)[1]
    assert order != [it["item_id"] for it in ITEMS]  # not the retriever order
    user = messages[1]["content"]
    by_id = {it["item_id"]: it for it in ITEMS}
    for n, item_id in enumerate(order, start=1):
        assert f"\n{n}. {by_id[item_id]['name']} - {by_id[item_id]['genres'][0]}; {by_id[item_id]['director'][0]}" \
            in user
    assert "User: I love crime films\nSystem: Seen Heat?" in user and "- Too violent." in user
    assert "<answer>" in messages[0]["content"] and "<think>" in messages[0]["content"]


def test_prompt_truncation_by_turns_characters_and_feedback():
    turns = [{"role": "seeker", "text": f"turn {n} " + "x" * 50, "items": []} for n in range(10)]
    user = prompt.build_prompt(turns, [f"reply {n}" for n in range(5)], ITEMS[:10], 0, max_turns=3, max_chars=80,
                               max_feedback=2)[0][1]["content"]
    dialogue = user.split("\n\n")[0]
    assert "turn 6" not in dialogue and "turn 9" in dialogue and len(dialogue) <= len("Conversation so far:\n...") + 80
    assert "reply 4" in user and "reply 3" in user and "reply 2" not in user


def test_show_rank_labels_each_shown_number_with_its_retriever_rank(tmp_path):
    plain, order = prompt.build_prompt(HISTORY, [], ITEMS, seed=7)
    ranked, same = prompt.build_prompt(HISTORY, [], ITEMS, seed=7, show_rank=True)
    assert same == order  # the shown numbering does not change, only the label is added
    lines = {int(x.split(".")[0]): x for x in ranked[1]["content"].splitlines() if x[:1].isdigit()}
    for n, item_id in enumerate(order, start=1):
        rank = int(item_id[1:])  # ITEMS[r - 1] is "i<r>": the retriever's rank r
        assert lines[n] == f"{n}. Film {rank} (20{rank:02d}) - {ITEMS[rank - 1]['genres'][0]}; Dir {rank} " \
                           f"[search rank {rank}]"
    assert "[search rank" not in plain[1]["content"]
    # a system prompts as its adapter was trained: meta.json beside the adapter, key "prompt"
    (tmp_path / "adapter").mkdir()
    assert prompt.adapter_prompt_options(tmp_path / "adapter") == {"show_rank": False}  # no meta: the default
    (tmp_path / "meta.json").write_text(json.dumps({"recipe": {}, "prompt": {"show_rank": True}}))
    assert prompt.adapter_prompt_options(tmp_path / "adapter") == {"show_rank": True}


def test_duplicate_candidates_are_an_error():
    with pytest.raises(ValueError, match="duplicate"):
        prompt.build_prompt([], [], ITEMS[:2] + ITEMS[:1], 0)


# --- parser --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, numbers, status", [
    (f"<think>crime</think><answer>{ANSWER10}</answer>", list(range(1, 11)), "ok"),
    ("<answer>\n 1 2\t3;4 ,5, 6 7 8 9 10 </answer>", list(range(1, 11)), "ok"),  # any separators
    ("<ANSWER>#3. #1</Answer>", [3, 1], "partial"),  # case, '#3.', too few
    (f"<answer>{ANSWER10}, 11, 12</answer>", list(range(1, 11)), "partial"),  # too many: the first 10 kept
    ("<answer>5, 5, 21, 0, 2", [5, 2], "partial"),  # duplicate, out of range, unclosed
    ("<answer>x</answer> <answer>4, 2</answer>", [4, 2], "partial"),  # the last answer counts
    ("<answer>none of them</answer>", [], "malformed"),
    ("<answer>30, 40</answer>", [], "malformed"),
    ("I would pick 3 and 5.", [], "no_answer"),
    ("", [], "no_answer"),
])
def test_parser_hand_cases(text, numbers, status):
    result = parse_answer(text, 20)
    assert (result.numbers, result.status) == (numbers, status)


def test_parser_flags_and_think():
    r = parse_answer("<think>a</think><answer>5, 5, 21, 2", 20, k=10)
    assert r.flags == ["duplicate", "out_of_range", "too_few", "unclosed"] and r.has_think
    assert not parse_answer("<think>unclosed <answer>1</answer>", 20).has_think
    assert parse_answer("<answer>1, 2, 3</answer>", 3).status == "ok"  # fewer candidates than 10: all of them


def test_to_ranking_puts_the_answer_first_and_falls_back_to_retriever_order():
    order, retriever = ["c", "a", "b", "d"], ["a", "b", "c", "d", "e"]
    assert to_ranking(parse_answer("<answer>4, 1</answer>", 4), order, retriever) == ["d", "c", "a", "b", "e"]
    bad = parse_answer("no answer", 4)
    assert bad.fallback and to_ranking(bad, order, retriever) == retriever
    assert to_ranking(parse_answer("<answer>4, 1</answer>", 4), order, retriever, k=1) == ["d", "a", "b", "c", "e"]


# --- rewards -------------------------------------------------------------------------------------------------
ORDER = [it["item_id"] for it in ITEMS]


def test_format_reward_hand_cases():
    completions = [f"<think>x</think><answer>{ANSWER10}</answer>",  # perfect
                   f"<answer>{ANSWER10}</answer>",  # no think: 0.2 + 0.6
                   "<think>x</think><answer>1, 2, 3, 4, 5",  # unclosed, 5 of 10: 0.2 + 0.3
                   "<think>x</think><answer>1, 1, 2, 3, 4, 5, 6, 7, 8, 9</answer>",  # duplicate: 0.4 + 0.54 - 0.1
                   "<think>x</think><answer>none</answer>",  # malformed: 0.4
                   [{"role": "assistant", "content": "no tags"}]]  # chat completion without an answer
    got = format_reward(None, completions, order=[ORDER] * 6)
    assert got == pytest.approx([1.0, 0.8, 0.5, 0.84, 0.4, 0.0])


def test_recommend_reward_is_ndcg_of_the_targets_in_the_parsed_answer():
    # ORDER[4] is number 5; at rank 1 -> 1.0; at rank 3 -> 1/log2(4) = 0.5; absent / unparseable / unreachable -> 0
    completions = ["<answer>5, 1</answer>", "<answer>1, 2, 5</answer>", "<answer>1, 2</answer>", "nothing",
                   "<answer>5</answer>"]
    targets = [["i5"], ["i5"], ["i5"], ["i5"], ["i5", "zz"]]  # "zz" is not a candidate: not counted
    got = recommend_reward(None, completions, order=[ORDER] * 5, targets=targets)
    assert got == pytest.approx([1.0, 0.5, 0.0, 0.0, 1.0])
    two = recommend_reward(None, ["<answer>5, 6</answer>"], order=[ORDER], targets=[["i5", "i6"]])
    assert two == pytest.approx([(1.0 + 1 / 1.584962500721156) / 2])


def test_preference_reward_is_mean_jaccard_over_the_top3():
    order = [["a", "b", "c", "d"]]
    meta = [[{"genres": ["Crime"], "director": ["M"]}, {"genres": ["drama"]}, {"genres": ["crime", "drama"]}, {}]]
    want = [{"genres": ["crime"], "director": ["M"], "cast": []}]
    # top-3 = a (jaccard 2/2), c ({crime, drama} vs {crime, M}: 1/3), b (0) -> (1 + 1/3 + 0) / 3
    got = preference_reward(None, ["<answer>1, 3, 2</answer>"], order=order, candidates_meta=meta,
                            target_attributes=want)
    assert got == pytest.approx([(1 + 1 / 3) / 3])
    assert preference_reward(None, ["<answer>1</answer>"], order=order, candidates_meta=meta,
                             target_attributes=want) == pytest.approx([1 / 3])  # empty slots count 0
    assert preference_reward(None, ["<answer>1</answer>"], order=order, candidates_meta=meta,
                             target_attributes=[{}]) == [0.0]
    with pytest.raises(ValueError, match="candidates_meta"):
        preference_reward(None, ["<answer>1</answer>"], order=order, candidates_meta=[[{}]], target_attributes=want)


# --- recipes -------------------------------------------------------------------------------------------------
def test_recipes_load_and_bad_recipes_fail_with_the_key_named(tmp_path):
    for profile in ("cpu", "gpu"):
        cfg = RecommenderSFTConfig.from_yaml(f"workflow/recipes/recommender/sft/{profile}.yaml")
        assert cfg.candidates >= 10 and not cfg.show_rank
    rank = RecommenderSFTConfig.from_yaml("workflow/recipes/recommender/sft/cpu-rank.yaml")  # the rank-hint remedy
    cpu = RecommenderSFTConfig.from_yaml("workflow/recipes/recommender/sft/cpu.yaml")
    assert rank.show_rank and rank.to_dict() | {"show_rank": False} == cpu.to_dict()  # only show_rank differs
    bad = tmp_path / "bad.yaml"
    bad.write_text("candidates: 20\nlearning_rat: 0.1\n")
    with pytest.raises(BenchmarkError, match="learning_rat"):
        RecommenderSFTConfig.from_yaml(bad)
    bad.write_text("candidates: 8\n")
    with pytest.raises(BenchmarkError, match="K must be >= 10"):
        RecommenderSFTConfig.from_yaml(bad)
    bad.write_text("targets: some\n")
    with pytest.raises(BenchmarkError, match="targets"):
        RecommenderSFTConfig.from_yaml(bad)


# --- SFT data ------------------------------------------------------------------------------------------------
def _without_targets(samples):  # a fake retriever that never finds the target: every record needs injection
    return [[i for i in ("101", "102", "103", "104", "105", "106") if i not in s["targets"]] for s in samples]


def test_sft_data_injects_missed_targets_in_training_only(fixture_results, tmp_path):
    from benchmark.recommender.sft_data import main

    stats = main(fixture_results / "processed/redial", tmp_path, RecommenderSFTConfig(), seed=0,
                 candidate_fn=_without_targets)
    assert stats["train"]["injected"] == stats["train"]["records"] == 2
    assert stats["valid"]["records"] == 0 and stats["valid"]["missed"] == 1  # no injection outside training
    rows = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    for r in rows:
        assert len(r["order"]) == 5 and r["targets"][0] in r["order"]  # the target replaced the last candidate
        text = r["completion"][0]["content"]
        result = parse_answer(text, len(r["order"]))
        assert result.status == "ok" and result.has_think
        assert r["order"][result.numbers[0] - 1] == r["targets"][0]  # ground truth first
        rest = [r["order"][n - 1] for n in result.numbers[1:]]
        assert rest == [i for i in r["retriever_order"] if i not in r["targets"]]  # then retriever order
        assert "Wants:" in text and "User:" in text


def test_sft_data_with_show_rank_makes_the_answer_tail_readable_from_the_prompt(fixture_results, tmp_path):
    from benchmark.recommender.sft_data import main

    main(fixture_results / "processed/redial", tmp_path, RecommenderSFTConfig(show_rank=True), seed=0,
         candidate_fn=_without_targets)
    for line in (tmp_path / "train.jsonl").read_text().splitlines():
        r = json.loads(line)
        numbers = parse_answer(r["completion"][0]["content"], len(r["order"])).numbers
        lines = {int(x.split(".")[0]): x for x in r["prompt"][1]["content"].splitlines() if x[:1].isdigit()}
        ranks = [int(lines[n].rsplit("[search rank ", 1)[1].rstrip("]")) for n in numbers]
        # the tail after the target lists the shown search ranks in increasing order: copyable from the prompt
        assert ranks[1:] == sorted(ranks[1:]) and len(set(ranks)) == len(ranks) == 5


# --- systems -------------------------------------------------------------------------------------------------
class FakeRetriever:
    def candidates(self, contexts, feedbacks, k, catalog):
        return [list(reversed(catalog.ids))[:k] for _ in contexts]


def test_candidates_oracle(fixture_results):
    from benchmark.recommender.system import CandidatesOracleSystem

    bundle = DatasetBundle(fixture_results / "processed/redial")
    system = CandidatesOracleSystem(FakeRetriever(), candidates=10)
    samples = bundle.samples("test")
    ranked = system.recommend(samples, bundle.catalog, k=50)
    assert ranked[0][:2] == ["103", "101"] and ranked[2][0] == "105"
    assert sorted(ranked[0]) == sorted(bundle.catalog.ids)
    with pytest.raises(BenchmarkError, match="train_retriever"):
        CandidatesOracleSystem("/nonexistent/retriever")
    with pytest.raises(BenchmarkError, match=">= 10"):
        CandidatesOracleSystem(FakeRetriever(), candidates=5)


def test_llm_zero_shot_predictions_carry_raw_text_and_parse_status(tiny_llm, fixture_results, tmp_path, monkeypatch):
    from benchmark.recommender import system as module
    from benchmark.systems.predict import predict

    monkeypatch.setattr(module, "load_retriever", lambda r: FakeRetriever())
    processed = fixture_results / "processed/redial"
    out = tmp_path / "pred.jsonl"
    params = {"llm": str(tiny_llm), "retriever": "fake", "max_new_tokens": 8, "batch_size": 2}
    assert predict("llm-zero-shot", processed, processed, "test", out, params=params, progress=False) == 3
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    catalog_reversed = list(reversed(DatasetBundle(processed).catalog.ids))
    for row in rows:
        assert isinstance(row["raw_text"], str) and row["parser_version"] == 1
        assert row["parse_status"] in ("ok", "partial", "malformed", "no_answer")
        assert sorted(row["candidate_order"]) == sorted(catalog_reversed)
        assert row["candidate_ids"] == catalog_reversed[:20]  # retriever order, for answer-depth re-ranking
        assert at_depth(row, 10, 50) == row["ranked_items"]  # depth 10: the system's own ranking
        if row["parse_status"] in ("malformed", "no_answer"):  # a random tiny model: expected to fail to parse
            assert row["ranked_items"] == catalog_reversed


# --- tiny SFT ------------------------------------------------------------------------------------------------
def test_tiny_sft_changes_the_lora_weights_and_resumes(tiny_llm, fixture_results, tmp_path, monkeypatch):
    from safetensors.torch import load_file

    from benchmark.recommender import train_sft
    from benchmark.recommender.sft_data import main as build

    build(fixture_results / "processed/redial", tmp_path / "data", RecommenderSFTConfig(),
          candidate_fn=_without_targets)
    cfg = RecommenderSFTConfig(max_steps=2, batch_size=2, save_steps=1, logging_steps=1, max_length=512,
                               learning_rate=1e-2, lora_r=4, lora_alpha=8)
    real_rmtree = train_sft.shutil.rmtree
    monkeypatch.setattr(train_sft.shutil, "rmtree",  # an "interrupted" run: its checkpoints stay on disk
                        lambda p, **kw: None if str(p).endswith("checkpoints") else real_rmtree(p, **kw))
    first = train_sft.train_recommender_sft(tmp_path / "data", tmp_path / "out", cfg, llm=str(tiny_llm), progress=False)
    assert first["steps"] == 2 and not first["resumed"]
    weights = load_file(tmp_path / "out/adapter/adapter_model.safetensors")
    lora_b = [v for k, v in weights.items() if "lora_B" in k]
    assert lora_b and any(v.abs().sum() > 0 for v in lora_b)  # PEFT initialises lora_B to zero
    monkeypatch.setattr(train_sft.shutil, "rmtree", real_rmtree)
    cfg.max_steps = 3
    again = train_sft.train_recommender_sft(tmp_path / "data", tmp_path / "out", cfg, llm=str(tiny_llm),
                                            progress=False)
    assert again["resumed"] and again["resumed_from_step"] == 2 and again["steps"] == 3
    assert again["loss_log"][:2] == first["loss_log"]  # the first two steps' history came from the checkpoint
    assert not (tmp_path / "out/checkpoints").exists()
    with pytest.raises(BenchmarkError, match="--llm"):
        train_sft.resolve_model(None)
