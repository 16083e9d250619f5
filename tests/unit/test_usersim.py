"""User simulator: templates, SFT records, leakage guard (and that no path bypasses it), cache, tiny SFT, eval."""

import json

import pytest
import torch

from benchmark.data.bundle import DatasetBundle
from benchmark.errors import BenchmarkError
from benchmark.usersim import guard, templates
from benchmark.usersim.data import build_records
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


CONJURING = {"item_id": "185171", "title": "The Conjuring", "year": 2013, "name": "The Conjuring (2013)",
             "has_title": True}


def test_guard_matches_names_with_year_and_word_boundaries():
    assert guard.mentions("maybe It (2017)?", IT) and guard.mentions("it 2017 was great", IT)
    assert not guard.mentions("it is a scary one", IT)  # "it" as a word is not a mention of It (2017)
    assert not guard.mentions("It (2019)", IT)  # another year: another film
    assert not guard.mentions("this The Conjuring 2 (2016)", CONJURING)  # the sequel is not the original
    assert not guard.mentions("The Conjuring 2013x", CONJURING)
    assert guard.mentions("I loved the conjuring (2013)!", CONJURING)
    no_year = {"item_id": "j", "title": "Jurassic Park", "name": "Jurassic Park", "has_title": True}
    assert guard.mentions("Jurassic Park rocks", no_year) and not guard.mentions("Jurassic Parks", no_year)


def test_guard_case_23273_9_the_real_turns_are_exempt_by_span_not_by_string_replacement():
    # ReDial test sample 23273#9: blanking the turn "hi" everywhere turned "this The Conjuring 2 (2016)" into
    # "t s The Conjuring 2 (2016)", and the title-only match took the sequel for the target The Conjuring (2013)
    history = [{"role": "seeker", "text": "hello my friends", "items": []},
               {"role": "recommender", "text": "hi", "items": []},
               {"role": "seeker", "text": "What horror movie do you recommend?", "items": []},
               {"role": "recommender", "text": "this The Conjuring 2 (2016)", "items": ["152329"]}]
    for build in (templates.attributes_prompt, templates.target_prompt):
        text = build(history)[1]["content"]
        assert guard.scan(text, [CONJURING], history, history) == []
    # a turn's text is exempt only where that turn sits: the same words added by code are matched
    text = templates.attributes_prompt(history)[1]["content"] + "\nHint: The Conjuring (2013)"
    found = guard.scan(text, [CONJURING], history, history)
    assert [(f.where, f.matched) for f in found] == [("prompt", "The Conjuring (2013)")]
    assert guard.redact(text, found).endswith("Hint: " + guard.WITHHELD)
    spans = guard.turn_spans(text, history)
    assert [text[a:b] for a, b in spans] == [t["text"] for t in history]


def test_guard_real_leak_in_the_template_text_and_items_the_history_already_has():
    prompt = templates.target_prompt(HISTORY, ["Heat (1995)", "It (2017)"])[1]["content"]
    found = guard.scan(prompt, [IT, HEAT], HISTORY, HISTORY)
    assert [f.item_id for f in found] == ["i1"]  # Heat is in the real history (annotated): no secret
    assert [f.matched for f in found] == ["It (2017)"]
    seeker_said = [{"role": "seeker", "text": "It (2017) is great", "items": []}]
    assert guard.scan("Candidates: It (2017)", [IT], seeker_said, seeker_said) == []


