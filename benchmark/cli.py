"""``python -m benchmark <stage> ...``: one subcommand per pipeline stage (the Snakemake rules call these).

Run ``python -m benchmark <stage> --help`` for the arguments of a stage. Errors the user can fix (a missing
or malformed input, an unknown name) are printed as one ``error:`` line and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.usersim.templates import MAX_TURNS as USERSIM_MAX_TURNS


def _csv_ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def _csv(text: str) -> list[str]:
    return [x for x in text.split(",") if x]


def cmd_acquire(a) -> int:
    from benchmark.data.acquire import acquire, mirror_for

    mirror = mirror_for(a.dataset, a.mirror)
    manifest = acquire(a.dataset, a.out, mirror=mirror, download_dir=a.download_dir, progress=not a.quiet)
    status = "all official" if manifest["all_official"] else f"{len(manifest['warnings'])} not official"
    print(f"{a.dataset}: {len(manifest['files'])} raw files in {a.out} ({status})")
    return 0


def cmd_process(a) -> int:
    from benchmark.data.process import process

    aux = dict(kv.split("=", 1) for kv in a.aux)
    options = {"valid_fraction": a.valid_fraction} if a.valid_fraction is not None else {}
    stats = process(a.dataset, a.raw, a.out, seed=a.seed, options=options, aux=aux)
    for split, s in stats["splits"].items():
        print(f"{a.dataset}/{split}: {s['dialogues']} dialogues, {s['samples']} samples, "
              f"{s['target_pairs_all']} pairs (all), {s['target_pairs_fresh']} pairs (fresh)")
    print(f"{a.dataset}: catalogue {stats['catalog']['items']} items")
    return 0


def cmd_stats(a) -> int:
    from tabulate import tabulate

    from benchmark.io import read_json

    for path in a.stats:
        st = read_json(path, "a stats.json written by `python -m benchmark process`")
        keys = list(next(iter(st["splits"].values())))
        print(f"## {st['dataset']} (catalogue: {st['catalog']['items']} items, {st['catalog']['with_metadata']} "
              f"with genres or plot, {st['catalog']['untitled']} untitled)\n")
        print(tabulate([[split] + [s[k] for k in keys] for split, s in st["splits"].items()],
                       headers=["split"] + keys, tablefmt="github", intfmt=","))
        print()
    if len(a.stats) > 1:  # transfer coverage of every ordered pair of the given datasets (benchmark.data.coverage)
        from pathlib import Path

        from benchmark.data.coverage import coverage_rows

        print("## transfer coverage (test pairs whose target is in the training catalogue / has a CF vector)\n")
        print(tabulate(coverage_rows([Path(p).parent for p in a.stats]), tablefmt="github", floatfmt=".3f",
                       headers=["train -> test", "protocol", "pairs", "in train catalogue", "with CF vector",
                                "match types"]))
    return 0


def cmd_systems(a) -> int:
    from benchmark.systems import SYSTEMS, family

    for name in SYSTEMS.names():
        doc = (SYSTEMS.get(name).__doc__ or "").strip().splitlines()
        print(f"{name:20s} {family(name):11s} {SYSTEMS.target(name)}" + (f"  {doc[0]}" if doc else ""))
    return 0


def cmd_train_system(a) -> int:
    from benchmark.systems.train import train_system

    meta = train_system(a.system, a.train, a.out, seed=a.seed, params=json.loads(a.params))
    print(f"{a.system} on {meta['dataset']}: best epoch {meta['best_epoch']}, valid fresh R@10 "
          f"{meta['valid_fresh']['recall@10']:.4f}, {meta['train_seconds']:.0f} s, "
          f"peak RSS {meta['peak_rss_mb']:.0f} MB")
    return 0


def _system_params(system: str, text: str) -> dict:
    """``--params`` checked before anything runs: a JSON object whose keys the system's constructor accepts."""
    import inspect

    from benchmark.systems import SYSTEMS

    try:
        params = json.loads(text)
    except json.JSONDecodeError as e:
        raise BenchmarkError(f"--params is not valid JSON ({e.msg} at character {e.pos}): {text!r}") from None
    if not isinstance(params, dict):
        raise BenchmarkError(f"--params must be a JSON object of constructor parameters, got {text!r}")
    signature = inspect.signature(SYSTEMS.get(system))  # unknown system -> error with near matches
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    accepted = [n for n, p in signature.parameters.items() if p.kind in kinds]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return params
    unknown = sorted(set(params) - set(accepted))
    missing = [n for n in accepted if signature.parameters[n].default is inspect.Parameter.empty and n not in params]
    if unknown or missing:
        what = f"unknown key(s) {', '.join(map(repr, unknown))}" if unknown else \
            f"missing required key(s) {', '.join(map(repr, missing))}"
        raise BenchmarkError(f"--params for system {system!r}: {what}; "
                             f"accepted keys: {', '.join(accepted) or '(none)'}")
    return params


def _use_device(requested: str) -> str:
    """Check ``--device`` and make it the default of every ``resolve_device("auto")`` in this process."""
    import os

    from benchmark.device import ENV, resolve_device

    device = resolve_device(requested)
    if requested != "auto":
        os.environ[ENV] = device
    return device


def cmd_predict(a) -> int:
    from benchmark.systems.predict import predict

    params = _system_params(a.system, a.params)
    _use_device(a.device)
    n = predict(a.system, a.train, a.test, a.split, a.out, seed=a.seed, k=a.k, params=params,
                batch_size=a.batch_size, progress=not a.quiet, exclude_context=a.exclude_context, subset=a.subset)
    print(f"{a.system}: {n} predictions -> {a.out}")
    return 0


