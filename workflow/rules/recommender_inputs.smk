# Helpers of workflow/rules/recommender.smk that turn the recommender config into file lists and stage arguments.

from types import SimpleNamespace

RC = config["recommender"]
LLM_TABLE = config["tables"].get("llm", {"split": config["eval"]["split"], "systems": [], "metrics": ["recall@10"]})
LLM_SPLIT = LLM_TABLE["split"]  # test-subset (CPU profile) or test (GPU profile: the whole split)


def split_part(split):
    """The path part of a split: none for eval.split (the main table's files), `<split>/` otherwise."""
    return "" if split == config["eval"]["split"] else f"{split}/"


def split_title():
    if LLM_SPLIT == "test-subset":
        return f"fixed subset of {config['eval']['subset']['n']} test samples per dataset, eval.subset"
    return f"{LLM_SPLIT} split"


def llm_metrics_files(systems, cells=None):
    """Metrics JSONs of `systems` on the LLM table's split, for every cell (or `cells`) and seed."""
    return [f"{R}/metrics/{s}/{a}/{b}/{split_part(LLM_SPLIT)}seed{seed}.json"
            for s in systems for a, b in (cells or config["cells"]) for seed in config["seeds"]]


def llm_pair_inputs(key, allowed):
    """Input function of a comparisons rule over the pairs of tables.llm.<key> (systems must be in tables.llm.<allowed
    ...>): predictions of both systems of every pair on every cell and seed (on the LLM split), the test samples (one
    stats.json per test dataset, sorted), and for the subset split each test dataset's ids file in the same order
    (llm_subset_arg pairs them up)."""

    def inputs(wildcards=None):
        pairs = LLM_TABLE.get(key, [])
        if not pairs:
            fail(f"tables.llm.{key} is empty: name at least one [A, B] pair of tables.llm.{' or '.join(allowed)}")
        known = {s for name in allowed for s in LLM_TABLE.get(name, [])}
        if unknown := sorted({s for pair in pairs for s in pair} - known):
            fail(f"tables.llm.{key} names {unknown}, which are not in tables.llm.{' or '.join(allowed)}")
        systems = sorted({s for pair in pairs for s in pair})
        tests = sorted({b for _, b in config["cells"]})
        out = {"predictions": [f"{R}/predictions/{s}/{a}/{b}/{split_part(LLM_SPLIT)}seed{seed}.jsonl"
                               for s in systems for a, b in config["cells"] for seed in config["seeds"]],
               "stats": [f"{R}/processed/{b}/stats.json" for b in tests]}
        if LLM_SPLIT == "test-subset":
            out["subsets"] = [subset_file(SimpleNamespace(test=b)) for b in tests]
        return out

    return inputs


llm_comparison_inputs = llm_pair_inputs("comparisons", ["systems"])
ablation_comparison_inputs = llm_pair_inputs("ablation_comparisons", ["ablations", "systems"])


def llm_subset_arg(wildcards, input):
    """--subset DATASET=ids ... of the comparisons stage on the subset split; nothing on the whole split."""
    if LLM_SPLIT != "test-subset":
        return ""
    tests = [Path(stats).parent.name for stats in input.stats]
    return "--subset " + " ".join(f"{b}={path}" for b, path in zip(tests, input.subsets))


def subset_file(wildcards):
    """The committed subset ids file of the test dataset (eval.subset.files), or a clear error naming its maker."""
    subset = config["eval"].get("subset")
    if not subset or wildcards.test not in subset["files"]:
        fail(f"tables.llm.split is test-subset but eval.subset.files has no entry for {wildcards.test}")
    path = subset["files"][wildcards.test]
    if not os.path.isfile(path):
        fail(f"subset file {path} is missing: make it with `snakemake {R}/subsets/{wildcards.test}-test-"
             f"{subset['n']}-seed{subset['seed']}.txt` (rule make_subset) and copy it there (it is committed)")
    return path


def sft_meta(dataset, seed):
    return f"{R}/models/recommender/sft/{dataset}/seed{seed}/meta.json"


def grpo_meta(variant, dataset, seed):
    return f"{R}/models/recommender/grpo/{variant}/{dataset}/seed{seed}/meta.json"


