# Helpers that turn the config into file lists. No pipeline logic here.

import json


def metrics_files(test=None):
    """Metrics JSONs of every (system in `run`, cell, seed), optionally only cells tested on `test`."""
    return [
        f"{R}/metrics/{system}/{train}/{t}/seed{seed}.json"
        for system in config["run"]
        for train, t in config["cells"]
        for seed in config["seeds"]
        if test is None or t == test
    ]


def system_impl(wildcards):
    return config["systems"][wildcards.system].get("system", wildcards.system)


def system_params(wildcards):
    return json.dumps(config["systems"][wildcards.system].get("params", {}), sort_keys=True)


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
