# Helpers that turn the config into file lists. No pipeline logic here.

import json


def metrics_files(test=None, systems=None):
    """Metrics JSONs of every (system in `run` or `systems`, cell, seed), optionally only cells tested on `test`."""
    return [
        f"{R}/metrics/{system}/{train}/{t}/seed{seed}.json"
        for system in (systems or config["run"])
        for train, t in config["cells"]
        for seed in config["seeds"]
        if test is None or t == test
    ]


def system_impl(wildcards):
    return config["systems"][wildcards.system].get("system", wildcards.system)


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
    uses = config["systems"][system].get("uses")
    if not uses:
        return []
    if uses in ("embedder", "llm"):
        return [f"{R}/models/base/{uses}/meta.json"]
    variant = uses.split("/", 1)[1]
    return [f"{R}/models/retriever/{variant}/{train}/seed{seed}/meta.json"]


def predict_inputs(wildcards):
    inputs = {"train": f"{R}/processed/{wildcards.train}/stats.json",
              "test": f"{R}/processed/{wildcards.test}/stats.json"}
    model = model_input(wildcards.system, wildcards.train, wildcards.seed)
    if model:
        inputs["model"] = model[0]
    return inputs


def system_params(wildcards, input):
    params = dict(config["systems"][wildcards.system].get("params", {}))
    if "model" in input.keys():
        # a base model is passed as its meta.json, a trained retriever as its directory
        base = "/models/base/" in input.model
        params["model"] = input.model if base else os.path.dirname(input.model)
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
                for seed in config["seeds"]:
                    out.append(f"{R}/models/retriever/{uses.split('/', 1)[1]}/{train}/seed{seed}/meta.json")
    return out


def retriever_init(wildcards):
    init = config["retriever"]["variants"][wildcards.variant].get("init")
    return {"init": f"{R}/models/retriever/{init}/{wildcards.dataset}/seed{wildcards.seed}/meta.json"} if init else {}


def usersim_eval_files():
    return [f"{R}/usersim/eval/{v}/{d}/seed{s}.json" for v in config["usersim"]["variants"]
            for d in config["usersim"]["datasets"] for s in config["seeds"]]


def usersim_eval_inputs(wildcards):
    inputs = {"llm": f"{R}/models/base/llm/meta.json", "embedder": f"{R}/models/base/embedder/meta.json",
              "stats": f"{R}/processed/{wildcards.dataset}/stats.json"}
    if config["usersim"]["variants"][wildcards.uvariant] is not None:
        inputs["adapter"] = f"{R}/models/usersim/{wildcards.uvariant}/{wildcards.dataset}/seed{wildcards.seed}/meta.json"
    return inputs


def usersim_weights(wildcards):
    weights = config["usersim"]["variants"][wildcards.uvariant]
    return ",".join(f"{k}={v}" for k, v in sorted(weights.items()))
