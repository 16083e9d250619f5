# Base models as pipeline inputs, and the dual-view retriever (semantic view -> CF view + fusion + index).


rule prepare_model:
    output:
        meta=f"{R}/models/base/{{kind}}/meta.json",
    params:
        py=PY,
        spec=lambda w: config["models"][w.kind],
        out=lambda w, output: os.path.dirname(output.meta),
    log:
        f"{R}/logs/models/prepare_{{kind}}.log",
    benchmark:
        f"{R}/benchmarks/models/prepare_{{kind}}.tsv"
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark prepare-model --spec {params.spec} --kind {wildcards.kind} "
        "--out {params.out} > {log} 2>&1"


rule train_semantic:
    input:
        stats=f"{R}/processed/{{dataset}}/stats.json",
        embedder=f"{R}/models/base/embedder/meta.json",
        recipe=config["retriever"]["recipe"],
    output:
        meta=f"{R}/models/semantic/{{dataset}}/seed{{seed}}/meta.json",
    params:
        py=PY,
        train=lambda w, input: os.path.dirname(input.stats),
        out=lambda w, output: os.path.dirname(output.meta),
    log:
        f"{R}/logs/models/semantic/{{dataset}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/models/semantic/{{dataset}}/seed{{seed}}.tsv"
    threads: 2
    resources:
        mem_mb=6000,
        runtime=60,
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark train-semantic --train {params.train} --embedder {input.embedder} "
        "--recipe {input.recipe} --seed {wildcards.seed} --out {params.out} > {log} 2>&1"


rule train_retriever:
    input:
        unpack(retriever_init),
        stats=f"{R}/processed/{{dataset}}/stats.json",
        semantic=f"{R}/models/semantic/{{dataset}}/seed{{seed}}/meta.json",
        recipe=config["retriever"]["recipe"],
    output:
        meta=f"{R}/models/retriever/{{variant}}/{{dataset}}/seed{{seed}}/meta.json",
    params:
        py=PY,
        train=lambda w, input: os.path.dirname(input.stats),
        semantic=lambda w, input: os.path.dirname(input.semantic),
        out=lambda w, output: os.path.dirname(output.meta),
        views=lambda w: ",".join(retriever_variant(w)["views"]),
        fusion=lambda w: retriever_variant(w)["fusion"],
        init=lambda w, input: f"--init {os.path.dirname(input.init)}" if "init" in input.keys() else "",
    log:
        f"{R}/logs/models/retriever/{{variant}}/{{dataset}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/models/retriever/{{variant}}/{{dataset}}/seed{{seed}}.tsv"
    threads: 2
    resources:
        mem_mb=6000,
        runtime=30,
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark train-retriever --train {params.train} --semantic {params.semantic} "
        "--recipe {input.recipe} --views {params.views} --fusion {params.fusion} {params.init} "
        "--seed {wildcards.seed} --out {params.out} > {log} 2>&1"
