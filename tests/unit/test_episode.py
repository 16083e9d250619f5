"""The shared episode loop with a fake retriever, fake recommender and fake simulator (and the real simulator once)."""

import json

import pytest

from benchmark.data.bundle import Catalog
from benchmark.io import read_jsonl
from benchmark.recommender.episode import (
    CandidateSource,
    EpisodeSettings,
    Recommender,
    Simulator,
    first_prompts,
    run_episodes,
    write_episode_log,
)

ITEMS = [{"item_id": f"m{n}", "title": f"Movie {n}", "year": 2000 + n, "name": f"Movie {n} ({2000 + n})",
          "genres": ["horror"] if n % 3 == 0 else ["comedy"], "has_title": True} for n in range(30)]
CATALOG = Catalog(ITEMS, "fake")
SAMPLES = [{"sample_id": "d1#1", "context": [{"role": "seeker", "text": "hi, a film please", "items": []}],
            "targets": ["m9"]},
           {"sample_id": "d2#3", "context": [{"role": "seeker", "text": "something funny", "items": ["m1"]}],
            "targets": ["m4", "m7"]}]


class FakeRetriever:
    """Scores = -index; once a reply says "horror", horror items get +100 (so feedback changes the candidates)."""

    def __init__(self):
        self.calls = []

    def scored_candidates(self, contexts, feedbacks=None, exclude=None, k=None, catalog=None):
        self.calls.append([list(f or []) for f in feedbacks] if feedbacks else None)
        out = []
        for f in feedbacks or [None] * len(contexts):
            scary = any("horror" in r for r in (f or []))
            scores = [-n + (100 if scary and "horror" in it["genres"] else 0) for n, it in enumerate(catalog.items)]
            top = sorted(range(len(scores)), key=lambda j: -scores[j])[:k]
            out.append(([catalog.ids[j] for j in top], [float(scores[j]) for j in top]))
        return out


class FakeRecommender:
    """Answers the numbers 10..1 on turn 1 and garbage on later turns of the second episode."""

    def __init__(self):
        self.chats = []

    def __call__(self, chats):
        self.chats.append([list(c) for c in chats])
        turn = len(self.chats)
        return ["<think>x</think><answer>10, 9, 8, 7, 6, 5, 4, 3, 2, 1</answer>" if turn == 1 or i == 0
                else "no idea" for i in range(len(chats))]


class FakeSimulator:
    def __init__(self):
        self.requests = []

    def feedback(self, requests):
        self.requests.append(list(requests))
        return [f"I want horror, not {r.offered[0]['title']}" for r in requests]


def test_fakes_satisfy_the_protocols():
    assert isinstance(FakeRetriever(), CandidateSource) and isinstance(FakeRecommender(), Recommender)
    assert isinstance(FakeSimulator(), Simulator)


def test_two_turn_episode_follows_the_loop():
    ret, rec, sim = FakeRetriever(), FakeRecommender(), FakeSimulator()
    eps = run_episodes(SAMPLES, CATALOG, ret, rec, sim, EpisodeSettings(turns=2, candidates=12, seed=3))
    assert [len(e.turns) for e in eps] == [2, 2] and len(sim.requests) == 1  # no reply after the last turn
    assert ret.calls == [[[], []], [[sim_reply(sim, 0)], [sim_reply(sim, 1)]]]  # turn 2 sees the replies
    first, second = eps[0].turns
    assert first.candidate_ids == [f"m{n}" for n in range(12)]
    assert second.candidate_ids[:10] == [f"m{n}" for n in range(0, 30, 3)]  # the reply moved the candidates
    assert sorted(first.order) == sorted(first.candidate_ids) and first.order != first.candidate_ids  # shuffled
    # turn ranking: parsed top-10 (numbers 10..1 -> order[9]..order[0]) then the rest in retriever order
    want = [first.order[n - 1] for n in range(10, 0, -1)]
    assert first.ranking == want + [i for i in first.candidate_ids if i not in want] and first.status == "ok"
    assert eps[0].ranking == second.ranking and second.reply is None and first.reply == sim_reply(sim, 0)
    # an unparseable answer falls back to exactly the retriever order and says so
    assert eps[1].turns[1].status == "no_answer" and eps[1].ranking == eps[1].turns[1].candidate_ids
    # turn 2 continues the chat: turn 1's chat + the assistant answer + a user message with the reply
    turn1_chat, turn2_chat = rec.chats[0][0], rec.chats[1][0]
    assert turn2_chat[:2] == turn1_chat and turn2_chat[2] == {"role": "assistant", "content": first.output}
    assert first.reply in turn2_chat[3]["content"] and "1. " in turn2_chat[3]["content"]
    assert eps[0].chat == turn2_chat + [{"role": "assistant", "content": second.output}]


