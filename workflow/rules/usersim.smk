# User simulator: multi-task SFT data -> LoRA SFT per variant -> quality evaluation -> table.


rule usersim_data:
    input:
        stats=f"{R}/processed/{{dataset}}/stats.json",
    output:
        train=f"{R}/usersim/data/{{dataset}}/train.jsonl",
        valid=f"{R}/usersim/data/{{dataset}}/valid.jsonl",
    params:
        py=PY,
        processed=lambda w, input: os.path.dirname(input.stats),
        out=lambda w, output: os.path.dirname(output.train),
        max_turns=config["usersim"]["max_turns"],
    log:
        f"{R}/logs/usersim/data/{{dataset}}.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark usersim-data --processed {params.processed} --out {params.out} "
        "--max-turns {params.max_turns} > {log} 2>&1"


rule train_usersim:
    input:
        data=f"{R}/usersim/data/{{dataset}}/train.jsonl",
        llm=f"{R}/models/base/llm/meta.json",
        recipe=config["usersim"]["recipe"],
    output:
        meta=f"{R}/models/usersim/{{uvariant}}/{{dataset}}/seed{{seed}}/meta.json",
    params:
        py=PY,
        data=lambda w, input: os.path.dirname(input.data),
        out=lambda w, output: os.path.dirname(output.meta),
        tasks=usersim_weights,
    log:
        f"{R}/logs/usersim/train/{{uvariant}}/{{dataset}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/usersim/train/{{uvariant}}/{{dataset}}/seed{{seed}}.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark train-usersim --data {params.data} --llm {input.llm} --recipe {input.recipe} "
        "--tasks {params.tasks} --seed {wildcards.seed} --out {params.out} --quiet > {log} 2>&1"


rule eval_usersim:
    input:
        unpack(usersim_eval_inputs),
    output:
        f"{R}/usersim/eval/{{uvariant}}/{{dataset}}/seed{{seed}}.json",
    params:
        py=PY,
        processed=lambda w, input: os.path.dirname(input.stats),
        adapter=lambda w, input: f"--adapter {os.path.dirname(input.adapter)}/adapter" if "adapter" in input.keys()
        else "",
        n=config["usersim"]["eval_samples"],
        max_turns=config["usersim"]["max_turns"],
    log:
        f"{R}/logs/usersim/eval/{{uvariant}}/{{dataset}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/usersim/eval/{{uvariant}}/{{dataset}}/seed{{seed}}.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark eval-usersim --processed {params.processed} --llm {input.llm} {params.adapter} "
        "--embedder {input.embedder} --variant {wildcards.uvariant} --n {params.n} --seed {wildcards.seed} "
        "--max-turns {params.max_turns} --out {output} > {log} 2>&1"


rule usersim_table:
    input:
        usersim_eval_files(),
    output:
        md=f"{R}/tables/usersim.md",
        long=f"{R}/tables/usersim_long.tsv",
    params:
        py=PY,
    log:
        f"{R}/logs/report/usersim_table.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark usersim-table {input} --out {output.md} --long {output.long} > {log} 2>&1"
