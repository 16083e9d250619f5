"""Answer depth (benchmark/recommender/depth.py): re-ranking from stored predictions, the choice on validation."""

import json

import pytest

from benchmark.errors import BenchmarkError
from benchmark.recommender.depth import at_depth, choose_depth, main, recall_curve


def episode_row(sample_id: str, answer: list[int], ranked_tail: list[str], candidates: str = "abcd") -> dict:
    """An smtpo row: the last turn's candidates (retriever order) shown in reverse (a, b, c, d as 4, 3, 2, 1) and
    the answer ``answer``."""
    candidates = list(candidates)
    order = candidates[::-1]
    head = [order[n - 1] for n in answer]
    ranking = head + [c for c in candidates if c not in head]
    turn = {"turn": 2, "order": order, "candidate_ids": candidates, "numbers": answer, "ranking": ranking}
    return {"sample_id": sample_id, "ranked_items": ranking + ranked_tail, "parse_status": "partial",
            "episode": {"sample_id": sample_id, "ranking": ranking, "turns": [{"turn": 1}, turn]}}


def test_at_depth_keeps_the_first_m_answers_then_the_retriever_order():
    row = episode_row("d1#1", [1, 2], ["x", "y"])  # answered d, c
    assert at_depth(row, 10, 6) == row["ranked_items"] == ["d", "c", "a", "b", "x", "y"]
    assert at_depth(row, 1, 6) == ["d", "a", "b", "c", "x", "y"]
    assert at_depth(row, 0, 6) == ["a", "b", "c", "d", "x", "y"]  # the retriever's order after feedback
    assert at_depth(row, 1, 3) == ["d", "a", "b"]


def test_rows_without_the_retriever_order_are_refused():
    with pytest.raises(BenchmarkError, match="candidate_ids"):
        at_depth({"sample_id": "s", "ranked_items": ["a"], "raw_text": "<answer>1</answer>"}, 1, 10)


def test_recall_curve_and_the_choice_prefer_the_larger_depth_on_a_tie():
    # s1's fresh target "d" is answered first; s2's target "a" is the retriever's first candidate, answered last
    rows = {"d1#1": episode_row("d1#1", [1, 2, 3], ["x"]), "d2#1": episode_row("d2#1", [1, 2, 3], ["x"])}
    samples = [{"sample_id": "d1#1", "targets": ["d"], "context_items": []},
               {"sample_id": "d2#1", "targets": ["a", "z"], "context_items": ["z"]}]  # z not fresh
    curve = recall_curve(samples, rows, "fresh", k=2, depths=(0, 1, 2, 10))
    # depth 0: [a, b] -> s1 miss, s2 hit; depth 1: [d, a] -> both hit; depth 2 and 10: [d, c] -> s1 only
    assert curve == pytest.approx({0: 0.5, 1: 1.0, 2: 0.5, 10: 0.5})
    assert choose_depth(curve) == 1
    assert choose_depth({0: 0.5, 2: 0.5, 10: 0.5}) == 10


def test_main_chooses_on_valid_and_rewrites_the_test_predictions(tmp_path):
    processed = tmp_path / "processed"
    processed.mkdir()
    samples = [{"sample_id": "d1#1", "targets": ["a"], "context_items": []},
               {"sample_id": "d2#1", "targets": ["k"], "context_items": []}]
    (processed / "valid.samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    # 12 candidates a..l shown as l = 1, k = 2, ...; both answers list 1..10 = l..c, so "a" (the retriever's first)
    # is ranked 11th at depth 10 and within the top 10 at depth <= 9; "k" (answered second, the retriever's 11th)
    # is in the top 10 from depth 2 on and 11th or 12th below it
    answer, twelve = list(range(1, 11)), "abcdefghijkl"
    valid = tmp_path / "valid.jsonl"
    valid.write_text("".join(json.dumps(episode_row(s["sample_id"], answer, [], twelve)) + "\n" for s in samples))
    test = tmp_path / "test.jsonl"
    test.write_text(json.dumps(episode_row("t1#1", answer, ["x"], twelve)) + "\n")
    (tmp_path / "test.meta.json").write_text(json.dumps({"split": "test", "params": {"turns": 2}}))
    report = main(processed, valid, None, test, tmp_path / "out.jsonl", k=13)
    assert report["chosen_on"]["curve"] == pytest.approx({0: 0.5, 1: 0.5, **{m: 1.0 for m in range(2, 10)}, 10: 0.5})
    assert report["depth"] == 9  # the largest of the tied depths
    row = json.loads((tmp_path / "out.jsonl").read_text())
    assert row["ranked_items"] == list("lkjihgfeda") + ["b", "c", "x"] and row["answer_depth"] == 9
    meta = json.loads((tmp_path / "out.meta.json").read_text())
    assert meta["split"] == "test" and meta["params"] == {"turns": 2, "answer_depth": 9}


def test_answer_order_diagnostic_on_hand_cases():
    """scripts/answer_order.py: tail pairs in increasing retriever rank and adjacent shown numbers, by hand."""
    import importlib.util

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location("answer_order", ROOT / "scripts/answer_order.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shown = ["a", "b", "c", "d", "e"]  # retriever order: a is rank 1
    order = ["c", "a", "e", "b", "d"]  # shown number n is order[n - 1]
    # answer 1, 2, 4, 5 -> c, a, b, d: tail a, b, d has ranks 1 < 2 < 4 (2 of 2 increasing); 2, 4, 5: 1 adjacent
    rows = [{"sample_id": "s1", "raw_text": "<answer>1, 2, 4, 5</answer>", "candidate_order": order,
             "candidate_ids": shown},
            # answer 5, 3, 4 -> d, e, b: tail e, b has ranks 5 > 2 (0 of 1); numbers 3, 4 (1 adjacent)
            {"sample_id": "s2", "raw_text": "<answer>5, 3, 4</answer>", "candidate_order": order,
             "candidate_ids": shown}]
    assert module.tail_order(rows) == (pytest.approx(2 / 3), pytest.approx(2 / 3), 3)
