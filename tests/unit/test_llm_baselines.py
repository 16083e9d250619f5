"""LLM baselines: llm-free's title matching and end-to-end run, grsu's simulator-scored ranking, ievalm's loop."""

import json

import pytest

from baselines.grsu.scoring import ACCEPT, AcceptScorer, continuation_logprobs, rank
from baselines.grsu.system import GRSUSystem
from baselines.llm_free.matching import TitleIndex, match_list, norm, parse_list, split_year
from baselines.llm_free.system import PROMPT, build_prompt
from benchmark.data.bundle import Catalog, DatasetBundle
from benchmark.errors import BenchmarkError

ITEMS = [{"item_id": "heat95", "title": "Heat", "year": 1995}, {"item_id": "heat86", "title": "Heat", "year": 1986},
         {"item_id": "matrix", "title": "The Matrix", "year": 1999},
         {"item_id": "br2049", "title": "Blade Runner 2049", "year": 2017},
         {"item_id": "amelie", "title": "Amélie", "year": 2001}, {"item_id": "it", "title": "It", "year": 2017},
         {"item_id": "untitled", "title": "", "has_title": False}]


# --- llm-free: title matching ---------------------------------------------------------------------------------
def test_norm_and_split_year():
    assert norm("Matrix, The") == norm("the matrix") == "the matrix"
    assert norm("Amelie") == norm("Amélie") and norm("Fast & Furious") == "fast and furious"
    assert split_year('Heat (1995)') == ("Heat", 1995) and split_year("Heat (film)") == ("Heat", None)


@pytest.mark.parametrize("text, item, kind", [
    ("Heat (1995)", "heat95", "exact"),
    ("Heat (1986)", "heat86", "exact"),
    ("Heat (1987)", "heat86", "year"),  # year one off: the nearest year
    ("Heat", "heat95", "year"),  # two films share the title, no year given: the most recent
    ("Heat 1986", "heat86", "year"),  # a year written without parentheses
    ("Blade Runner 2049", "br2049", "exact"),  # a title that ends in a year is not cut
    ("Matrix, The (1999)", "matrix", "exact"),
    ("Amelie", "amelie", "exact"),
    ("The Matrx", "matrix", "fuzzy"),  # one edit
    ("Blade Runner", None, "unmatched"),  # 5 edits away
    ("Ut", None, "unmatched"),  # short titles are never fuzzy-matched ("It" is one edit away)
    ("Inception (2010)", None, "unmatched"),
])
def test_title_matching_hand_cases(text, item, kind):
    m = TitleIndex(ITEMS).match(text)
    assert (m.item_id, m.kind) == (item, kind)


def test_parse_list_and_match_list_count_every_kind():
    text = ("Here you go:\n1. \"Heat\" (1995)\n2. The Matrx\n3) Inception\n4. Heat (1995)\n"
            "5. It - a horror film about a clown that lives in the sewers\n")
    entries = parse_list(text)
    assert entries == ["Heat (1995)", "The Matrx", "Inception", "Heat (1995)", "It"]
    ranked, matches, counts = match_list(TitleIndex(ITEMS), entries)
    assert ranked == ["heat95", "matrix", "it"]
    assert [m.kind for m in matches] == ["exact", "fuzzy", "unmatched", "exact", "exact"]
    assert counts == {"exact": 3, "year": 0, "fuzzy": 1, "unmatched": 1, "duplicate": 1, "titles": 5}
    assert parse_list("Heat, It, Up") == ["Heat", "It", "Up"]  # no "1.": comma-split, as He et al.
    assert len(parse_list("\n".join(f"{n}. Film {n}" for n in range(1, 31)), n=20)) == 20


def test_speaker_tags_are_not_titles():
    # SmolLM2-135M continues the dialogue; "System" is within edit distance 2 of a 6-letter title before stripping
    items = ITEMS + [{"item_id": "sisters", "title": "Sister", "year": 2012}]
    entries = parse_list("System: \nUser: Heat (1995)\nSystem:\nsystem : Inception\nSystem\nSystematic")
    assert entries == ["Heat (1995)", "Inception", "Systematic"]
    ranked, _, counts = match_list(TitleIndex(items), entries)
    assert ranked == ["heat95"] and counts["fuzzy"] == 0 and counts["titles"] == 3
    assert TitleIndex(items).match("System").item_id == "sisters"  # what the tag alone would have matched