def candidate_retriever(dataset, seed):
    variant = checked("retriever variant", RC["retriever"], config["retriever"]["variants"], "recommender.retriever: ")
    return f"{R}/models/retriever/{variant}/{dataset}/seed{seed}/meta.json"


def simulator_input(variant, dataset, seed, where):
    """{"simulator": meta.json} of a trained usersim variant; {} for `base`/`none` or a null (untrained) variant."""
    if variant in ("base", "none"):
        return {}
    checked("usersim variant", variant, config["usersim"]["variants"], where)
    if config["usersim"]["variants"][variant] is None:
        return {}
    return {"simulator": f"{R}/models/usersim/{variant}/{dataset}/seed{seed}/meta.json"}


def simulator_arg(variant, input):
    """--simulator of a stage: the trained adapter's directory, `base` (untrained LLM) or `none`."""
    if "simulator" in input.keys():
        return f"{os.path.dirname(input.simulator)}/adapter"
    return "none" if variant == "none" else "base"


def recommender_inputs(system, train, seed):
    """Named model inputs of an LLM system (`uses: recommender/<x>`): retriever [, llm [, adapter [, simulator]]]."""
    entry = system_config(system)
    kind = entry["uses"].split("/", 1)[1]
    inputs = {"retriever": candidate_retriever(train, seed)}
    if kind == "candidates":
        return inputs
    inputs["llm"] = f"{R}/models/base/llm/meta.json"
    if kind == "base":
        return inputs
    if kind == "simulator":  # grsu: the eval simulator ranks the candidates, no recommender adapter
        inputs.update(simulator_input(RC["eval_simulator"], train, seed, "recommender.eval_simulator: "))
        return inputs
    if kind == "sft":
        inputs["adapter"] = sft_meta(train, seed)
    else:
        inputs["adapter"] = grpo_meta(checked("recommender variant", kind, RC["variants"], f"systems.{system}.uses: "),
                                      train, seed)
    if entry.get("params", {}).get("turns", 1) > 1:
        inputs.update(simulator_input(RC["eval_simulator"], train, seed, "recommender.eval_simulator: "))
    return inputs


def recommender_params(wildcards, input):
    """Constructor params of an LLM system from its named inputs (predict's --params; {} for other systems)."""
    entry = system_config(wildcards.system)
    if not entry.get("uses", "").startswith("recommender/"):
        return {}
    params = {"retriever": os.path.dirname(input.retriever)}
    if "llm" in input.keys():
        params["llm"] = input.llm
    if "adapter" in input.keys():
        params["adapter"] = f"{os.path.dirname(input.adapter)}/adapter"
    if entry.get("params", {}).get("turns", 1) > 1 or entry["uses"] == "recommender/simulator":
        params["simulator"] = simulator_arg(RC["eval_simulator"], input)
    return params


def grpo_inputs(wildcards):
    v = RC["variants"][checked("recommender variant", wildcards.rvariant, RC["variants"], "target names ")]
    inputs = {"stats": f"{R}/processed/{wildcards.dataset}/stats.json", "llm": f"{R}/models/base/llm/meta.json",
              "sft": sft_meta(wildcards.dataset, wildcards.seed),
              "retriever": candidate_retriever(wildcards.dataset, wildcards.seed), "recipe": RC["grpo_recipe"]}
    if v["turns"] > 1 and v["simulator"] == "none":
        fail(f"recommender.variants.{wildcards.rvariant}: turns {v['turns']} needs a simulator (not none)")
    inputs.update(simulator_input(v["simulator"], wildcards.dataset, wildcards.seed,
                                  f"recommender.variants.{wildcards.rvariant}.simulator: "))
    return inputs


def grpo_metas(variants):
    return [grpo_meta(v, d, s) for v in variants for d in sorted({a for a, _ in config["cells"]})
            for s in config["seeds"]]


def turn_curve_files():
    """T=metrics.json of recommender.turn_curve's systems on the first cell (the plot's --turns)."""
    a, b = config["cells"][0]
    return {f"{t}": f"{R}/metrics/{s}/{a}/{b}/{split_part(LLM_SPLIT)}seed{config['seeds'][0]}.json"
            for s, t in RC["turn_curve"].items()}