def cmd_evaluate(a) -> int:
    from benchmark.eval.evaluate import evaluate

    res = evaluate(a.predictions, a.processed, a.split, a.out, system=a.system, train_dataset=a.train_dataset,
                   test_dataset=a.test_dataset, seed=a.seed, protocol_names=a.protocols, ks=a.ks,
                   train_processed=a.train_processed, subset=a.subset)
    for name, block in res["protocols"].items():
        m = block["metrics"]
        print(f"{a.system} {a.train_dataset}->{a.test_dataset} [{name}] pairs={block['counts']['pairs']} "
              f"R@10={m['recall@10']['mean']:.4f} N@10={m['ndcg@10']['mean']:.4f} "
              f"missing={block['counts']['missing_predictions']}" if "recall@10" in m else name)
    return 0


def cmd_aggregate(a) -> int:
    from benchmark.report.aggregate import aggregate

    rows = aggregate(a.metrics, a.out)
    print(f"{len(rows)} rows -> {a.out}")
    return 0


def cmd_tables(a) -> int:
    from benchmark.report.tables import write_tables

    cells = [tuple(c.split(":")) for c in a.cells] if a.cells else None
    paths = write_tables(a.metrics, a.out_dir, a.columns, systems_order=a.systems, cells_order=cells,
                         digits=a.digits, name=a.name, title=a.title, parse_failures=a.parse_failures,
                         published=a.published, protocols=a.protocols, target=a.target)
    print(f"tables -> {paths['md']}, {paths['tex']}")
    return 0


def cmd_prepare_model(a) -> int:
    from benchmark.models.base import prepare

    meta = prepare(a.spec, a.kind, a.out)
    check = meta.get("check")
    extra = f" (logit check: max |diff| {check['max_abs_logit_diff']:.2e})" if check else ""
    print(f"{a.kind}: {meta['path']}{extra}")
    return 0


def cmd_train_semantic(a) -> int:
    from benchmark.retrieval.config import RetrieverConfig
    from benchmark.retrieval.semantic import train_semantic

    cfg = RetrieverConfig.from_yaml(a.recipe, sem_max_steps=a.max_steps)
    meta = train_semantic(a.train, a.embedder, a.out, cfg, seed=a.seed, progress=not a.quiet)
    print(f"semantic view: {meta['steps']} steps on {meta['pairs']} pairs, loss {meta['train_loss']:.4f}, "
          f"{meta['train_seconds']:.0f} s training + {meta['encode_seconds']:.0f} s encoding")
    return 0


def cmd_train_retriever(a) -> int:
    from benchmark.retrieval.config import RetrieverConfig
    from benchmark.retrieval.train import train_retriever

    cfg = RetrieverConfig.from_yaml(a.recipe)
    meta = train_retriever(a.train, a.semantic, a.out, cfg, views=tuple(a.views), fusion=a.fusion, seed=a.seed,
                           init=a.init, device=_use_device(a.device))
    print(f"retriever {'+'.join(a.views)}/{a.fusion}: best epoch {meta['best_epoch']}, valid fresh "
          + ", ".join(f"{k}={v:.4f}" for k, v in meta["valid_fresh"].items()))
    return 0


def cmd_bench_retriever(a) -> int:
    from benchmark.retrieval.bench import main

    return main(a.model, a.processed, a.batch_size, a.n)


def cmd_costs(a) -> int:
    from benchmark.report.costs import write_costs

    print(write_costs(a.metas, a.out))
    return 0


def cmd_usersim_data(a) -> int:
    from benchmark.usersim.data import main

    counts = main(a.processed, a.out, a.max_turns)
    print(f"simulator SFT records: {counts}")
    return 0


def _weights(text: str) -> dict[str, float]:
    return {k: float(v) for k, v in (kv.split("=", 1) for kv in text.split(",") if kv)}


def cmd_train_usersim(a) -> int:
    from benchmark.usersim.config import SimulatorSFTConfig
    from benchmark.usersim.train import train_usersim

    cfg = SimulatorSFTConfig.from_yaml(a.recipe, task_weights=_weights(a.tasks) if a.tasks else None,
                                       max_steps=a.max_steps)
    meta = train_usersim(a.data, a.llm, a.out, cfg, seed=a.seed, progress=not a.quiet)
    print(f"simulator SFT: {meta['steps']} steps on {meta['records']}, loss {meta['train_loss']:.4f}, "
          f"{meta['wall_seconds']:.0f} s, peak {meta['peak_rss_mb']:.0f} MB")
    return 0