def test_prompt_is_he_et_al_general_prompt():
    context = [{"role": "recommender", "text": "Hi!", "items": []},
               {"role": "seeker", "text": "Comedies?", "items": []}]
    text = build_prompt(context)
    assert text.startswith("Pretend you are a movie recommender system. \n I will give you a conversation")
    assert "reply me with 20 recommendations without extra sentences" in text
    assert text.endswith("Here is the conversation: \nSystem: Hi!\nUser: Comedies?\nSystem: ")
    assert PROMPT.format(n=20, dialogue="x").count("{") == 0


def test_llm_free_end_to_end_with_tiny_llm(tiny_llm, fixture_results, tmp_path, monkeypatch):
    from baselines.llm_free import system as module
    from benchmark.systems.predict import predict

    processed = fixture_results / "processed/redial"
    catalog = DatasetBundle(processed).catalog
    titled = [it for it in catalog.items if it.get("has_title", True) and it.get("title")]
    real_generate = module.LLMFree.generate
    calls = []

    def generate(self, prompts):  # the tiny random model runs, then (so matching is exercised) its text is replaced
        raw = real_generate(self, prompts)
        calls.append((prompts, raw))
        return [f"1. {titled[0]['title']} ({titled[0]['year']})\n2. Not A Film Title At All\n3. {titled[1]['title']}"
                for _ in prompts]

    monkeypatch.setattr(module.LLMFree, "generate", generate)
    out = tmp_path / "pred.jsonl"
    params = {"model": str(tiny_llm), "max_new_tokens": 6, "batch_size": 2, "device": "cpu"}
    n = predict("llm-free", processed, processed, "test", out, params=params, progress=False)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert n == len(rows) > 0 and len(calls[0][1]) == len(calls[0][0]) and all(isinstance(t, str) for t in calls[0][1])
    for row in rows:
        assert row["ranked_items"][0] == titled[0]["item_id"] and len(row["ranked_items"]) == 2
        assert row["title_match"]["unmatched"] == 1 and row["title_match"]["titles"] == 3
        assert [k for _, _, k in row["titles"]][1] == "unmatched"


# --- grsu: simulator-scored ranking ---------------------------------------------------------------------------
class FakeRetriever:
    """Catalogue order, scores 0, -1, -2, ..."""

    def scored_candidates(self, contexts, feedbacks=None, exclude=None, k=None, catalog=None):
        return [(catalog.ids[:k], [-float(n) for n in range(min(k, len(catalog)))]) for _ in contexts]

    def candidates(self, contexts, feedbacks=None, k=None, catalog=None):
        return [catalog.ids[:k] for _ in contexts]


class FakeSimulator:
    """reply_nll: the acceptance reply is likelier (lower NLL) the later the film's year; recorded requests."""

    def __init__(self):
        self.seen = []

    def reply_nll(self, requests, replies):
        self.seen.extend(zip(requests, replies, strict=True))
        return [(3000.0 - r.offered[0]["year"], 10) for r in requests]


FILMS = Catalog([{"item_id": f"f{n}", "title": f"Film {n}", "year": 1990 + (7 * n) % 12, "name": f"Film {n}"}
                 for n in range(12)], "fake")


def test_rank_mixes_standardised_scores():
    assert rank(["a", "b", "c"], [0.0, -1.0, -2.0], [-3.0, -1.0, -2.0]) == ["b", "c", "a"]
    assert rank(["a", "b", "c"], [0.0, -1.0, -2.0], [-3.0, -1.0, -2.0], retriever_weight=1.0) == ["a", "b", "c"]
    assert rank(["a", "b", "c"], [0.0, -1.0, -2.0], [5.0, 5.0, 5.0]) == ["a", "b", "c"]  # ties: retriever order
    # w = 0.6: z(retriever) = (1.22, 0, -1.22), z(sim) = (-1.22, 1.22, 0): a = 0.24, b = 0.49, c = -0.73
    assert rank(["a", "b", "c"], [0.0, -1.0, -2.0], [-3.0, -1.0, -2.0], retriever_weight=0.6) == ["b", "a", "c"]
    with pytest.raises(ValueError, match="retriever_weight"):
        rank(["a"], [0.0], [0.0], retriever_weight=2.0)


