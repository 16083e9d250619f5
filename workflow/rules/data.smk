# Raw files (mirror or pinned download) -> processed dialogues, samples, catalogue, stats.


rule acquire:
    output:
        manifest=f"{R}/raw/{{dataset}}/manifest.json",
    params:
        out=f"{R}/raw/{{dataset}}",
        mirror=lambda w: mirror_arg(w.dataset),
    log:
        "logs/acquire/{dataset}.log",
    shell:
        "{PY} -m benchmark acquire {wildcards.dataset} --out {params.out} {params.mirror} --quiet > {log} 2>&1"


def process_inputs(wildcards):
    # INSPIRED takes its item metadata from ReDial's id2info.json through the unified movie key.
    inputs = {"manifest": f"{R}/raw/{wildcards.dataset}/manifest.json"}
    if wildcards.dataset == "inspired":
        inputs["redial"] = f"{R}/raw/redial/manifest.json"
    return inputs


rule process:
    input:
        unpack(process_inputs),
    output:
        stats=f"{R}/processed/{{dataset}}/stats.json",
        catalog=f"{R}/processed/{{dataset}}/catalog.jsonl",
        samples=expand(f"{R}/processed/{{{{dataset}}}}/{{split}}.samples.jsonl", split=SPLITS),
        dialogues=expand(f"{R}/processed/{{{{dataset}}}}/{{split}}.dialogues.jsonl", split=SPLITS),
    params:
        raw=f"{R}/raw/{{dataset}}",
        out=f"{R}/processed/{{dataset}}",
        options=lambda w: (f"--valid-fraction {config['datasets']['redial']['valid_fraction']}"
                           if w.dataset == "redial" else f"--aux redial={R}/raw/redial"),
        seed=config["data_seed"],
    log:
        "logs/process/{dataset}.log",
    shell:
        "{PY} -m benchmark process {wildcards.dataset} --raw {params.raw} --out {params.out} "
        "--seed {params.seed} {params.options} > {log} 2>&1"