def cmd_train_recommender_grpo(a) -> int:
    from benchmark.recommender.grpo import main

    if a.reward_weights:  # a variant's weights: the effective recipe (checked at load) is written beside the model
        import os

        import yaml

        from benchmark.io import write_text
        from benchmark.recommender.grpo_config import RecommenderGRPOConfig

        cfg = RecommenderGRPOConfig.from_yaml(a.recipe, reward_weights=_weights(a.reward_weights))
        a.recipe = os.path.join(a.out, "recipe.yaml")
        write_text(a.recipe, yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    meta = main(a)
    print(f"recommender GRPO: {meta['steps']} steps, {meta['seconds_per_step']:.1f} s/step, "
          f"peak {meta['peak_rss_mb']:.0f} MB")
    return 0


def cmd_eval_usersim(a) -> int:
    from benchmark.usersim.evaluate import main

    res = main(a.processed, a.llm, a.out, adapter=a.adapter, embedder=a.embedder, variant=a.variant, n=a.n,
               seed=a.seed, batch_size=a.batch_size, cache=a.cache, max_turns=a.max_turns, decoding=a.decoding)
    m = {k: (v if v is not None else float("nan")) for k, v in res["metrics"].items()}
    nan = float("nan")  # a metric a variant cannot have (no attribute sample in a tiny split, no reply model)
    print(f"{a.variant}: target hit@1 {m.get('target_hit@1', nan):.3f} hit@10 {m.get('target_hit@10', nan):.3f}, "
          f"attribute F1 {m.get('attribute_f1', nan):.3f}, feedback ppl {m.get('feedback_perplexity', nan):.1f}, "
          f"leakage {m.get('leakage_rate', nan):.3f}")
    return 0


def cmd_tune_usersim_decoding(a) -> int:
    from benchmark.usersim.tune_decoding import describe, main

    res = main(a.processed, a.llm, a.out, adapter=a.adapter, split=a.split, n=a.n, votes=a.votes,
               scoring_grid=a.scored, seed=a.seed, max_turns=a.max_turns)
    best, const = res["best"], res["trivial_popular"]
    print(f"attribute decoding on {a.split} ({res['attribute_samples']} turns): {describe(best)}: "
          f"P {best['precision']:.3f} R {best['recall']:.3f} F1 {best['f1']:.3f} "
          f"(the constant answer on the same turns: F1 {const['f1']:.3f})")
    return 0


def cmd_recommender_sft_data(a) -> int:
    from benchmark.recommender.config import RecommenderSFTConfig
    from benchmark.recommender.sft_data import main

    stats = main(a.processed, a.out, RecommenderSFTConfig.from_yaml(a.recipe), seed=a.seed, retriever_dir=a.retriever)
    print(f"recommender SFT records: train {stats['train']}, valid {stats['valid']}")
    return 0


def cmd_train_recommender_sft(a) -> int:
    from benchmark.recommender.config import RecommenderSFTConfig
    from benchmark.recommender.train_sft import train_recommender_sft

    cfg = RecommenderSFTConfig.from_yaml(a.recipe, max_steps=a.max_steps)
    meta = train_recommender_sft(a.data, a.out, cfg, llm=a.llm, seed=a.seed, progress=not a.quiet)
    print(f"recommender SFT: {meta['steps']} steps on {meta['records']} records, loss {meta['train_loss']:.4f}, "
          f"{meta['wall_seconds']:.0f} s, peak {meta['peak_rss_mb']:.0f} MB")
    return 0


def cmd_usersim_table(a) -> int:
    from benchmark.report.usersim_table import write_usersim_table

    pairs = [tuple(x.split(":", 1)) for x in a.compare]
    if any(len(pair) != 2 or not all(pair) for pair in pairs):
        raise BenchmarkError(f"usersim-table --compare: expected A:B variant pairs, got {a.compare}")
    print(write_usersim_table(a.results, a.out, a.long, pairs))
    return 0


def cmd_guard_audit(a) -> int:
    from benchmark.usersim.audit import main

    for processed, out in zip(a.processed, a.out, strict=True):
        r = main(processed, out, a.split, a.max_turns)
        print(f"guard-audit {r['dataset']} {r['split']}: {r['firings']} firings in {r['prompts']} prompts of "
              f"{r['samples']} samples {r['by_where']}")
    return 0


def cmd_crosscheck_he(a) -> int:
    from benchmark.eval.he2023 import main

    return main(a.root, a.out, tol=a.tol, processed=a.processed, test_rows=a.he_test)


def cmd_compare(a) -> int:
    from benchmark.eval.compare import compare, render

    print(render(compare(a.a, a.b, a.processed, a.split, a.metrics, a.protocols, a.n_resamples, a.seed, a.out,
                         subset=a.subset)))
    return 0


def cmd_comparisons(a) -> int:
    from benchmark.eval.compare import comparison_table, render_table
    from benchmark.io import write_text

    pairs = [tuple(x.split(":")) for x in a.pairs]
    cells = [tuple(x.split(":")) for x in a.cells]
    for pair in pairs + cells:
        if len(pair) != 2 or not all(pair):
            raise BenchmarkError(f"comparisons: expected A:B pairs and TRAIN:TEST cells, got {':'.join(pair)!r}")
    subsets = None
    if a.subset:
        bad = [x for x in a.subset if "=" not in x or not all(x.split("=", 1))]
        if bad:
            raise BenchmarkError(f"comparisons: expected --subset DATASET=IDS_FILE, got {bad[0]!r}")
        subsets = dict(x.split("=", 1) for x in a.subset)
    rows = comparison_table(pairs, cells, a.predictions, a.processed, a.seeds, a.metrics, a.protocol, a.n_resamples,
                            subsets=subsets, skip_missing=a.skip_missing)
    labels = {"title": a.title, "target": a.target, "subsets": subsets, "regenerate": a.regenerate}
    write_text(a.out, render_table(rows, a.protocol, a.n_resamples, **labels))
    write_text(Path(a.out).with_suffix(".tex"), render_table(rows, a.protocol, a.n_resamples,
                                                             tablefmt="latex_booktabs", **labels))
    skipped = sum("missing" in r for r in rows)
    print(f"{len(rows) - skipped} comparisons -> {a.out}" + (f" ({skipped} pairs not compared: no predictions)"
                                                             if skipped else ""))
    return 0


def cmd_report(a) -> int:
    from benchmark.report.html import write_report

    out = write_report(a.tables, a.figures, a.out, title=a.title, provenance=a.provenance, target=a.target)
    print(f"report ({len(a.tables)} tables, {len(a.figures)} figures) -> {out}")
    return 0


def cmd_figures(a) -> int:
    from benchmark.report.figure import write_figures

    paths = write_figures(a.out_dir, a.metrics, a.systems, a.ablation, a.transfer, a.transfer_systems, a.usersim,
                          a.metric, a.protocol)
    print("figures -> " + ", ".join(map(str, paths)))
    return 0


def cmd_compare_reference(a) -> int:
    from benchmark.report.reference import main

    exact = set(a.exact) if a.exact is not None else None
    return main(a.metrics, a.reference, tol=a.tol, quiet=a.quiet, exact=exact, require_all=a.require_all)


def cmd_release(a) -> int:
    from benchmark.report.release import release

    counts = release(a.results, a.out, merge=a.merge)
    verb = "merged" if a.merge else "released"
    print(f"{verb} {counts['metrics']} cells with their predictions (.jsonl.gz), {counts['tables']} tables, "
          f"{counts['usersim']} simulator files, {max(counts['costs'] - 1, 0)} cost rows + TOTAL -> {a.out}")
    return 0


def cmd_make_subset(a) -> int:
    from benchmark.recommender.subset import make_subset

    r = make_subset(a.processed, a.n, a.seed, a.out, split=a.split)
    print(f"subset {r['dataset']}/{r['split']}: {r['n']} samples from {r['dialogues']} dialogues -> {r['out']}")
    return 0


def cmd_answer_depth(a) -> int:
    from benchmark.recommender.depth import main

    r = main(a.processed, a.valid, a.valid_subset, a.test, a.out, k=a.k, protocol=a.protocol)
    curve = ", ".join(f"{m}: {v:.4f}" for m, v in r["chosen_on"]["curve"].items())
    print(f"answer depth {r['depth']} (valid {r['chosen_on']['metric']} by depth: {curve}) -> {a.out}")
    return 0


def cmd_plots(a) -> int:
    from benchmark.recommender.plots import main

    for path in main(a.grpo, a.turns, a.out_dir, metric=a.metric, protocol=a.protocol):
        print(f"plot -> {path}")
    return 0


def cmd_check_config(a) -> int:
    from benchmark.config import load_config

    cfg = load_config(*a.config)  # merged in order over workflow/config/config.yaml, as Snakemake merges them
    print(f"{' + '.join(a.config)}: valid ({len(cfg['run'])} systems x {len(cfg['cells'])} cells x "
          f"{len(cfg['seeds'])} seeds)")
    return 0


def _training_args(s: argparse.ArgumentParser) -> None:
    """The options every LoRA SFT stage shares."""
    s.add_argument("--max-steps", type=int, default=None, help="override the recipe's max_steps")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help="output directory (adapter + meta.json)")
    s.add_argument("--quiet", action="store_true", help="no progress lines")


