"""The recommender part of the workflow (workflow/rules/recommender.smk): dry runs of `recommender`, `all` and
`ablations`, the GRPO rule's command line against the real CLI parser, clear errors for missing inputs, and a tiny
SFT chain on fixtures."""

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from benchmark.cli import build_parser
from tests.conftest import FIXTURES, ROOT
from tests.workflow.test_snakemake import fixture_config, run


def job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[1].split("total")[0].splitlines()[3:]
    return {name: int(n) for name, n in (line.split() for line in table if line.strip())}


def shell_commands(output: str, stage: str) -> list[list[str]]:
    """The `python -m benchmark <stage> ...` commands of a `-n -p` run, split into argv (redirection and the
    `| tee <log> | python -m benchmark.progress` pipe dropped)."""
    out = []
    for line in output.splitlines():
        if f"-m benchmark {stage} " in line:
            command = line.split("-m benchmark ", 1)[1].split(" > ", 1)[0].split(" 2>&1", 1)[0]  # drop log plumbing
            argv = shlex.split(command)
            out.append(argv)
    return out


def edited_config(tmp_path, edit) -> Path:
    path = fixture_config(tmp_path)
    config = yaml.safe_load(path.read_text())
    edit(config)
    path.write_text(yaml.safe_dump(config))
    return path