@pytest.fixture(scope="module")
def sim(tiny_llm, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache") / "cache.jsonl"
    return UserSimulator.load(str(tiny_llm), cache=str(cache), max_new_tokens=4, batch_size=2)


def test_guard_firings_in_prompt_and_reply_are_counted_and_withheld_never_raised(sim, monkeypatch, caplog):
    sim = UserSimulator(sim.model, sim.tokenizer, sim.model_id, max_new_tokens=4)  # no cache: every call runs
    events_before = 0
    monkeypatch.setattr(templates, "target_prompt", lambda turns, candidates=(), max_turns=6: [
        {"role": "system", "content": "s"}, {"role": "user", "content": "Candidates:\n- It (2017)\n\nWhich movie?"}])
    seen = []
    monkeypatch.setattr(sim, "_run", lambda texts, *a: (seen.extend(texts), ["It (2017)!"] * len(texts))[1])
    with caplog.at_level("WARNING", logger="benchmark.usersim.guard"):
        out = sim.target([Request(HISTORY, [], [IT], "s#1")])
    assert out == ["It (2017)!"]  # the target task's answer is a guess, not a reply: not redacted
    assert "It (2017)" not in seen[0] and guard.WITHHELD in seen[0]  # the model never saw the name
    new = sim.guard_events[events_before:]
    assert [(e["sample_id"], e["item_id"], e["where"], e["matched"]) for e in new] == [
        ("s#1", "i1", "prompt", "It (2017)")]
    assert "s#1" in caplog.text and "It (2017)" in caplog.text
    # a generated reply naming a held-out target that was not offered: withheld; an offered one is kept
    monkeypatch.setattr(sim, "_run", lambda texts, *a: ["How about It (2017)?"] * len(texts))
    replies = sim.feedback([Request(HISTORY, [HEAT], [IT], "s#2"), Request(HISTORY, [IT], [IT], "s#3")])
    assert replies == [f"How about {guard.WITHHELD}?", "How about It (2017)?"]
    assert [(e["sample_id"], e["where"]) for e in sim.guard_events[events_before + 1:]] == [("s#2", "reply")]


def test_every_generation_path_calls_the_guard(sim, monkeypatch):
    calls = []
    real = guard.scan
    monkeypatch.setattr(guard, "scan", lambda *a, **k: (calls.append(k.get("where", "prompt")), real(*a, **k))[1])
    reqs = [Request(HISTORY, [IT], [IT]), Request(HISTORY[:1], [], [IT])]
    for method, expected in ((sim.feedback, 4), (sim.attributes, 2), (sim.target, 2)):
        calls.clear()
        assert len(method(reqs)) == 2 and len(calls) == expected
    calls.clear()
    sim.reply_nll(reqs, ["sure", "no"])
    assert calls == ["prompt", "prompt"]


def test_sampling_leaves_the_global_rng_alone_and_is_seeded(sim):
    hot = UserSimulator(sim.model, sim.tokenizer, sim.model_id, max_new_tokens=4, temperature=1.0, seed=3)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = hot.feedback([Request(HISTORY, [IT], [])])
    assert torch.equal(torch.rand(3), expected)  # the caller's RNG stream is where it was
    assert hot.feedback([Request(HISTORY, [IT], [])]) == first  # per-batch seeding: same input, same output
    assert hot.device == next(sim.model.parameters()).device


def test_cache_is_bounded_lru():
    cache = GenerationCache(None, "record", max_entries=2)
    cache.put("a", "1"), cache.put("b", "2")
    assert cache.get("a") == "1"  # a is now the most recently used
    cache.put("c", "3")
    assert list(cache.entries) == ["a", "c"] and cache.get("b") is None
    with pytest.raises(BenchmarkError, match="max_entries"):
        GenerationCache(None, "record", max_entries=0)


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


class FakeSimulator:
    """Fixed strings per sample; feedback passes the real reply guard (as every simulator's does)."""

    def __init__(self, target, attributes, faithful, counterfactual):
        self.answers = {"target": target, "attributes": attributes}
        self.replies, self.guard_events = [faithful, counterfactual], []

    def target(self, reqs):
        return [self.answers["target"][r.sample_id] for r in reqs]

    def attributes(self, reqs):
        return [self.answers["attributes"][r.sample_id] for r in reqs]

    def feedback(self, reqs):
        table = self.replies.pop(0)
        return guard.guard_replies(reqs, [table[r.sample_id] for r in reqs], self.guard_events)


def test_quality_arithmetic_with_a_fake_simulator_by_hand(fixture_results):
    from benchmark.usersim.evaluate import evaluate_simulator, select_samples

    bundle = DatasetBundle(fixture_results / "processed/redial")
    samples = select_samples(bundle, "test", 10, seed=0)
    # fresh targets: 9001#1 Movie? C (2003) {genres: horror}; 9001#3 Movie D (2004) {action, comedy | Dir D |
    # Star D}; 9002#2 Movie E (no metadata: no attribute score). Only 9001#1 is followed by a seeker turn.
    fake = FakeSimulator(
        target={"9001#1": "Movie? C (2003)", "9001#3": "Movie A (2001)", "9002#2": "Movie E"},
        attributes={"9001#1": "genres: horror, drama | director: none | cast: none",  # tp 1, pred 2, gold 1
                    "9001#3": "genres: Action | director: Dir D | cast: none",  # tp 2, pred 2, gold 4
                    "9002#2": "no idea"},  # no gold: not scored
        faithful={"9001#1": "not yet thanks"},  # real: "Not yet, thanks" -> unigram F1 1.0
        counterfactual={"9001#1": "ok", "9001#3": "I want Movie D (2004)", "9002#2": "Comedies please"})
    res = evaluate_simulator(fake, bundle, samples)
    m, rows = res["metrics"], {r["sample_id"]: r for r in res["rows"]}
    assert m["target_hit@1"] == pytest.approx(2 / 3)
    assert m["attribute_precision"] == pytest.approx(3 / 4) and m["attribute_recall"] == pytest.approx(3 / 5)
    assert m["attribute_f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert m["attribute_samples"] == 2 and m["attribute_parse_failures"] == 0
    assert m["feedback_token_f1"] == pytest.approx(1.0) and m["feedback_samples"] == 1
    assert m["leakage_rate"] == pytest.approx(1 / 3)  # 9001#3 named its held-out target; the guard withheld it
    assert rows["9001#3"]["counterfactual_reply"] == f"I want {guard.WITHHELD}" and rows["9001#3"]["leaked"] == 1
    assert m["feedback_perplexity"] is None  # no model, no perplexity
    for key, dialogues in (("target_hit@1", 2), ("attribute_f1", 1), ("leakage_rate", 2)):
        ci = res["intervals"][key]
        assert ci["low"] <= ci["estimate"] <= ci["high"] and ci["n_clusters"] == dialogues


def test_trivial_simulators_answer_from_train_and_context(fixture_results):
    from benchmark.usersim.trivial import TrivialSimulator

    bundle = DatasetBundle(fixture_results / "processed/redial")
    ctx = [{"role": "seeker", "text": "I loved Movie D (2004)", "items": ["104"]},
           {"role": "recommender", "text": "Movie E?", "items": ["105"]}]
    copy = TrivialSimulator("context", bundle)
    assert copy.target([Request(ctx)]) == ["Movie E"]  # the last titled item mentioned
    assert copy.attributes([Request(ctx)]) == ["genres: action, comedy | director: Dir D | cast: Star D"]
    assert copy.feedback([Request(ctx)]) == ["I loved Movie D (2004)"]
    popular = TrivialSimulator("popular", bundle)
    assert len(set(popular.attributes([Request([]), Request(ctx)]))) == 1  # constant
    assert popular.attributes([Request([])])[0].endswith("director: none | cast: none")
    with pytest.raises(ValueError, match="unknown trivial"):
        TrivialSimulator("oracle", bundle)


def test_quality_eval_runs_end_to_end_on_fixtures(sim, fixture_results):
    from benchmark.usersim.evaluate import evaluate_simulator, select_samples

    bundle = DatasetBundle(fixture_results / "processed/redial")
    samples = select_samples(bundle, "test", 10, seed=0)
    assert [s["sample_id"] for s in samples] == ["9001#1", "9001#3", "9002#2"]
    res = evaluate_simulator(sim, bundle, samples)
    m = res["metrics"]
    assert m["samples"] == 3 and m["feedback_samples"] == 1 and len(res["rows"]) == 3
    assert 0 <= m["target_hit@1"] <= m["target_hit@10"] <= 1 and 0 <= m["leakage_rate"] <= 1
    assert m["feedback_perplexity"] > 1 and torch.isfinite(torch.tensor(m["feedback_perplexity"]))


def test_attribute_target_keeps_only_names_the_dialogue_gives():
    from benchmark.usersim.data import grounded_attributes

    turns = [{"role": "seeker", "text": "anything with bill skarsgard?", "items": []}]
    assert grounded_attributes(IT, turns) == {"genres": ["horror"], "director": [], "cast": ["Bill Skarsgard"]}
    assert grounded_attributes(IT, HISTORY) == {"genres": ["horror"], "director": [], "cast": []}


def test_vote_decoding_of_attributes(sim, monkeypatch):
    voter = UserSimulator(sim.model, sim.tokenizer, sim.model_id, attribute_votes=3, attribute_vote_share=0.5)
    answers = ["genres: horror, drama | director: X | cast: none", "genres: horror | director: none | cast: A",
               "genres: horror, drama | director: none | cast: none"]
    calls = []
    monkeypatch.setattr(voter, "_run", lambda texts, n, seed=0, votes=0: (calls.append(votes), answers * len(texts))[1])
    assert voter.attributes([Request(HISTORY)]) == ["genres: horror, drama | director: none | cast: none"]
    assert calls == [3]


def test_vote_decoding_is_chosen_on_valid_by_hand(sim, fixture_results, monkeypatch, tmp_path):
    """tune_decoding scores greedy and every (votes, share) of the grid on the split and keeps the best micro F1."""
    from benchmark.io import write_json
    from benchmark.usersim import tune_decoding
    from benchmark.usersim.evaluate import select_samples

    bundle = DatasetBundle(fixture_results / "processed/redial")
    samples = [s for s in select_samples(bundle, "test", 10, seed=0) if s["sample_id"] == "9001#3"]
    # gold of 9001#3: genres action, comedy | director Dir D | cast Star D (4 pairs)
    greedy = "genres: action | director: none | cast: none"  # P 1, R 1/4, F1 0.4
    sampled = ["genres: action, comedy | director: none | cast: none"] * 3 + ["genres: drama"] * 5
    # a fresh simulator on the shared model: the module's `sim` carries a cache that earlier tests filled
    tuner = UserSimulator(sim.model, sim.tokenizer, sim.model_id)
    monkeypatch.setattr(tuner, "_run", lambda texts, n, seed=0, votes=0: sampled * len(texts) if votes
                        else [greedy] * len(texts))
    res = tune_decoding.tune(tuner, bundle, samples, votes=8, scoring_grid=False)
    assert res["attribute_samples"] == 1 and res["grid"][0]["f1"] == pytest.approx(0.4)
    # the first 4 samples: 3 x (action, comedy), 1 x drama -> share <= 0.25 keeps all three: P 2/3, R 1/2
    four = {g["share"]: g for g in res["grid"] if g["votes"] == 4}
    assert four[0.25]["precision"] == pytest.approx(2 / 3) and four[0.5]["precision"] == pytest.approx(1.0)
    assert res["best"]["votes"] == 4 and res["best"]["share"] == 0.5  # F1 2/3; the smallest vote count wins ties
    assert res["trivial_popular"]["answer"].endswith("director: none | cast: none")  # the bar on the same turns
    write_json(tmp_path / "d.json", res)
    assert tune_decoding.load_decoding(tmp_path / "d.json") == {"attribute_votes": 4, "attribute_vote_share": 0.5}


def test_scored_ranking_and_answer_by_hand():
    from benchmark.usersim import scored

    prior = scored.genre_prior([{"genres": ["Drama", "comedy"]}, {"genres": ["drama"]}, {"genres": ["horror"]}])
    assert prior == {"comedy": 0.25, "drama": 0.5, "horror": 0.25}
    # lam 0: the prior's order (ties by vocabulary order); lam 1: the calibrated likelihood moves horror up
    genres, log_prior = list(prior), [-1.386, -0.693, -1.386]
    assert scored.rank_genres(log_prior, [-2, -2, -5], [-2, -2, -2], genres, 0.0) == ["drama", "comedy", "horror"]
    assert scored.rank_genres(log_prior, [-2, -2, -5], [-2, -2, -2], genres, 1.0) == ["horror", "drama", "comedy"]
    greedy = "genres: drama | director: Dir D | cast: none"
    # the greedy answer's names, as parsed (lower case)
    assert scored.answer(["horror", "drama"], 1, greedy, "greedy") == "genres: horror | director: dir d | cast: none"
    assert scored.answer(["horror", "drama"], 2, greedy, "none") == \
        "genres: horror, drama | director: none | cast: none"
    assert scored.answer(["horror"], 1, "garbage", "greedy") == "genres: horror | director: none | cast: none"


def test_genre_loglik_with_the_cache_equals_a_plain_forward_pass(sim):
    """The cached, batched log-likelihood equals log P(genres: g) + log P(delimiter) from one plain pass per genre."""
    from benchmark.usersim import scored

    text = sim._render(templates.attributes_prompt(HISTORY))
    genres = ["horror", "science fiction", "drama"]
    got = scored.genre_loglik(sim.model, sim.tokenizer, [text], genres)[0]
    tok = sim.tokenizer
    delims = [tok(d, add_special_tokens=False)["input_ids"][0] for d in scored.DELIMITERS]
    for g, value in zip(genres, got, strict=True):
        p_ids = tok(text + scored.ANSWER_PREFIX, add_special_tokens=False)["input_ids"]
        c_ids = tok(" " + g, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logp = torch.log_softmax(sim.model(torch.tensor([p_ids + c_ids])).logits[0].float(), -1)
        want = sum(logp[len(p_ids) - 1 + t, c].item() for t, c in enumerate(c_ids))
        want += torch.logsumexp(logp[len(p_ids) + len(c_ids) - 1, delims], 0).item()
        assert value == pytest.approx(want, abs=1e-3)


def test_scored_decoding_is_chosen_on_valid_and_used_by_the_simulator(sim, fixture_results, monkeypatch, tmp_path):
    """A fake likelihood that points at the gold genres: the grid picks lam > 0, and the simulator answers with it."""
    from benchmark.io import write_json
    from benchmark.usersim import tune_decoding
    from benchmark.usersim.evaluate import select_samples

    bundle = DatasetBundle(fixture_results / "processed/redial")
    # golds: 9001#1 horror (1 pair); 9001#3 action, comedy, Dir D, Star D (4 pairs)
    samples = [s for s in select_samples(bundle, "test", 10, seed=0) if s["sample_id"] in ("9001#1", "9001#3")]
    tuner = UserSimulator(sim.model, sim.tokenizer, sim.model_id)
    monkeypatch.setattr(tuner, "_run", lambda texts, n, seed=0, votes=0: ["genres: drama"] * len(texts))
    likes = {"9001#1": {"horror"}, "9001#3": {"action", "comedy"}}
    fake = lambda reqs, genres: [[10.0 if g in likes[r.sample_id] else 0.0 for g in genres] for r in reqs]  # noqa: E731
    monkeypatch.setattr(tuner, "genre_loglik", fake)
    # prior: drama 4/7, action, comedy, horror 1/7 each (log ratio 1.386)
    monkeypatch.setattr(tune_decoding, "training_attribute_golds",
                        lambda b: [{"genres": ["drama"]}] * 4 + [{"genres": [g]} for g in ("action", "comedy",
                                                                                          "horror")])
    res = tune_decoding.tune(tuner, bundle, samples, votes=0)
    best = res["best"]
    assert res["calibration"]["genres"] == ["action", "comedy", "drama", "horror"]
    assert res["calibration"]["mean"] == [5.0, 5.0, 0.0, 5.0]
    # lam 0 ranks drama first for both (k 4 at best: P 3/8, R 3/5, F1 6/13); lam 0.5 moves each sample's liked
    # genres (+2.5) above drama (+1.386): k 2 gives 9001#1 horror + drama, 9001#3 action + comedy: P 3/4, R 3/5, F1 2/3
    assert max(g["f1"] for g in res["grid"] if g.get("lam") == 0.0) == pytest.approx(6 / 13)
    assert best["decoding"] == "scored" and best["k"] == 2 and best["lam"] == 0.5 and best["names"] == "none"
    assert best["f1"] == pytest.approx(2 / 3) and res["grid"][0]["f1"] == 0.0  # greedy said drama only
    write_json(tmp_path / "d.json", res)
    kwargs = tune_decoding.load_decoding(tmp_path / "d.json")
    assert kwargs["attribute_scoring"]["k"] == 2 and kwargs["attribute_scoring"]["genres"] == \
        res["calibration"]["genres"]
    user = UserSimulator(sim.model, sim.tokenizer, sim.model_id, **kwargs)
    monkeypatch.setattr(user, "genre_loglik", fake)
    answer = user.attributes([Request(HISTORY, sample_id="9001#3")])[0]
    assert templates.parse_attributes(answer)["genres"] == {"action", "comedy"}
    assert tune_decoding.describe(best) == f"scored lam {best['lam']} k 2 names none"


def test_pinned_greedy_genres_lead_the_scored_answer(sim, fixture_results, monkeypatch, tmp_path):
    """``pin``: the greedy answer's genres first, the ranking fills the rest; chosen on valid when it scores best,
    and the simulator then answers with it."""
    from benchmark.io import write_json
    from benchmark.usersim import tune_decoding
    from benchmark.usersim.evaluate import select_samples

    bundle = DatasetBundle(fixture_results / "processed/redial")
    # gold of 9001#3: genres action, comedy | director Dir D | cast Star D (4 pairs)
    samples = [s for s in select_samples(bundle, "test", 10, seed=0) if s["sample_id"] == "9001#3"]
    greedy = "genres: action, comedy, war | director: none | cast: none"  # P 2/3, R 1/2, F1 4/7
    tuner = UserSimulator(sim.model, sim.tokenizer, sim.model_id)
    monkeypatch.setattr(tuner, "_run", lambda texts, n, seed=0, votes=0: [greedy] * len(texts))
    flat = lambda reqs, genres: [[0.0] * len(genres) for _ in reqs]  # noqa: E731  (no dialogue signal)
    monkeypatch.setattr(tuner, "genre_loglik", flat)
    monkeypatch.setattr(tune_decoding, "training_attribute_golds",
                        lambda b: [{"genres": ["drama"]}] * 4 + [{"genres": [g]} for g in ("action", "comedy",
                                                                                          "horror")])
    res = tune_decoding.tune(tuner, bundle, samples, votes=0)
    # unpinned, the prior ranks drama, action, comedy, horror: best k 3, P 2/3, R 1/2, F1 4/7
    assert max(g["f1"] for g in res["grid"] if g.get("pin") is False) == pytest.approx(4 / 7)
    # pinned: action, comedy (war is not a training genre), drama, horror: k 2 gives P 1, R 1/2, F1 2/3
    best = res["best"]
    assert (best["decoding"], best["pin"], best["k"], best["lam"]) == ("scored", True, 2, 0.0)
    assert best["f1"] == pytest.approx(2 / 3) and res["grid"][0]["f1"] == pytest.approx(4 / 7)
    write_json(tmp_path / "d.json", res)
    kwargs = tune_decoding.load_decoding(tmp_path / "d.json")
    assert kwargs["attribute_scoring"]["pin"] is True
    user = UserSimulator(sim.model, sim.tokenizer, sim.model_id, **kwargs)
    monkeypatch.setattr(user, "_run", lambda texts, n, seed=0, votes=0: [greedy] * len(texts))
    monkeypatch.setattr(user, "genre_loglik", flat)
    assert user.attributes([Request(HISTORY, sample_id="9001#3")]) == \
        ["genres: action, comedy | director: none | cast: none"]
    assert tune_decoding.describe(best) == "scored lam 0.0 k 2 names none pin"
