# User simulator: multi-task SFT data -> LoRA SFT per variant -> quality evaluation (+ trivial answerers, guard
# audit) -> table.

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
        "--tasks {params.tasks} --seed {wildcards.seed} --out {params.out} --quiet "
        "2>&1 | tee {log} | {params.py} -m benchmark.progress"


rule tune_usersim_decoding:
    input:
        unpack(usersim_model_inputs),
    output:
        f"{R}/usersim/decoding/{{uvariant}}/{{dataset}}/seed{{seed}}.json",
    wildcard_constraints:
        uvariant="(?!trivial-)[^/]+",
    params:
        py=PY,
        processed=lambda w, input: os.path.dirname(input.stats),
        adapter=lambda w, input: f"--adapter {os.path.dirname(input.adapter)}/adapter" if "adapter" in input.keys()
        else "",
        n=lambda w: config["usersim"]["attribute_decoding"]["valid_samples"],
        votes=lambda w: config["usersim"]["attribute_decoding"]["votes"],
        scored=lambda w: "--scored" if config["usersim"]["attribute_decoding"]["scored"] else "--no-scored",
        max_turns=config["usersim"]["max_turns"],
    log:
        f"{R}/logs/usersim/decoding/{{uvariant}}/{{dataset}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/usersim/decoding/{{uvariant}}/{{dataset}}/seed{{seed}}.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark tune-usersim-decoding --processed {params.processed} --llm {input.llm} "
        "{params.adapter} --split valid --n {params.n} --votes {params.votes} {params.scored} "
        "--seed {wildcards.seed} "
        "--max-turns {params.max_turns} --out {output} > {log} 2>&1"


rule eval_usersim:
    input:
        unpack(usersim_eval_inputs_decoding),
    output:
        json=f"{R}/usersim/eval/{{uvariant}}/{{dataset}}/seed{{seed}}.json",
        samples=f"{R}/usersim/eval/{{uvariant}}/{{dataset}}/seed{{seed}}.samples.jsonl",
    wildcard_constraints:
        uvariant="(?!trivial-)[^/]+",
    params:
        py=PY,
        processed=lambda w, input: os.path.dirname(input.stats),
        adapter=lambda w, input: f"--adapter {os.path.dirname(input.adapter)}/adapter" if "adapter" in input.keys()
        else "",
        n=config["usersim"]["eval_samples"],
        max_turns=config["usersim"]["max_turns"],
        decoding=lambda w, input: f"--decoding {input.decoding}" if "decoding" in input.keys() else "",
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
        "--max-turns {params.max_turns} {params.decoding} --out {output.json} > {log} 2>&1"


rule eval_usersim_trivial:
    input:
        stats=f"{R}/processed/{{dataset}}/stats.json",
        llm=f"{R}/models/base/llm/meta.json",
    output:
        json=f"{R}/usersim/eval/{{tvariant}}/{{dataset}}/seed{{seed}}.json",
        samples=f"{R}/usersim/eval/{{tvariant}}/{{dataset}}/seed{{seed}}.samples.jsonl",
    wildcard_constraints:
        tvariant="trivial-[a-z]+",
    params:
        py=PY,
        processed=lambda w, input: os.path.dirname(input.stats),
        n=config["usersim"]["eval_samples"],
    log:
        f"{R}/logs/usersim/eval/{{tvariant}}/{{dataset}}/seed{{seed}}.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark eval-usersim --processed {params.processed} --llm {input.llm} "
        "--variant {wildcards.tvariant} --n {params.n} --seed {wildcards.seed} --out {output.json} > {log} 2>&1"


rule guard_audit:
    input:
        stats=f"{R}/processed/{{dataset}}/stats.json",
    output:
        f"{R}/usersim/guard/{{dataset}}.json",
    params:
        py=PY,
        processed=lambda w, input: os.path.dirname(input.stats),
        max_turns=config["usersim"]["max_turns"],
    log:
        f"{R}/logs/usersim/guard/{{dataset}}.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark guard-audit --processed {params.processed} --out {output} "
        "--max-turns {params.max_turns} > {log} 2>&1"


rule usersim_table:
    input:
        evals=usersim_trivial_files() + usersim_eval_files(),
        # per-sample outputs: the paired differences of usersim.comparisons
        samples=[f.removesuffix(".json") + ".samples.jsonl" for f in usersim_trivial_files() + usersim_eval_files()],
        audits=expand(f"{R}/usersim/guard/{{dataset}}.json", dataset=config["usersim"]["datasets"]),
    output:
        md=f"{R}/tables/usersim.md",
        long=f"{R}/tables/usersim_long.tsv",
    params:
        py=PY,
        compare=" ".join(f"{a}:{b}" for a, b in config["usersim"].get("comparisons", [])),
    log:
        f"{R}/logs/report/usersim_table.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark usersim-table {input.evals} --out {output.md} --long {output.long} "
        "--compare {params.compare} > {log} 2>&1"