# Help of the options many stages share, given where a stage's own add_argument says nothing more specific.
COMMON_HELP = {
    "dataset": "dataset name (redial, inspired)",
    "seed": "random seed of this stage (same seed, same machine: same output)",
    "out": "output path",
    "out_dir": "output directory",
    "processed": "processed dataset directory (python -m benchmark process), e.g. results/processed/redial",
    "train_processed": "processed directory of the training dataset",
    "llm": "base LLM meta.json (python -m benchmark prepare-model --kind llm)",
    "embedder": "sentence embedder meta.json (python -m benchmark prepare-model --kind embedder)",
    "split": "split to use (train, valid, test)",
    "quiet": "no progress bars",
    "batch_size": "items per forward pass",
    "train_dataset": "dataset the system was trained on (redial, inspired)",
    "test_dataset": "dataset the predictions are for; must match --processed",
    "recipe": "training recipe YAML (workflow/recipes/<stage>/cpu.yaml or gpu.yaml)",
    "max_steps": "override the recipe's max_steps",
    "variant": "simulator variant name (multitask, feedback-only, base, trivial-popular, trivial-context)",
    "n": "number of test turns (seeded sample; more than there are = all)",
    "max_turns": "dialogue turns of history in each simulator prompt",
    "adapter": "LoRA adapter directory (omit for the base model)",
    "system": "system name (python -m benchmark systems lists them)",
    "train": "training artefact or data directory of this stage",
    "tol": "absolute tolerance per value",
    "digits": "decimals in the rendered table",
    "title": "heading of the rendered table",
    "columns": "comma-separated metric columns, e.g. recall@10,ndcg@10",
    "protocols": "comma-separated evaluation protocols (all, fresh)",
    "protocol": "evaluation protocol (all, fresh)",
    "metric": "metric name, e.g. recall@10",
    "n_resamples": "bootstrap resamples",
    "kind": "which model to prepare",
    "fusion": "how the two views are combined",
}