def test_grsu_ranks_candidates_by_the_fake_simulator():
    sim = FakeSimulator()
    system = GRSUSystem("unused", FakeRetriever(), candidates=10, scorer=AcceptScorer(sim))
    samples = [{"sample_id": "d#1", "context": [{"role": "seeker", "text": "anything recent?", "items": []}]}]
    ranked = system.recommend(samples, FILMS, k=12)[0]
    by_year = sorted(FILMS.ids[:10], key=lambda i: -FILMS.by_id[i]["year"])  # years are distinct
    assert ranked[:10] == by_year and ranked[10:] == ["f10", "f11"]  # then the rest in retriever order
    assert len(sim.seen) == 10 and all(len(r.offered) == 1 for r, _ in sim.seen)
    assert sim.seen[0][1] == ACCEPT.format(title="Film 0") and sim.seen[0][0].history == samples[0]["context"]
    assert system.last_details[0]["simulator_scores"][0] == -(3000.0 - 1990)
    with pytest.raises(BenchmarkError, match="train_usersim"):
        GRSUSystem("unused", FakeRetriever(), simulator="/nonexistent/adapter")
    with pytest.raises(BenchmarkError, match="score"):
        GRSUSystem("unused", FakeRetriever(), score="vibes", scorer=AcceptScorer(sim))


def test_target_scorer_batched_logprobs_equal_one_by_one(tiny_llm):
    from benchmark.usersim.simulator import UserSimulator

    sim = UserSimulator.load(str(tiny_llm), cache=None, cache_mode="off", dtype="float32", device="cpu")
    prompts = ["User: a scary film?\nSystem:", "User: hi", "User: anything"]
    conts = [" It (2017)", " Heat (1995) and a much longer continuation here", " Up"]  # 2 batches of 2
    batched = continuation_logprobs(sim.model, sim.tokenizer, prompts, conts, batch_size=2)
    single = [continuation_logprobs(sim.model, sim.tokenizer, [p], [c])[0] for p, c in zip(prompts, conts, strict=True)]
    assert batched == pytest.approx(single, abs=1e-4) and all(v < 0 for v in batched)  # right padding is masked


# --- ievalm: the episode loop with fakes ----------------------------------------------------------------------
def test_ievalm_runs_the_episode_loop_with_an_untrained_user(tiny_llm, monkeypatch):
    from baselines.ievalm import IEvaLMSystem

    class EpisodeRetriever(FakeRetriever):
        def __init__(self):
            self.feedbacks = []

        def scored_candidates(self, contexts, feedbacks=None, exclude=None, k=None, catalog=None):
            self.feedbacks.append(feedbacks)
            return super().scored_candidates(contexts, feedbacks, exclude, k, catalog)

    class User:
        def __init__(self):
            self.requests = []

        def feedback(self, requests):
            self.requests.extend(requests)
            return ["Too old, something newer please."] * len(requests)

    with pytest.raises(BenchmarkError, match="base"):
        IEvaLMSystem(str(tiny_llm), FakeRetriever(), simulator="/some/adapter")
    with pytest.raises(BenchmarkError, match="adapter"):
        IEvaLMSystem(str(tiny_llm), FakeRetriever(), adapter="/some/adapter")
    retriever, user = EpisodeRetriever(), User()
    system = IEvaLMSystem(str(tiny_llm), retriever, turns=2, candidates=10, max_new_tokens=4, sim_llm=str(tiny_llm))
    assert system.simulator.model_id.endswith("+none+bfloat16")  # the untrained base LLM as the user
    system.simulator = user
    answers = iter([["<answer>1, 2, 3, 4, 5, 6, 7, 8, 9, 10</answer>"], ["<answer>10, 9</answer>"]])
    monkeypatch.setattr(system, "generate", lambda chats: next(answers))
    samples = [{"sample_id": "d#1", "context": [{"role": "seeker", "text": "a film?", "items": []}],
                "targets": ["f3"]}]
    ranked = system.recommend(samples, FILMS, k=12)[0]
    episode = system.last_details[0]["episode"]
    first, second = episode["turns"]
    assert len(user.requests) == 1 and [it["item_id"] for it in user.requests[0].offered] == first["ranking"][:10]
    assert [it["item_id"] for it in user.requests[0].held_out] == ["f3"]  # targets go to the guard only
    assert retriever.feedbacks == [[[]], [["Too old, something newer please."]]]
    assert first["reply"] == "Too old, something newer please." and second["reply"] is None
    assert ranked[:2] == [second["order"][9], second["order"][8]] and ranked[:10] == second["ranking"][:10]
    assert system.last_details[0]["turn_status"] == ["ok", "partial"]