def test_dry_run_recommender_plans_the_llm_systems(tmp_path):
    cfg = fixture_config(tmp_path)
    config = yaml.safe_load(cfg.read_text())
    res = run(["recommender", "-n", "--configfile", str(cfg)], tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    jobs = job_counts(res.stdout + res.stderr)
    seeds, cells = len(config["seeds"]), len(config["cells"])
    train_sets = len({a for a, _ in config["cells"]})
    llm = config["tables"]["llm"]["systems"]
    extra_t = len(set(config["recommender"]["turn_curve"]) - set(llm))  # smtpo-t1, smtpo-t3 on the first cell
    assert jobs["predict_subset"] == jobs["evaluate_subset"] == (len(llm) * cells + extra_t) * seeds
    assert jobs["train_recommender_sft"] == jobs["recommender_sft_data"] == train_sets * seeds
    assert jobs["train_recommender_grpo"] == train_sets * seeds  # only the smtpo variant in `recommender`
    assert jobs["llm_table"] == jobs["recommender_plots"] == jobs["llm_comparisons"] == jobs["llm_report_html"] == 1
    assert "ablations_table" not in jobs


def test_all_plans_no_llm_job_until_its_cost_is_measured(tmp_path):
    res = run(["all", "-n", "--configfile", str(fixture_config(tmp_path))], tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    jobs = job_counts(res.stdout + res.stderr)
    llm_jobs = {"predict_subset", "train_recommender_sft", "train_recommender_grpo"}
    assert "main_table" in jobs and not llm_jobs & set(jobs)


def test_dry_run_ablations_and_grpo_commands_match_the_cli(tmp_path):
    cfg = fixture_config(tmp_path)
    config = yaml.safe_load(cfg.read_text())
    res = run(["ablations", "-n", "-p", "--configfile", str(cfg)], tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = res.stdout + res.stderr
    variants = config["recommender"]["variants"]
    jobs = job_counts(out)
    assert jobs["train_recommender_grpo"] == len(variants) * 2 * len(config["seeds"])
    assert jobs["ablations_table"] == 1 and jobs["ablation_comparisons"] == 1 and "main_table" not in jobs
    (comparisons,) = [c for c in shell_commands(out, "comparisons") if "--target" in c and "ablations" in c]
    a = build_parser().parse_args(comparisons)
    assert a.pairs == [f"{x}:{y}" for x, y in config["tables"]["llm"]["ablation_comparisons"]]
    commands = shell_commands(out, "train-recommender-grpo")
    assert len(commands) == jobs["train_recommender_grpo"]
    parser = build_parser()
    seen = {}
    for argv in commands:
        a = parser.parse_args(["train-recommender-grpo", *argv[1:]])  # the rule's flags exist in the real CLI
        variant = Path(a.out).parts[-3]
        seen[variant] = a
        weights = dict(kv.split("=") for kv in a.reward_weights.split(","))
        assert {k: float(v) for k, v in weights.items()} == variants[variant]["reward_weights"]
        assert a.turns == variants[variant]["turns"]
    assert seen["smtpo-single-turn"].simulator == "none" and seen["smtpo-base-sim"].simulator == "base"
    assert seen["smtpo"].simulator.endswith("models/usersim/multitask/redial/seed0/adapter") or \
        seen["smtpo"].simulator.endswith("models/usersim/multitask/inspired/seed0/adapter")


def test_missing_subset_file_names_the_rule_that_makes_it(tmp_path):
    cfg = edited_config(tmp_path, lambda c: c["eval"]["subset"]["files"].update(redial=str(tmp_path / "nope.txt")))
    res = run(["recommender", "-n", "--configfile", str(cfg)], tmp_path)
    assert res.returncode != 0
    assert "nope.txt is missing" in res.stderr and "rule make_subset" in res.stderr


def test_unknown_recommender_variant_is_named(tmp_path):
    cfg = edited_config(tmp_path, lambda c: c["systems"]["smtpo"].update(uses="recommender/smtpoo"))
    res = run(["recommender", "-n", "--configfile", str(cfg)], tmp_path)
    assert res.returncode != 0 and "smtpoo" in res.stderr and "smtpo" in res.stderr.split("smtpoo", 1)[1]


@pytest.mark.slow
def test_tiny_recommender_sft_chain_on_fixtures(tmp_path, tiny_llm):
    """Fixture data -> tiny retriever (semantic-only: one training stage less) -> SFT data -> tiny SFT -> smtpo-sft
    predictions on the whole test split (tables.llm.split: test, the GPU profile's path) -> metrics with the
    parse-failure counts. 391 s on the shared 2-core machine at load 12 (with llm-zero-shot and dualview too)."""

    def edit(c):
        c["models"]["llm"] = str(tiny_llm.parent / "model")
        c["recommender"]["sft_recipe"] = str(FIXTURES / "recipes/recommender_sft_tiny.yaml")
        c["recommender"]["grpo_recipe"] = str(FIXTURES / "recipes/recommender_grpo_tiny.yaml")
        c["recommender"]["retriever"] = "semantic-only"
        c["tables"]["llm"]["split"] = "test"
        c["systems"]["smtpo-sft"]["params"] = {"max_new_tokens": 8, "candidates": 10}

    cfg = edited_config(tmp_path, edit)
    results = tmp_path / "results"
    targets = [f"{results}/metrics/smtpo-sft/redial/redial/seed0.json"]
    started = time.time()
    res = run([*targets, "--configfile", str(cfg)], tmp_path, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    sft = json.loads((results / "models/recommender/sft/redial/seed0/meta.json").read_text())
    assert sft["steps"] == 2
    for target in targets:
        m = json.loads(Path(target).read_text())
        counts = m["protocols"]["all"]["counts"]
        assert m["split"] == "test" and counts["parsed_outputs"] == counts["samples"] > 0
    print(f"tiny recommender SFT chain: {time.time() - started:.0f} s")
    # the rank-hint remedy on the same files: SFT data with ranks shown, its own SFT, smtpo-sft-rank scored
    recipe = tmp_path / "rank.yaml"
    recipe.write_text((FIXTURES / "recipes/recommender_sft_tiny.yaml").read_text() + "\nshow_rank: true\n")
    subset = tmp_path / "subset.txt"
    py = [sys.executable, "-m", "benchmark"]
    subprocess.run([*py, "make-subset", "--processed", f"{results}/processed/redial", "--n", "2", "--seed", "0",
                    "--split", "test", "--out", str(subset)], check=True, cwd=ROOT)
    env = {**os.environ, "PY": sys.executable, "RECIPE": str(recipe), "SUBSET": str(subset),
           "RETRIEVER": str(results / "models/retriever/semantic-only/redial/seed0")}
    res = subprocess.run(["bash", "scripts/rank_hint.sh", "redial", str(results)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    meta = json.loads((results / "models/recommender/sft-rank/redial/seed0/meta.json").read_text())
    assert meta["prompt"] == {"show_rank": True} and sft.get("prompt") == {"show_rank": False}
    rows = [json.loads(x) for x in (results / "predictions/smtpo-sft-rank/redial/redial/test-subset/seed0.jsonl")
            .read_text().splitlines()]
    assert len(rows) == 2 and all("raw_text" in r for r in rows)
    m = json.loads((results / "metrics/smtpo-sft-rank/redial/redial/test-subset/seed0.json").read_text())
    assert m["split"] == "test-subset" and m["system"] == "smtpo-sft-rank"


# --- the pieces the rules call: subset draw, subset-restricted evaluation, parse-failure column, plots ---------

def _samples():
    """6 dialogues x 3 samples; sample #0 of each dialogue has only a target already in the context (not fresh)."""
    out = []
    for d in range(6):
        for t in range(3):
            fresh = t > 0
            out.append({"sample_id": f"d{d}#{t}", "dialogue_id": f"d{d}", "context": [],
                        "targets": [f"i{d}{t}" if fresh else "seen"], "context_items": ["seen"]})
    return out


def test_subset_draw_is_seeded_fresh_and_spread_over_dialogues():
    from benchmark.errors import BenchmarkError
    from benchmark.recommender.subset import draw

    samples = _samples()
    ids = draw(samples, 6, seed=0)
    assert ids == draw(samples, 6, seed=0) and ids != draw(samples, 6, seed=1)
    assert len(ids) == 6 and len({i.split("#")[0] for i in ids}) == 6  # one per dialogue while dialogues last
    assert all(not i.endswith("#0") for i in draw(samples, 12, seed=3))  # only samples with a fresh target
    assert [i for i in ids] == [s["sample_id"] for s in samples if s["sample_id"] in set(ids)]  # file order
    with pytest.raises(BenchmarkError, match="exceeds the 12 samples"):
        draw(samples, 13, seed=0)


def test_evaluate_on_a_subset_names_it_and_counts_parse_failures(tmp_path):
    from benchmark.eval.evaluate import evaluate
    from benchmark.io import write_json, write_jsonl
    from benchmark.report.tables import render
    from benchmark.systems.predict import _subset_info

    processed = tmp_path / "redial"
    samples = _samples()
    write_jsonl(processed / "test.samples.jsonl", samples)
    items = [s["targets"][0] for s in samples if "seen" not in s["targets"]]
    write_jsonl(processed / "catalog.jsonl", [{"item_id": i} for i in items])
    write_json(processed / "stats.json", {"dataset": "redial"})
    (tmp_path / "subset.txt").write_text("# header\nd0#1\nd1#2\nd2#1\nd3#1\n")
    rows = [{"sample_id": "d0#1", "ranked_items": ["i01"], "parse_status": "ok"},
            {"sample_id": "d1#2", "ranked_items": ["x"], "parse_status": "malformed"},
            {"sample_id": "d2#1", "ranked_items": ["i21"], "parse_status": "ok"},
            {"sample_id": "d3#1", "ranked_items": [], "parse_status": "no_answer"}]
    write_jsonl(tmp_path / "p.jsonl", rows)
    meta = {"train_dataset": "redial", "test_dataset": "redial", "split": "test",
            "subset": _subset_info(tmp_path / "subset.txt")}
    write_json(tmp_path / "p.meta.json", meta)
    res = evaluate(tmp_path / "p.jsonl", processed, "test", tmp_path / "m.json", system="llm", train_dataset="redial",
                   test_dataset="redial", seed=0, ks=[1, 10], subset=tmp_path / "subset.txt")
    fresh = res["protocols"]["fresh"]
    assert res["split"] == "test-subset" and fresh["card"]["subset"]["n"] == 4
    assert fresh["counts"]["samples"] == 4 and fresh["metrics"]["recall@1"]["mean"] == 0.5
    assert fresh["counts"]["parse_failures"] == 2 and fresh["counts"]["parsed_outputs"] == 4
    md = render([res], ["recall@1"], parse_failures=True)
    assert "parse fail." in md and "| 50.0%" in md and "fixed subset of 4 test samples" in md
    with pytest.raises(Exception, match="pass the same --subset"):  # predictions made on a subset, scored without
        evaluate(tmp_path / "p.jsonl", processed, "test", tmp_path / "m2.json", system="llm", train_dataset="redial",
                 test_dataset="redial", seed=0, ks=[1])


def test_plots_read_the_grpo_reward_log_and_turn_metrics(tmp_path):
    from benchmark.errors import BenchmarkError
    from benchmark.io import write_json
    from benchmark.recommender.plots import main

    log = [{"step": s, "rewards/format/mean": 0.1 * s, "rewards/recommend/mean": 0.05 * s,
            "rewards/preference/mean": 0.2, "reward": 0.3 * s} for s in (1, 2, 3)]
    meta = tmp_path / "grpo/smtpo/redial/seed0/meta.json"
    write_json(meta, {"reward_log": log})
    specs = []
    for t, value in ((1, 0.10), (2, 0.12), (3, 0.11)):
        m = {"recall@10": {"mean": value, "ci_low": value - 0.02, "ci_high": value + 0.02}}
        write_json(tmp_path / f"t{t}.json", {"train_dataset": "redial", "test_dataset": "redial",
                                             "split": "test-subset", "protocols": {"fresh": {"metrics": m}}})
        specs.append(f"{t}=" + str(tmp_path / f"t{t}.json"))
    paths = main([str(meta)], specs, tmp_path / "plots")
    assert [p.name for p in paths] == ["grpo_rewards.png", "turns.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    rewards = (tmp_path / "plots/grpo_rewards.tsv").read_text().splitlines()
    assert "smtpo/redial/seed0\trecommend\t3\t0.15000000000000002" in rewards and len(rewards) == 1 + 4 * 3
    assert (tmp_path / "plots/turns.tsv").read_text().splitlines()[2].split("\t")[1:3] == ["2", "0.12"]

    # redrawn from the stored TSV plus a new run: the stored run's rows come back unchanged, the new run is added,
    # and a meta.json of a run the TSV also holds wins over its TSV rows
    stored = tmp_path / "stored.tsv"
    stored.write_text("\n".join(rewards) + "\n")
    other = tmp_path / "grpo/smtpo-no-rec/redial/seed0/meta.json"
    write_json(other, {"reward_log": [{"step": 1, "rewards/format/mean": 0.5, "reward": 0.5}]})
    write_json(meta, {"reward_log": [{"step": 1, "rewards/format/mean": 0.9, "reward": 0.9}]})
    main([str(other), str(stored)], [], tmp_path / "redrawn")
    again = (tmp_path / "redrawn/grpo_rewards.tsv").read_text().splitlines()
    assert set(rewards) < set(again) and "smtpo-no-rec/redial/seed0\tformat\t1\t0.5" in again
    main([str(meta), str(stored)], [], tmp_path / "override")
    assert (tmp_path / "override/grpo_rewards.tsv").read_text().splitlines()[1:] == [
        "smtpo/redial/seed0\tformat\t1\t0.9", "smtpo/redial/seed0\ttotal\t1\t0.9"]
    bad = tmp_path / "bad.tsv"
    bad.write_text("run\tcomponent\tstep\treward\nsmtpo\tformat\tone\t0.1\n")
    with pytest.raises(BenchmarkError, match="bad.tsv, line 2: expected run, component, integer step"):
        main([str(bad)], [], tmp_path / "x")


def test_smtpo_system_runs_the_episode_loop_and_fills_the_ranking_to_k():
    from benchmark.recommender.interactive import SMTPOSystem
    from tests.unit.test_episode import CATALOG, SAMPLES, FakeRecommender, FakeRetriever, FakeSimulator

    class Retriever(FakeRetriever):
        def candidates(self, contexts, feedbacks=None, k=None, catalog=None):
            return [ids for ids, _ in self.scored_candidates(contexts, None, None, k, catalog)]

    system = object.__new__(SMTPOSystem)  # the fakes replace the models that __init__ would load
    system.retriever, system.simulator, system.candidates, system.seed, system.turns = Retriever(), FakeSimulator(), \
        12, 0, 2
    system.generate = FakeRecommender()
    ranked = system.recommend(SAMPLES, CATALOG, 20)
    assert [len(r) for r in ranked] == [20, 20] and all(len(set(r)) == 20 for r in ranked)
    first, second = system.last_details
    assert first["turn_status"] == ["ok", "ok"] and second["turn_status"] == ["ok", "no_answer"]
    assert second["parse_status"] == "no_answer" and second["raw_text"] == "no idea"
    # the second episode's last answer did not parse: its ranking is that turn's retriever order (horror first,
    # since the simulated reply asked for horror), then the retriever's further items
    last_turn = second["episode"]["turns"][-1]
    assert ranked[1][:12] == last_turn["candidate_ids"] and "horror" in last_turn["prompt"][0]["content"]
    # answer_depth 0: the final list is the last turn's retriever order, not the episode's answered ranking
    system.answer_depth = 0
    ranked0 = system.recommend(SAMPLES, CATALOG, 20)
    episode = system.last_details[0]["episode"]
    assert ranked0[0][:12] == episode["turns"][-1]["candidate_ids"] != episode["ranking"]