def _fill_help(parser: argparse.ArgumentParser) -> None:
    """Give every option without a help text the shared one for its name (``COMMON_HELP``)."""
    for sub in (a for a in parser._actions if isinstance(a, argparse._SubParsersAction)):
        for sp in sub.choices.values():
            for action in sp._actions:
                if action.help is None and action.dest in COMMON_HELP:
                    action.help = COMMON_HELP[action.dest]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmark", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="stage", required=True, metavar="<stage>")

    def add(name, fn, help_):
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(fn=fn)
        return sp

    s = add("acquire", cmd_acquire, "copy a dataset's official raw files from a mirror, or download them")
    s.add_argument("dataset", help="dataset name (redial, inspired)")
    s.add_argument("--out", required=True, help="raw directory to fill, e.g. results/raw/redial")
    s.add_argument("--mirror", default=None, help="local directory in the official layout "
                   "(env BENCHMARK_MIRROR_<DATASET> overrides); omit to download the pinned URLs")
    s.add_argument("--download-dir", default=None, help="where downloads are kept (default: results/downloads/<ds>)")
    s.add_argument("--quiet", action="store_true", help="no progress bars")

    s = add("process", cmd_process, "parse raw files into dialogues, samples, catalogue and stats.json")
    s.add_argument("dataset")
    s.add_argument("--raw", required=True, help="raw directory written by `acquire`")
    s.add_argument("--out", required=True, help="processed directory, e.g. results/processed/redial")
    s.add_argument("--seed", type=int, default=0, help="data seed (ReDial validation carve-out)")
    s.add_argument("--valid-fraction", type=float, default=None, help="ReDial: fraction of train held out")
    s.add_argument("--aux", nargs="*", default=[], metavar="NAME=DIR",
                   help="raw directories of other datasets the parser reads (INSPIRED: redial=results/raw/redial)")

    add("systems", cmd_systems, "list the registered systems with their family")

    s = add("train-system", cmd_train_system, "train a system with its own training stage (sasrec, kbrd)")
    s.add_argument("system", help="registered system name with a save() (see `python -m benchmark systems`)")
    s.add_argument("--train", required=True, help="processed training dataset, e.g. results/processed/redial")
    s.add_argument("--params", default="{}", help="JSON constructor parameters (config systems.<name>.params)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help="model directory, e.g. results/models/sasrec/redial/seed0")

    s = add("stats", cmd_stats, "print the split statistics of processed datasets as Markdown tables")
    s.add_argument("stats", nargs="+", help="stats.json files, e.g. results/processed/*/stats.json")

    s = add("predict", cmd_predict, "fit a system on a training dataset and write predictions for a split")
    s.add_argument("system", help="registered system name (see `python -m benchmark systems`)")
    s.add_argument("--train", required=True, help="processed directory of the training dataset")
    s.add_argument("--test", required=True, help="processed directory of the test dataset")
    s.add_argument("--split", default="test")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--k", type=int, default=50, help="length of each ranking (default 50)")
    s.add_argument("--params", default="{}", help="JSON object of constructor parameters")
    s.add_argument("--batch-size", type=int, default=256)
    s.add_argument("--out", required=True, help="predictions JSONL path")
    s.add_argument("--quiet", action="store_true")
    s.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:<i>")
    s.add_argument("--exclude-context", action="store_true",
                   help="drop items already mentioned in the sample's context from each ranking")
    s.add_argument("--subset", default=None, help="committed sample-ids file (make-subset): predict only these")

    s = add("evaluate", cmd_evaluate, "score a predictions file under both protocol variants -> metrics JSON")
    s.add_argument("--predictions", required=True, help="JSONL (or .jsonl.gz): {sample_id, ranked_items} per line")
    s.add_argument("--processed", required=True, help="processed directory of the test dataset")
    s.add_argument("--split", default="test")
    s.add_argument("--out", required=True, help="metrics JSON path")
    s.add_argument("--system", required=True, help="name recorded in the metrics file")
    s.add_argument("--train-dataset", required=True)
    s.add_argument("--test-dataset", required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--ks", type=_csv_ints, default=[1, 5, 10, 20, 50], help="comma-separated cut-offs")
    s.add_argument("--protocols", type=_csv, default=["all", "fresh"], help="comma-separated: all,fresh")
    s.add_argument("--train-processed", default=None,
                   help="processed training dataset, for a transfer cell's coverage (default: sibling folder)")
    s.add_argument("--subset", default=None, help="committed sample-ids file (make-subset): score only these; "
                   "the metrics' split becomes <split>-subset")

    s = add("aggregate", cmd_aggregate, "collect metrics JSONs into one long TSV")
    s.add_argument("metrics", nargs="+", help="metrics JSON files")
    s.add_argument("--out", required=True)

    s = add("tables", cmd_tables, "render the main table (Markdown + LaTeX) with protocol cards")
    s.add_argument("metrics", nargs="+", help="metrics JSON files")
    s.add_argument("--out-dir", required=True)
    s.add_argument("--name", default="main", help="table file stem (default main)")
    s.add_argument("--columns", type=_csv, default=["recall@1", "recall@10", "ndcg@10", "recall@50"])
    s.add_argument("--systems", type=_csv, default=None, help="row order (default: sorted)")
    s.add_argument("--cells", nargs="*", default=None, metavar="TRAIN:TEST", help="column order")
    s.add_argument("--digits", type=int, default=4)
    s.add_argument("--title", default="Main results (test split)")
    s.add_argument("--parse-failures", action="store_true",
                   help="add each cell's parse-failure rate of the LLM answers (LLM tables)")
    s.add_argument("--published", default=None, help="baselines/published.yaml: add the block of numbers "
                   "reported in papers, not reproduced here")
    s.add_argument("--protocols", type=_csv, default=["all", "fresh"], help="protocols rendered, comma-separated")
    s.add_argument("--target", default="tables", help="the Snakemake target named under the heading "
                   "(default tables; the LLM table: recommender, the ablations table: ablations)")

    s = add("prepare-model", cmd_prepare_model, "turn a model spec into a loadable directory + meta.json "
            "(GGUF inside a PyPI package -> safetensors, verified by logits)")
    s.add_argument("--spec", required=True, help="pypi-gguf:<module>/<file>.gguf, pypi:<module>/<dir>, a dir or hub id")
    s.add_argument("--kind", required=True, choices=["llm", "embedder"])
    s.add_argument("--out", required=True)

    s = add("train-semantic", cmd_train_semantic, "fine-tune the sentence embedder contrastively (semantic view)")
    s.add_argument("--train", required=True, help="processed directory of the training dataset")
    s.add_argument("--embedder", required=True, help="meta.json of the prepared embedder")
    s.add_argument("--recipe", required=True, help="retriever recipe YAML (workflow/recipes/retriever/)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--max-steps", type=int, default=None, help="override sem_max_steps (quick runs)")
    s.add_argument("--out", required=True)
    s.add_argument("--quiet", action="store_true")

    s = add("train-retriever", cmd_train_retriever, "train the CF view + cross-attention fusion; build the index")
    s.add_argument("--train", required=True)
    s.add_argument("--semantic", required=True, help="directory written by train-semantic")
    s.add_argument("--recipe", required=True)
    s.add_argument("--views", type=_csv, default=["semantic", "cf"], help="semantic,cf (one or both)")
    s.add_argument("--fusion", choices=["attention", "sum"], default="attention")
    s.add_argument("--init", default=None, help="trained variant directory to warm-start from")
    s.add_argument("--device", default="auto", help="auto (CUDA when present, bf16), cpu, cuda or cuda:<i>")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True)

    s = add("bench-retriever", cmd_bench_retriever, "measure batched retriever query throughput (queries/s)")
    s.add_argument("--model", required=True, help="trained retriever directory")
    s.add_argument("--processed", required=True, help="processed dataset whose test samples are the queries")
    s.add_argument("--batch-size", type=int, default=256)
    s.add_argument("--n", type=int, default=2048, help="number of queries")

    s = add("costs", cmd_costs, "tabulate training cost (time, memory, steps) from retriever meta.json files")
    s.add_argument("metas", nargs="+", help="results/models/retriever/*/*/seed*/meta.json")
    s.add_argument("--out", required=True)

    s = add("usersim-data", cmd_usersim_data, "build the simulator's multi-task SFT records from real dialogues")
    s.add_argument("--processed", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--max-turns", type=int, default=USERSIM_MAX_TURNS, help="history turns in each prompt")

    s = add("train-usersim", cmd_train_usersim, "LoRA SFT of the user simulator (TRL SFTTrainer + PEFT)")
    s.add_argument("--data", required=True, help="directory written by usersim-data")
    s.add_argument("--llm", required=True, help="meta.json of the prepared base LLM")
    s.add_argument("--recipe", required=True, help="workflow/recipes/usersim/*.yaml")
    s.add_argument("--tasks", default=None, help="task weights, e.g. feedback=1,attributes=1,target=1")
    _training_args(s)

    s = add("train-recommender-grpo", cmd_train_recommender_grpo, "multi-turn GRPO of the recommender (TRL "
            "GRPOTrainer + rollout_func; simulator in the loop)")
    s.add_argument("--train", required=True, help="processed directory of the training dataset")
    s.add_argument("--llm", required=True, help="meta.json of the prepared base LLM (or a directory / hub id)")
    s.add_argument("--sft", default=None, help="recommender SFT adapter directory to train further (else new LoRA)")
    s.add_argument("--retriever", required=True, help="trained candidate retriever directory")
    s.add_argument("--simulator", default=None, help="simulator adapter directory, 'base' (untrained) or 'none'")
    s.add_argument("--sim-llm", default=None, help="the simulator's base LLM (default: --llm)")
    s.add_argument("--recipe", required=True, help="workflow/recipes/recommender/grpo/*.yaml")
    s.add_argument("--turns", type=int, default=None, help="override the recipe's T")
    s.add_argument("--reward-weights", default=None, help="override the recipe's reward_weights, e.g. "
                   "format=0.2,recommend=1,preference=0 (the effective recipe is written to <out>/recipe.yaml)")
    s.add_argument("--max-steps", type=int, default=None)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True)
    s.add_argument("--quiet", action="store_true")

    s = add("eval-usersim", cmd_eval_usersim, "simulator quality on a seeded subset of test turns")
    s.add_argument("--processed", required=True)
    s.add_argument("--llm", required=True)
    s.add_argument("--adapter", default=None, help="LoRA adapter directory (omit for the base model)")
    s.add_argument("--embedder", default=None, help="embedder meta.json for the feedback cosine")
    s.add_argument("--variant", default="")
    s.add_argument("--n", type=int, default=100, help="test turns sampled (seeded)")
    s.add_argument("--max-turns", type=int, default=USERSIM_MAX_TURNS, help="history turns in each prompt")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--batch-size", type=int, default=16)
    s.add_argument("--cache", default=None, help="generation cache (JSON lines; record/replay)")
    s.add_argument("--decoding", default=None, help="attribute decoding chosen on valid (tune-usersim-decoding JSON)")
    s.add_argument("--out", required=True)

    s = add("tune-usersim-decoding", cmd_tune_usersim_decoding,
            "choose the simulator's attribute decoding (greedy, scored, vote) on valid")
    s.add_argument("--processed", required=True)
    s.add_argument("--llm", required=True)
    s.add_argument("--adapter", default=None, help="LoRA adapter directory (omit for the base model)")
    s.add_argument("--split", default="valid", help="split the decoding is chosen on (never test)")
    s.add_argument("--n", type=int, default=100, help="turns sampled (seeded)")
    s.add_argument("--votes", type=int, default=0,
                   help="sampled answers per turn for the vote grid (0: no vote grid; 8 cost ~18 min on 2 cores)")
    s.add_argument("--scored", action=argparse.BooleanOptionalAction, default=True,
                   help="include the scored (calibrated genre likelihood) grid")
    s.add_argument("--max-turns", type=int, default=USERSIM_MAX_TURNS, help="history turns in each prompt")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True)

    s = add("recommender-sft-data", cmd_recommender_sft_data, "reasoning-trace SFT records over retriever candidates")
    s.add_argument("--processed", required=True)
    s.add_argument("--retriever", required=True, help="trained retriever directory (Snakemake rule train_retriever)")
    s.add_argument("--recipe", required=True, help="workflow/recipes/recommender/sft/*.yaml (K, targets, injection)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True)

    s = add("train-recommender-sft", cmd_train_recommender_sft, "LoRA SFT of the reasoning recommender (TRL + PEFT)")
    s.add_argument("--data", required=True, help="directory written by recommender-sft-data")
    s.add_argument("--llm", default=None, help="base model: meta.json, directory or hub id (default: recipe model)")
    s.add_argument("--recipe", required=True, help="workflow/recipes/recommender/sft/*.yaml")
    _training_args(s)

    s = add("guard-audit", cmd_guard_audit, "how often the simulator's leakage guard fires on a split (no model)")
    s.add_argument("--processed", required=True, nargs="+", help="processed dataset directories")
    s.add_argument("--out", required=True, nargs="+", help="one audit JSON per dataset")
    s.add_argument("--split", default="test")
    s.add_argument("--max-turns", type=int, default=USERSIM_MAX_TURNS, help="history turns in each prompt")

    s = add("usersim-table", cmd_usersim_table, "render the simulator-quality table")
    s.add_argument("results", nargs="+", help="results/usersim/eval/*/*/seed*.json")
    s.add_argument("--out", required=True)
    s.add_argument("--long", help="also write every value as a long TSV (the layout of metrics_long.tsv)")
    s.add_argument("--compare", nargs="*", default=[], metavar="A:B",
                   help="variant pairs: paired differences of attribute F1 and target hit@10 (per-sample files "
                        "beside each JSON)")

    s = add("crosscheck-he", cmd_crosscheck_he, "recompute He et al. (CIKM 2023) INSPIRED metrics and compare")
    s.add_argument("--root", required=True, help="folder of the released predictions (see its README.md)")
    s.add_argument("--out", default=None, help="JSON report path")
    s.add_argument("--tol", type=float, default=1e-6)
    s.add_argument("--processed", default=None, help="our processed INSPIRED: also score their predictions on it")
    s.add_argument("--he-test", default=None, help="their data/inspired/test.jsonl (default: beside --root)")

    s = add("compare", cmd_compare, "paired dialogue-level bootstrap: difference A - B on the same samples")
    s.add_argument("--a", required=True, help="predictions JSONL of system A")
    s.add_argument("--b", required=True, help="predictions JSONL of system B (same test samples)")
    s.add_argument("--processed", required=True, help="processed directory of the test dataset")
    s.add_argument("--split", default="test")
    s.add_argument("--metrics", type=_csv, default=["recall@10", "ndcg@10"], help="comma-separated")
    s.add_argument("--protocols", type=_csv, default=["all", "fresh"])
    s.add_argument("--n-resamples", type=int, default=1000)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", default=None, help="JSON report path")
    s.add_argument("--subset", default=None, help="committed sample-ids file (make-subset): compare only these "
                   "samples, e.g. for predictions made with predict --subset")

    s = add("comparisons", cmd_comparisons, "the paired-comparisons table: A - B with a paired dialogue-level "
            "bootstrap interval for every configured pair on every cell (Markdown + LaTeX)")
    s.add_argument("--pairs", nargs="+", required=True, metavar="A:B", help="system pairs, e.g. dualview:cf-only")
    s.add_argument("--cells", nargs="+", required=True, metavar="TRAIN:TEST",
                   help="cells compared, e.g. redial:redial inspired:inspired")
    s.add_argument("--predictions", default="results/predictions", help="predictions root")
    s.add_argument("--processed", default="results/processed", help="processed root (one folder per dataset)")
    s.add_argument("--seeds", type=int, nargs="+", default=[0],
                   help="seeds averaged per system (those it has predictions for; at least one)")
    s.add_argument("--metrics", type=_csv, default=["recall@10", "ndcg@10"], help="comma-separated metrics")
    s.add_argument("--protocol", default="fresh")
    s.add_argument("--n-resamples", type=int, default=1000)
    s.add_argument("--subset", nargs="+", default=None, metavar="DATASET=IDS_FILE",
                   help="compare only these samples of each test dataset, from <system>/<train>/<test>/test-subset/ "
                   "(the LLM systems' predictions); every cell's test dataset needs one")
    s.add_argument("--skip-missing", action="store_true",
                   help="list pairs whose predictions are missing in a cell under the table instead of failing "
                   "(for a partial table rendered by hand; the workflow makes every file)")
    s.add_argument("--title", default="Paired comparisons", help="the Markdown heading")
    s.add_argument("--target", default="comparisons", help="the Snakemake target named under the heading")
    s.add_argument("--regenerate", default=None, metavar="TEXT",
                   help="say this under the heading instead of `snakemake TARGET`, for a table no target makes "
                   "(e.g. \"the commands in docs/recommender.md, 'Remedies'\")")
    s.add_argument("--out", required=True, help="Markdown path (the .tex goes beside it)")

    s = add("report", cmd_report, "one self-contained HTML page of every rendered table and figure")
    s.add_argument("tables", nargs="+", help="Markdown tables rendered by the workflow (results/tables/*.md)")
    s.add_argument("--figures", nargs="*", default=[], help="PNG figures to embed")
    s.add_argument("--provenance", nargs="*", default=[], help="metrics JSONs whose provenance is summarised")
    s.add_argument("--title", default=None, help="page title (default: the benchmark's results page)")
    s.add_argument("--target", default="report", help="the Snakemake target named as the way to regenerate the page")
    s.add_argument("--out", required=True, help="HTML path, e.g. results/tables/report.html")

    s = add("figures", cmd_figures, "the report's figures: bars with intervals, Recall@k curves, transfer heat map, "
            "simulator quality (PNG + TSV of the plotted values)")
    s.add_argument("--metrics", nargs="*", default=[], help="metrics JSONs of the main table")
    s.add_argument("--systems", type=_csv, default=[], help="main-table systems, in order")
    s.add_argument("--ablation", type=_csv, default=[], help="systems of the ablation figure")
    s.add_argument("--transfer", nargs="*", default=[], help="metrics JSONs of the transfer table")
    s.add_argument("--transfer-systems", type=_csv, default=[], help="rows of the transfer heat map")
    s.add_argument("--usersim", nargs="*", default=[], help="simulator evaluation JSONs")
    s.add_argument("--metric", default="recall@10")
    s.add_argument("--protocol", default="fresh")
    s.add_argument("--out-dir", required=True)

    s = add("compare-reference", cmd_compare_reference, "compare a long metrics TSV with the reference metrics")
    s.add_argument("--metrics", required=True, nargs="+", help="long TSVs (metrics_long.tsv, usersim_long.tsv)")
    s.add_argument("--reference", required=True, nargs="+", help="the reference TSVs, in the same order")
    s.add_argument("--tol", type=float, default=1e-9)
    s.add_argument("--quiet", action="store_true", help="print only cells that are off")
    s.add_argument("--exact", type=_csv, default=None, help="comma-separated deterministic systems, held to --tol; "
                   "every other system is graded OK / OKish (within its measured band) / FAIL. Default: all exact")
    s.add_argument("--require-all", action="store_true", help="a reference cell this run did not produce fails")

    s = add("release", cmd_release, "make the committed reference from a finished run: tables, metrics JSONs, "
            "every cell's predictions as .jsonl.gz, costs.tsv (with a TOTAL row) and a sha256 MANIFEST.tsv")
    s.add_argument("--results", default="results", help="results root of a finished `snakemake all` run")
    s.add_argument("--out", default="results/reference", help="reference folder (its README.md is kept)")
    s.add_argument("--merge", action="store_true", help="overlay a run of part of the workflow (e.g. `snakemake "
                   "usersim`) on the existing reference: its files replace theirs, the rest is kept, costs.tsv "
                   "keeps the steps it did not rerun")

    s = add("make-subset", cmd_make_subset, "draw the fixed, seeded evaluation subset of the LLM systems "
            "(samples with a fresh target, one per dialogue in turn) and write its ids file")
    s.add_argument("--processed", required=True, help="processed dataset directory")
    s.add_argument("--n", type=int, required=True, help="number of samples")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--split", default="test")
    s.add_argument("--out", required=True, help="ids file, e.g. workflow/config/subsets/redial-test-200.txt")

    s = add("answer-depth", cmd_answer_depth, "choose on validation how many of an LLM recommender's answered "
            "items to trust before the retriever's order, and re-rank its test predictions (no model is run)")
    s.add_argument("--processed", required=True, help="processed dataset directory (its valid.samples.jsonl)")
    s.add_argument("--valid", required=True, help="the system's predictions on the validation split")
    s.add_argument("--valid-subset", default=None, help="ids file the validation predictions were made on")
    s.add_argument("--test", required=True, help="the system's test predictions (with their .meta.json)")
    s.add_argument("--out", required=True, help="re-ranked test predictions JSONL (+ .meta.json beside it)")
    s.add_argument("--k", type=int, default=50, help="length of each ranking")
    s.add_argument("--protocol", default="fresh")

    s = add("plots", cmd_plots, "recommender plots: GRPO reward components per step; Recall@10 against turns T")
    s.add_argument("--grpo", nargs="*", default=[],
                   help="GRPO meta.json files (their reward_log) and/or grpo_rewards.tsv files written before "
                   "(runs whose models are gone; a meta.json of the same run wins)")
    s.add_argument("--turns", nargs="*", default=[], metavar="T=METRICS_JSON",
                   help="metrics JSONs of one system evaluated with T inference turns, e.g. 1=a.json 2=b.json")
    s.add_argument("--metric", default="recall@10")
    s.add_argument("--protocol", default="fresh")
    s.add_argument("--out-dir", required=True)

    s = add("check-config", cmd_check_config, "validate a workflow config (or an overlay such as "
            "workflow/config/baselines.yaml, merged over config.yaml as Snakemake does) against its schema")
    s.add_argument("--config", nargs="+", default=["workflow/config/config.yaml"],
                   help="config file(s), merged in order over workflow/config/config.yaml")
    _fill_help(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except BenchmarkError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
