# Raw files (mirror or pinned download) -> processed dialogues, samples, catalogue, stats.


rule acquire:
    output:
        manifest=f"{R}/raw/{{dataset}}/manifest.json",
    params:
        py=PY,
        out=lambda w, output: os.path.dirname(output.manifest),
        mirror=lambda w: mirror_arg(w.dataset),
    log:
        f"{R}/logs/acquire/{{dataset}}.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark acquire {wildcards.dataset} --out {params.out} {params.mirror} --quiet > {log} 2>&1"


rule process:
    input:
        unpack(process_inputs),
    output:
        stats=f"{R}/processed/{{dataset}}/stats.json",
        catalog=f"{R}/processed/{{dataset}}/catalog.jsonl",
        twins=f"{R}/processed/{{dataset}}/twins.json",
        samples=expand(f"{R}/processed/{{{{dataset}}}}/{{split}}.samples.jsonl", split=SPLITS),
        dialogues=expand(f"{R}/processed/{{{{dataset}}}}/{{split}}.dialogues.jsonl", split=SPLITS),
    params:
        py=PY,
        raw=lambda w, input: os.path.dirname(input.manifest),
        out=lambda w, output: os.path.dirname(output.stats),
        options=process_options,
        seed=config["data_seed"],
    log:
        f"{R}/logs/process/{{dataset}}.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark process {wildcards.dataset} --raw {params.raw} --out {params.out} "
        "--seed {params.seed} {params.options} > {log} 2>&1"
