# Helpers that turn the config into file lists. No pipeline logic here.

import json
import re
import sys
from pathlib import Path

from benchmark.registry import unknown_name


def fail(message):
    """A user's typo (a target naming an unknown system or dataset): one `error:` line and exit status 2, no
    traceback. SystemExit passes through Snakemake's handling of input-function exceptions (it catches Exception)."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def checked(kind, name, known, where=""):
    """`name` if it is in `known`, else fail naming the known names and near matches."""
    if name not in known:
        fail(f"{where}{unknown_name(kind, name, known)}")
    return name


def system_config(name):
    """config["systems"][name], or a clear error for a misspelt system in a target path."""
    return config["systems"][checked("system", name, config["systems"], "target names ")]


# The path parts of a requested file that name a system, a dataset or a model variant (relative to the results
# folder): metrics|predictions/<system>/<train>/<test>/..., processed|raw/<dataset>/...,
# models/semantic/<dataset>/..., models/retriever|usersim/<variant>/<dataset>/...
TARGET_PATTERNS = [
    r"(?:metrics|predictions)/(?P<system>[^/]+)/(?P<train>[^/]+)/(?P<test>[^/]+)/",
    r"(?:processed|raw)/(?P<dataset>[^/]+)(?:/|$)",
    r"models/semantic/(?P<dataset>[^/]+)/",
    r"models/(?P<stage>retriever|usersim)/(?P<variant>[^/]+)/(?P<dataset>[^/]+)/",
]


def check_targets(targets):
    """Fail early, with near matches, on a requested file that names an unknown system, dataset or variant
    (Snakemake would report a KeyError inside an input function, or 'no rule to produce' without saying why)."""
    known = {"system": config["systems"], "train": config["datasets"], "test": config["datasets"],
             "dataset": config["datasets"]}
    for target in targets:
        rel = os.path.relpath(os.path.abspath(target), os.path.abspath(R))
        for pattern in TARGET_PATTERNS:
            m = re.match(pattern, rel)
            for key, name in (m.groupdict() if m else {}).items():
                if key in known:
                    checked("dataset" if key != "system" else "system", name, known[key], f"{target}: ")
                elif key == "variant":
                    stage = m.group("stage")
                    variants = config["retriever"]["variants"] if stage == "retriever" else config["usersim"]["variants"]
                    checked(f"{stage} variant", name, variants, f"{target}: ")


def system_impl(wildcards):
    return system_config(wildcards.system).get("system", wildcards.system)


def cell_seeds(system, train):
    """Seeds of one (system, training dataset): `seed_sweep.seeds` if it lists the system under that dataset, else
    `seeds`."""
    sweep = config.get("seed_sweep") or {}
    if sweep.get("seeds") and system in (sweep.get("systems") or {}).get(train, []):
        return sweep["seeds"]
    return config["seeds"]


def metrics_files(test=None, systems=None, cells=None):
    """Metrics JSONs of every (system in `run` or `systems`, cell of `cells` or the config's, seed), optionally
    only cells tested on `test`."""
    return [
        f"{R}/metrics/{system}/{train}/{t}/seed{seed}.json"
        for system in (systems or config["run"])
        for train, t in (cells or config["cells"])
        for seed in cell_seeds(system, train)
        if test is None or t == test
    ]


def reference_inputs(all_inputs):
    if not (config.get("seed_sweep") or {}).get("seeds"):
        fail("target reference runs the seed sweep of the reference overlay: add "
             "--configfile workflow/config/reference.yaml")
    return all_inputs


def reproduce_inputs():
    return [f"{R}/tables/metrics_long.tsv"] + ([f"{R}/tables/usersim_long.tsv"] if config["reference"].get("usersim") else [])


def reproduce_references():
    return [config["reference"]["metrics"]] + ([config["reference"]["usersim"]] if config["reference"].get("usersim") else [])


# Figures of `all` (rule figures, benchmark/report/figure.py), in the order the report shows them.
FIGURES = ["main_fresh_recall", "ablation_fresh_recall", "recall_at_k", "transfer_heatmap", "usersim"]

TRANSFER_CELLS = [(a, b) for a in DATASETS for b in DATASETS]  # both directions and the in-domain diagonal


def transfer_metrics_files():
    """The transfer table's cells: those of `cells` as the main table has them (seed sweep included), the others
    (INSPIRED->ReDial) on `seeds` only: each is a ReDial-test prediction (~2-3 min on 2 cores per retriever)."""
    systems = config["tables"]["transfer"]["systems"]
    extra = [c for c in TRANSFER_CELLS if list(c) not in config["cells"]]
    return metrics_files(systems=systems, cells=[tuple(c) for c in config["cells"]]) + [
        f"{R}/metrics/{s}/{a}/{b}/seed{seed}.json" for s in systems for a, b in extra for seed in config["seeds"]]


def comparison_inputs(wildcards=None):
    """Predictions of both systems of every configured pair, on every cell and each of its seeds (cell_seeds),
    and the test samples."""
    systems = sorted({s for pair in config["tables"]["comparisons"]["pairs"] for s in pair})
    return {"predictions": [f"{R}/predictions/{s}/{a}/{b}/seed{seed}.jsonl" for s in systems for a, b in config["cells"]
                            for seed in cell_seeds(s, a)],
            "stats": [f"{R}/processed/{b}/stats.json" for b in sorted({b for _, b in config["cells"]})]}


def mirror_arg(dataset):
    mirror = config["datasets"][dataset].get("mirror")
    return f"--mirror {mirror}" if mirror else ""


def crosscheck_outputs():
    return [f"{R}/crosscheck/he2023.json"] if config["crosscheck"].get("he2023_root") else []


def cells_arg(test=None):
    return " ".join(f"{a}:{b}" for a, b in config["cells"] if test is None or b == test)


def process_inputs(wildcards):
    # INSPIRED takes its item metadata from ReDial's id2info.json through the unified movie key.
    inputs = {"manifest": f"{R}/raw/{wildcards.dataset}/manifest.json"}
    if wildcards.dataset == "inspired":
        inputs["redial"] = f"{R}/raw/redial/manifest.json"
    return inputs


def process_options(wildcards):
    if wildcards.dataset == "redial":
        return f"--valid-fraction {config['datasets']['redial']['valid_fraction']}"
    return f"--aux redial={R}/raw/redial"


def model_input(system, train, seed):
    """The prepared-model file a system configuration `uses` (empty if none)."""
    uses = system_config(system).get("uses")
    if not uses:
        return []
    if uses in ("embedder", "llm"):
        return [f"{R}/models/base/{uses}/meta.json"]
    if uses.startswith("recommender/"):  # several models (recommender.smk): the base LLM or the retriever first
        return list(recommender_inputs(system, train, seed).values())
    if uses.startswith("trained/"):  # a baseline with its own training step (train_sasrec / train_kbrd in models.smk)
        return [f"{R}/models/{uses.split('/', 1)[1]}/{train}/seed{seed}/meta.json"]
    variant = uses.split("/", 1)[1]
    return [f"{R}/models/retriever/{variant}/{train}/seed{seed}/meta.json"]


def predict_inputs(wildcards):
    inputs = {"train": f"{R}/processed/{wildcards.train}/stats.json",
              "test": f"{R}/processed/{wildcards.test}/stats.json"}
    if system_config(wildcards.system).get("uses", "").startswith("recommender/"):
        inputs.update(recommender_inputs(wildcards.system, wildcards.train, wildcards.seed))  # llm, retriever, ...
        return inputs
    model = model_input(wildcards.system, wildcards.train, wildcards.seed)
    if model:
        inputs["model"] = model[0]
    return inputs


def system_params(wildcards, input):
    params = dict(system_config(wildcards.system).get("params", {}))
    if "model" in input.keys():
        # a base model is passed as its meta.json, a trained retriever or baseline as its directory
        base = "/models/base/" in input.model
        params["model"] = input.model if base else os.path.dirname(input.model)
    params.update(recommender_params(wildcards, input))  # LLM systems: llm, retriever, adapter, simulator (recommender.smk)
    return json.dumps(params, sort_keys=True)


def retriever_variant(wildcards):
    return config["retriever"]["variants"][wildcards.variant]


def table_args(systems, metrics, test=None):
    return (f"--columns {','.join(metrics)} --systems {','.join(systems)} --cells {cells_arg(test)} "
            f"--digits {config['tables']['digits']}")


def retrieval_metrics_files():
    return metrics_files(systems=config["tables"].get("retrieval", {}).get("systems", []))


def retriever_metas():
    """meta.json of every retriever variant used by a system in `run`, per training dataset and seed."""
    out = []
    for system in config["run"]:
        uses = config["systems"][system].get("uses", "")
        if uses.startswith("retriever/"):
            for train in sorted({a for a, _ in config["cells"]}):
                for seed in cell_seeds(system, train):
                    out.append(f"{R}/models/retriever/{uses.split('/', 1)[1]}/{train}/seed{seed}/meta.json")
    return out


def retriever_init(wildcards):
    init = config["retriever"]["variants"][wildcards.variant].get("init")
    return {"init": f"{R}/models/retriever/{init}/{wildcards.dataset}/seed{wildcards.seed}/meta.json"} if init else {}


def usersim_eval_files():
    return [f"{R}/usersim/eval/{v}/{d}/seed{s}.json" for v in config["usersim"]["variants"]
            for d in config["usersim"]["datasets"] for s in config["seeds"]]


def usersim_model_inputs(wildcards):
    """The base LLM, the processed dataset and, for an SFT variant (not null), its adapter's meta.json."""
    variant = checked("usersim variant", wildcards.uvariant, config["usersim"]["variants"], "target names ")
    inputs = {"llm": f"{R}/models/base/llm/meta.json", "stats": f"{R}/processed/{wildcards.dataset}/stats.json"}
    if config["usersim"]["variants"][variant] is not None:
        inputs["adapter"] = f"{R}/models/usersim/{variant}/{wildcards.dataset}/seed{wildcards.seed}/meta.json"
    return inputs


def usersim_eval_inputs(wildcards):
    return {**usersim_model_inputs(wildcards), "embedder": f"{R}/models/base/embedder/meta.json"}


def usersim_weights(wildcards):
    weights = config["usersim"]["variants"][wildcards.uvariant]
    return ",".join(f"{k}={v}" for k, v in sorted(weights.items()))


def report_warnings(since):
    """Print, once each, the lines starting with WARNING (or acquire's boxed '!! WARNING') of the rule logs written
    since `since` (the start of this run): a non-official data file or a cell with missing predictions must reach
    the console, not only a per-rule log."""
    seen = {}
    for log in sorted(Path(R, "logs").rglob("*.log")) if Path(R, "logs").is_dir() else []:
        if log.stat().st_mtime < since:
            continue
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            text = line.strip().removeprefix("!! ").strip()
            if text.startswith("WARNING"):
                seen.setdefault(text, log)
    if seen:
        print(f"\n{len(seen)} warning(s) in the logs of this run:", file=sys.stderr)
        for text, log in seen.items():
            print(f"  {text}  [{log}]", file=sys.stderr)
        print(file=sys.stderr, flush=True)


def requested_targets():
    """The targets on this process's command line (Snakemake sets its DAG settings only after parsing the
    Snakefile, so they are read back from argv with Snakemake's own parser; job subprocesses name valid files)."""
    try:
        from snakemake.cli import get_argument_parser

        return get_argument_parser().parse_known_args(sys.argv[1:])[0].targets or ()
    except (Exception, SystemExit):  # not a snakemake command line (e.g. the API): input functions still check
        return ()


# Requested files are checked once, when the workflow is parsed (named rules such as `all` are not paths under R).
check_targets(requested_targets())


def trained_system_params(name):
    """Constructor params of a baseline with its own training step (config `uses: trained/<name>`)."""
    return json.dumps(config["systems"][name].get("params", {}), sort_keys=True)


USERSIM_TRIVIAL = ["trivial-popular", "trivial-context"]  # answerers of the simulator table (usersim/trivial.py)


def usersim_trivial_files():
    return [f"{R}/usersim/eval/{v}/{d}/seed{s}.json" for v in USERSIM_TRIVIAL
            for d in config["usersim"]["datasets"] for s in config["seeds"]]


def usersim_eval_inputs_decoding(wildcards):
    """usersim_eval_inputs + the attribute decoding chosen on valid (rule tune_usersim_decoding), for every model
    variant (the base model too: the same decoding procedure for all, so the rows differ only in training)."""
    inputs = usersim_eval_inputs(wildcards)
    if config["usersim"].get("attribute_decoding"):
        inputs["decoding"] = (f"{R}/usersim/decoding/{wildcards.uvariant}/{wildcards.dataset}/"
                              f"seed{wildcards.seed}.json")
    return inputs