def sim_reply(sim, i):
    return f"I want horror, not {sim.requests[0][i].offered[0]['title']}"


def test_simulator_gets_the_offered_items_and_targets_only_for_the_guard():
    ret, rec, sim = FakeRetriever(), FakeRecommender(), FakeSimulator()
    eps = run_episodes(SAMPLES, CATALOG, ret, rec, sim, EpisodeSettings(turns=3, candidates=12))
    assert len(sim.requests) == 2
    req = sim.requests[1][1]  # second reply of sample 2
    assert [it["item_id"] for it in req.offered] == eps[1].turns[1].ranking[:10]
    assert [it["item_id"] for it in req.held_out] == ["m4", "m7"]
    assert req.history[:1] == SAMPLES[1]["context"] and len(req.history) == 3  # context + turn-1 line + reply
    assert req.history[1]["role"] == "recommender" and req.history[1]["items"] == []
    assert req.history[2] == {"role": "seeker", "text": eps[1].turns[0].reply, "items": []}
    assert all("m4" not in json.dumps(t) and "m7" not in json.dumps(t) for t in req.history)


def test_single_turn_needs_no_simulator_and_more_turns_do():
    eps = run_episodes(SAMPLES, CATALOG, FakeRetriever(), FakeRecommender(), None, EpisodeSettings(turns=1))
    assert [len(e.turns) for e in eps] == [1, 1] and eps[0].turns[0].reply is None
    with pytest.raises(ValueError, match="needs a simulator"):
        run_episodes(SAMPLES, CATALOG, FakeRetriever(), FakeRecommender(), None, EpisodeSettings(turns=2))


def test_first_prompts_match_the_episodes_turn_one_and_are_seeded():
    settings = EpisodeSettings(turns=1, candidates=12, seed=5)
    rec = FakeRecommender()
    eps = run_episodes(SAMPLES, CATALOG, FakeRetriever(), rec, None, settings)
    prompts = first_prompts(SAMPLES, CATALOG, FakeRetriever(), settings)
    assert [p for p, _ in prompts] == rec.chats[0] and [o for _, o in prompts] == [e.turns[0].order for e in eps]
    other = first_prompts(SAMPLES, CATALOG, FakeRetriever(), EpisodeSettings(candidates=12, seed=6))
    assert [o for _, o in other] != [o for _, o in prompts]


def test_show_rank_labels_the_candidates_of_every_turn_with_that_turns_retriever_rank():
    eps = run_episodes(SAMPLES, CATALOG, FakeRetriever(), FakeRecommender(), FakeSimulator(),
                       EpisodeSettings(turns=2, candidates=12, show_rank=True))
    for turn in eps[0].turns:
        lines = {int(x.split(".")[0]): x for x in turn.prompt[-1]["content"].splitlines() if x[:1].isdigit()}
        for n, item in enumerate(turn.order, start=1):
            rank = turn.candidate_ids.index(item) + 1  # turn 2: the ranks after the "horror" feedback re-scored
            assert lines[n].startswith(f"{n}. {CATALOG.by_id[item]['name']}")
            assert lines[n].endswith(f" [search rank {rank}]")
    assert eps[0].turns[1].candidate_ids[0] == "m0" and eps[0].turns[1].candidate_ids[1] == "m3"


def test_episode_log_round_trips(tmp_path):
    eps = run_episodes(SAMPLES, CATALOG, FakeRetriever(), FakeRecommender(), FakeSimulator(), EpisodeSettings())
    write_episode_log(tmp_path / "p.episodes.jsonl", eps)
    rows = read_jsonl(tmp_path / "p.episodes.jsonl")
    assert [r["sample_id"] for r in rows] == ["d1#1", "d2#3"] and rows[0]["ranking"] == eps[0].ranking
    keys = {"turn", "prompt", "candidate_ids", "candidate_scores", "order", "output", "status", "reply", "ranking"}
    assert keys <= set(rows[0]["turns"][0]) and rows[0]["turns"][0]["prompt"][0]["role"] == "system"
    assert rows[0]["turns"][1]["prompt"][0]["role"] == "user" and rows[0]["parser_version"] >= 1


def test_real_simulator_runs_in_the_loop(tiny_llm):
    from benchmark.usersim.simulator import UserSimulator

    sim = UserSimulator.load(str(tiny_llm), max_new_tokens=3, batch_size=2)
    eps = run_episodes(SAMPLES, CATALOG, FakeRetriever(), FakeRecommender(), sim, EpisodeSettings(turns=2))
    assert all(isinstance(e.turns[0].reply, str) for e in eps)
