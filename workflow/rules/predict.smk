# Fit a system on the train dataset, rank catalogue items for every test sample, score both protocols.


rule predict:
    input:
        train=f"{R}/processed/{{train}}/stats.json",
        test=f"{R}/processed/{{test}}/stats.json",
    output:
        predictions=f"{R}/predictions/{{system}}/{{train}}/{{test}}/seed{{seed}}.jsonl",
        meta=f"{R}/predictions/{{system}}/{{train}}/{{test}}/seed{{seed}}.meta.json",
    params:
        impl=system_impl,
        system_params=system_params,
        split=config["eval"]["split"],
        k=config["eval"]["topn"],
    log:
        "logs/predict/{system}/{train}/{test}/seed{seed}.log",
    benchmark:
        "benchmarks/predict/{system}/{train}/{test}/seed{seed}.tsv"
    shell:
        "{PY} -m benchmark predict {params.impl} --train {R}/processed/{wildcards.train} "
        "--test {R}/processed/{wildcards.test} --split {params.split} --seed {wildcards.seed} --k {params.k} "
        "--params '{params.system_params}' --out {output.predictions} --quiet > {log} 2>&1"


rule evaluate:
    input:
        predictions=f"{R}/predictions/{{system}}/{{train}}/{{test}}/seed{{seed}}.jsonl",
        stats=f"{R}/processed/{{test}}/stats.json",
    output:
        metrics=f"{R}/metrics/{{system}}/{{train}}/{{test}}/seed{{seed}}.json",
    params:
        split=config["eval"]["split"],
        ks=",".join(map(str, config["eval"]["ks"])),
        protocols=",".join(config["eval"]["protocols"]),
    log:
        "logs/evaluate/{system}/{train}/{test}/seed{seed}.log",
    shell:
        "{PY} -m benchmark evaluate --predictions {input.predictions} --processed {R}/processed/{wildcards.test} "
        "--split {params.split} --out {output.metrics} --system {wildcards.system} "
        "--train-dataset {wildcards.train} --test-dataset {wildcards.test} --seed {wildcards.seed} "
        "--ks {params.ks} --protocols {params.protocols} > {log} 2>&1"
