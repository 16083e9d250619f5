# Base models as pipeline inputs, and the dual-view retriever (semantic view -> CF view + fusion + index).
# Every file a training stage leaves in its model directory is a declared output (tests/workflow/
# test_declared_outputs.py checks the disk against the plan). The long stages copy their output to the log and pass
# the short `progress: ...` lines to the console (`| tee {log} | ... -m benchmark.progress`, benchmark/progress.py).


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
        embeddings=f"{R}/models/semantic/{{dataset}}/seed{{seed}}/embeddings.pt",
        encoder=directory(f"{R}/models/semantic/{{dataset}}/seed{{seed}}/encoder"),
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
        "--recipe {input.recipe} --seed {wildcards.seed} --out {params.out} "
        "2>&1 | tee {log} | {params.py} -m benchmark.progress"


rule train_retriever:
    input:
        unpack(retriever_init),
        stats=f"{R}/processed/{{dataset}}/stats.json",
        semantic=f"{R}/models/semantic/{{dataset}}/seed{{seed}}/meta.json",
        recipe=config["retriever"]["recipe"],
    output:
        meta=f"{R}/models/retriever/{{variant}}/{{dataset}}/seed{{seed}}/meta.json",
        fusion=f"{R}/models/retriever/{{variant}}/{{dataset}}/seed{{seed}}/fusion.pt",
        cf=f"{R}/models/retriever/{{variant}}/{{dataset}}/seed{{seed}}/cf.pt",
        # the item index of the training catalogue, built once here; predict and the interactive stages only read
        # it (a transfer catalogue is indexed in memory, never written; benchmark/retrieval/retriever.py)
        index=f"{R}/models/retriever/{{variant}}/{{dataset}}/seed{{seed}}/index/{{dataset}}.pt",
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
        "--seed {wildcards.seed} --out {params.out} 2>&1 | tee {log} | {params.py} -m benchmark.progress"


# Baselines with their own training stage (config `uses: trained/<name>`; cards in baselines/<family>/README.md):
# `python -m benchmark train-system` writes the weights and meta.json (wall seconds, CPU seconds, peak RSS).
rule train_sasrec:
    input:
        stats=f"{R}/processed/{{dataset}}/stats.json",
    output:
        meta=f"{R}/models/sasrec/{{dataset}}/seed{{seed}}/meta.json",
        model=f"{R}/models/sasrec/{{dataset}}/seed{{seed}}/model.pt",
    params:
        py=PY,
        train=lambda w, input: os.path.dirname(input.stats),
        out=lambda w, output: os.path.dirname(output.meta),
        system_params=trained_system_params("sasrec"),
    log:
        f"{R}/logs/models/sasrec/{{dataset}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/models/sasrec/{{dataset}}/seed{{seed}}.tsv"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark train-system sasrec --train {params.train} --params '{params.system_params}' "
        "--seed {wildcards.seed} --out {params.out} 2>&1 | tee {log} | {params.py} -m benchmark.progress"


rule train_kbrd:
    input:
        stats=f"{R}/processed/{{dataset}}/stats.json",
    output:
        meta=f"{R}/models/kbrd/{{dataset}}/seed{{seed}}/meta.json",
        model=f"{R}/models/kbrd/{{dataset}}/seed{{seed}}/model.pt",
    params:
        py=PY,
        train=lambda w, input: os.path.dirname(input.stats),
        out=lambda w, output: os.path.dirname(output.meta),
        system_params=trained_system_params("kbrd"),
    log:
        f"{R}/logs/models/kbrd/{{dataset}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/models/kbrd/{{dataset}}/seed{{seed}}.tsv"
    threads: 2
    resources:
        mem_mb=3000,
        runtime=60,
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark train-system kbrd --train {params.train} --params '{params.system_params}' "
        "--seed {wildcards.seed} --out {params.out} 2>&1 | tee {log} | {params.py} -m benchmark.progress"
