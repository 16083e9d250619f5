# Fit a system on the train dataset, rank catalogue items for every test sample, score both protocols.


rule predict:
    input:
        unpack(predict_inputs),
    output:
        predictions=f"{R}/predictions/{{system}}/{{train}}/{{test}}/seed{{seed}}.jsonl",
        meta=f"{R}/predictions/{{system}}/{{train}}/{{test}}/seed{{seed}}.meta.json",
    params:
        py=PY,
        impl=system_impl,
        system_params=system_params,
        train=lambda w, input: os.path.dirname(input.train),
        test=lambda w, input: os.path.dirname(input.test),
        split=config["eval"]["split"],
        k=config["eval"]["topn"],
        # systems.<name>.exclude_context (default false): drop context items from each ranking (predict.py)
        exclude=lambda w: "--exclude-context" if config["systems"][w.system].get("exclude_context") else "",
    log:
        f"{R}/logs/predict/{{system}}/{{train}}/{{test}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/predict/{{system}}/{{train}}/{{test}}/seed{{seed}}.tsv"
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark predict {params.impl} --train {params.train} --test {params.test} "
        "--split {params.split} --seed {wildcards.seed} --k {params.k} --params '{params.system_params}' "
        "--out {output.predictions} {params.exclude} --quiet > {log} 2>&1"


rule evaluate:
    input:
        predictions=f"{R}/predictions/{{system}}/{{train}}/{{test}}/seed{{seed}}.jsonl",
        # read beside the predictions (params, recipe, exclude_context -> card and provenance)
        meta=f"{R}/predictions/{{system}}/{{train}}/{{test}}/seed{{seed}}.meta.json",
        stats=f"{R}/processed/{{test}}/stats.json",
        train_stats=f"{R}/processed/{{train}}/stats.json",  # transfer cells: coverage of the training catalogue
    output:
        metrics=f"{R}/metrics/{{system}}/{{train}}/{{test}}/seed{{seed}}.json",
    params:
        py=PY,
        processed=lambda w, input: os.path.dirname(input.stats),
        train_processed=lambda w, input: os.path.dirname(input.train_stats),
        split=config["eval"]["split"],
        ks=",".join(map(str, config["eval"]["ks"])),
        protocols=",".join(config["eval"]["protocols"]),
    log:
        f"{R}/logs/evaluate/{{system}}/{{train}}/{{test}}/seed{{seed}}.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark evaluate --predictions {input.predictions} --processed {params.processed} "
        "--split {params.split} --out {output.metrics} --system {wildcards.system} "
        "--train-processed {params.train_processed} "
        "--train-dataset {wildcards.train} --test-dataset {wildcards.test} --seed {wildcards.seed} "
        "--ks {params.ks} --protocols {params.protocols} > {log} 2>&1"
