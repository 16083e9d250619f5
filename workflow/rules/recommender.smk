# SMTPO's reasoning recommender (docs/recommender.md): SFT data -> LoRA SFT -> multi-turn GRPO per variant; the
# fixed evaluation subset of the LLM systems; their predictions on it; the LLM and ablation tables; the plots.


rule make_subset:
    input:
        stats=f"{R}/processed/{{dataset}}/stats.json",
    output:
        f"{R}/subsets/{{dataset}}-test-{{n}}-seed{{sseed}}.txt",
    wildcard_constraints:
        n=r"\d+",
        sseed=r"\d+",
    params:
        py=PY,
        processed=lambda w, input: os.path.dirname(input.stats),
    log:
        f"{R}/logs/recommender/subset/{{dataset}}-{{n}}-seed{{sseed}}.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark make-subset --processed {params.processed} --n {wildcards.n} "
        "--seed {wildcards.sseed} --out {output} > {log} 2>&1"


rule predict_subset:
    input:
        unpack(predict_inputs),
        subset=subset_file,
    output:
        predictions=f"{R}/predictions/{{system}}/{{train}}/{{test}}/test-subset/seed{{seed}}.jsonl",
        meta=f"{R}/predictions/{{system}}/{{train}}/{{test}}/test-subset/seed{{seed}}.meta.json",
    params:
        py=PY,
        impl=system_impl,
        system_params=system_params,
        train=lambda w, input: os.path.dirname(input.train),
        test=lambda w, input: os.path.dirname(input.test),
        k=config["eval"]["topn"],
        exclude=lambda w: "--exclude-context" if config["systems"][w.system].get("exclude_context") else "",
    log:
        f"{R}/logs/predict/{{system}}/{{train}}/{{test}}/test-subset/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/predict/{{system}}/{{train}}/{{test}}/test-subset/seed{{seed}}.tsv"
    threads: 2
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark predict {params.impl} --train {params.train} --test {params.test} "
        "--split test --subset {input.subset} --seed {wildcards.seed} --k {params.k} "
        "--params '{params.system_params}' --batch-size 16 --out {output.predictions} {params.exclude} --quiet"
        "> {log} 2>&1"


rule evaluate_subset:
    input:
        predictions=f"{R}/predictions/{{system}}/{{train}}/{{test}}/test-subset/seed{{seed}}.jsonl",
        meta=f"{R}/predictions/{{system}}/{{train}}/{{test}}/test-subset/seed{{seed}}.meta.json",
        stats=f"{R}/processed/{{test}}/stats.json",
        train_stats=f"{R}/processed/{{train}}/stats.json",
        subset=subset_file,
    output:
        metrics=f"{R}/metrics/{{system}}/{{train}}/{{test}}/test-subset/seed{{seed}}.json",
    params:
        py=PY,
        processed=lambda w, input: os.path.dirname(input.stats),
        train_processed=lambda w, input: os.path.dirname(input.train_stats),
        ks=",".join(map(str, config["eval"]["ks"])),
        protocols=",".join(config["eval"]["protocols"]),
    log:
        f"{R}/logs/evaluate/{{system}}/{{train}}/{{test}}/test-subset/seed{{seed}}.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark evaluate --predictions {input.predictions} --processed {params.processed} "
        "--split test --subset {input.subset} --out {output.metrics} --system {wildcards.system} "
        "--train-processed {params.train_processed} "
        "--train-dataset {wildcards.train} --test-dataset {wildcards.test} --seed {wildcards.seed} "
        "--ks {params.ks} --protocols {params.protocols} > {log} 2>&1"


rule recommender_sft_data:
    input:
        stats=f"{R}/processed/{{dataset}}/stats.json",
        retriever=lambda w: candidate_retriever(w.dataset, w.seed),
        recipe=RC["sft_recipe"],
    output:
        train=f"{R}/recommender/sft-data/{{dataset}}/seed{{seed}}/train.jsonl",
        valid=f"{R}/recommender/sft-data/{{dataset}}/seed{{seed}}/valid.jsonl",
        stats=f"{R}/recommender/sft-data/{{dataset}}/seed{{seed}}/stats.json",
    params:
        py=PY,
        processed=lambda w, input: os.path.dirname(input.stats),
        retriever=lambda w, input: os.path.dirname(input.retriever),
        out=lambda w, output: os.path.dirname(output.stats),
    log:
        f"{R}/logs/recommender/sft-data/{{dataset}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/recommender/sft-data/{{dataset}}/seed{{seed}}.tsv"
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark recommender-sft-data --processed {params.processed} --retriever {params.retriever} "
        "--recipe {input.recipe} --seed {wildcards.seed} --out {params.out} > {log} 2>&1"


rule train_recommender_sft:
    input:
        data=f"{R}/recommender/sft-data/{{dataset}}/seed{{seed}}/train.jsonl",
        llm=f"{R}/models/base/llm/meta.json",
        recipe=RC["sft_recipe"],
    output:
        meta=f"{R}/models/recommender/sft/{{dataset}}/seed{{seed}}/meta.json",
    params:
        py=PY,
        data=lambda w, input: os.path.dirname(input.data),
        out=lambda w, output: os.path.dirname(output.meta),
    log:
        f"{R}/logs/recommender/sft/{{dataset}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/recommender/sft/{{dataset}}/seed{{seed}}.tsv"
    threads: 2
    resources:
        mem_mb=17000,  # measured peak RSS 15.9 GB (ReDial CPU recipe, 2026-11-28)
        runtime=60,  # measured 37 min
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark train-recommender-sft --data {params.data} --llm {input.llm} "
        "--recipe {input.recipe} --seed {wildcards.seed} --out {params.out} --quiet "
        "2>&1 | tee {log} | {params.py} -m benchmark.progress"


rule train_recommender_grpo:
    input:
        unpack(grpo_inputs),
    output:
        meta=f"{R}/models/recommender/grpo/{{rvariant}}/{{dataset}}/seed{{seed}}/meta.json",
    wildcard_constraints:
        rvariant="[A-Za-z0-9_.-]+",
    params:
        py=PY,
        train=lambda w, input: os.path.dirname(input.stats),
        sft=lambda w, input: f"{os.path.dirname(input.sft)}/adapter",
        retriever=lambda w, input: os.path.dirname(input.retriever),
        simulator=lambda w, input: simulator_arg(RC["variants"][w.rvariant]["simulator"], input),
        turns=lambda w: RC["variants"][w.rvariant]["turns"],
        weights=lambda w: ",".join(f"{k}={v}" for k, v in sorted(RC["variants"][w.rvariant]["reward_weights"].items())),
        out=lambda w, output: os.path.dirname(output.meta),
    log:
        f"{R}/logs/recommender/grpo/{{rvariant}}/{{dataset}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/recommender/grpo/{{rvariant}}/{{dataset}}/seed{{seed}}.tsv"
    threads: 2
    resources:
        mem_mb=15000,  # measured peak RSS 13.6 GB (ReDial CPU recipe, 2026-11-28)
        runtime=120,  # measured 36 min (10 steps)
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark train-recommender-grpo --train {params.train} --llm {input.llm} --sft {params.sft} "
        "--retriever {params.retriever} --simulator {params.simulator} --recipe {input.recipe} "
        "--turns {params.turns} --reward-weights {params.weights} --seed {wildcards.seed} --out {params.out} "
        "--quiet 2>&1 | tee {log} | {params.py} -m benchmark.progress"


rule llm_table:
    input:
        llm_metrics_files(LLM_TABLE["systems"]),
    output:
        md=f"{R}/tables/llm.md",
        tex=f"{R}/tables/llm.tex",
    params:
        py=PY,
        out_dir=lambda w, output: os.path.dirname(output.md),
        args=table_args(LLM_TABLE["systems"], LLM_TABLE["metrics"]),
        title=f"LLM systems and their comparisons ({split_title()})",
        # He et al.'s GPT-4 / GPT-3.5 / Vicuna / BAIZE rows beside llm-free (their prompt and matching, our catalogue)
        published="baselines/published.yaml",
    log:
        f"{R}/logs/report/llm_table.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark tables {input} --out-dir {params.out_dir} --name llm --parse-failures "
        "--target recommender "
        "--title '{params.title}' {params.args} --published {params.published} > {log} 2>&1"


rule llm_comparisons:
    input:
        unpack(llm_comparison_inputs),
    output:
        md=f"{R}/tables/llm_comparisons.md",
        tex=f"{R}/tables/llm_comparisons.tex",
    params:
        py=PY,
        pairs=" ".join(f"{a}:{b}" for a, b in LLM_TABLE.get("comparisons", [])),
        cells=cells_arg(),
        seeds=" ".join(str(s) for s in config["seeds"]),
        subset=llm_subset_arg,
        # roots of <system>/<train>/<test>/[test-subset/]seed<N>.jsonl and <dataset>/stats.json
        predictions=lambda w, input: Path(input.predictions[0]).parents[4 if LLM_SPLIT == "test-subset" else 3],
        processed=lambda w, input: Path(input.stats[0]).parents[1],
        title=f"LLM systems: paired comparisons ({split_title()})",
        target="recommender",
    log:
        f"{R}/logs/report/llm_comparisons.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark comparisons --pairs {params.pairs} --cells {params.cells} "
        "--predictions {params.predictions} --processed {params.processed} --seeds {params.seeds} {params.subset} "
        "--metrics recall@10,ndcg@10 --protocol fresh --title '{params.title}' --target {params.target} "
        "--out {output.md} > {log} 2>&1"


# The same stage over the GRPO ablations' pairs (tables.llm.ablation_comparisons; target ablations).
use rule llm_comparisons as ablation_comparisons with:
    input:
        unpack(ablation_comparison_inputs),
    output:
        md=f"{R}/tables/ablations_comparisons.md",
        tex=f"{R}/tables/ablations_comparisons.tex",
    params:
        pairs=" ".join(f"{a}:{b}" for a, b in LLM_TABLE.get("ablation_comparisons", [])),
        title=f"SMTPO GRPO ablations: paired comparisons ({split_title()})",
        target="ablations",
    log:
        f"{R}/logs/report/ablation_comparisons.log",


rule ablations_table:
    input:
        llm_metrics_files(LLM_TABLE.get("ablations", [])),
    output:
        md=f"{R}/tables/ablations.md",
        tex=f"{R}/tables/ablations.tex",
    params:
        py=PY,
        out_dir=lambda w, output: os.path.dirname(output.md),
        args=table_args(LLM_TABLE.get("ablations", []), LLM_TABLE["metrics"]),
        title=f"SMTPO ablations ({split_title()})",
    log:
        f"{R}/logs/report/ablations_table.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark tables {input} --out-dir {params.out_dir} --name ablations --parse-failures "
        "--target ablations "
        "--title '{params.title}' {params.args} > {log} 2>&1"


rule recommender_plots:
    input:
        grpo=grpo_metas([v for v in RC["variants"] if v in config["run"] + LLM_TABLE["systems"]]),
        turns=list(turn_curve_files().values()),
    output:
        rewards=f"{R}/tables/plots/grpo_rewards.png",
        turns=f"{R}/tables/plots/turns.png",
    params:
        py=PY,
        turns=" ".join(f"{t}={path}" for t, path in turn_curve_files().items()),
        out_dir=lambda w, output: os.path.dirname(output.rewards),
    log:
        f"{R}/logs/report/recommender_plots.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark plots --grpo {input.grpo} --turns {params.turns} --out-dir {params.out_dir} "
        "> {log} 2>&1"


rule ablation_plots:
    input:
        grpo=grpo_metas(list(RC["variants"])),
    output:
        rewards=f"{R}/tables/plots/ablations/grpo_rewards.png",
    params:
        py=PY,
        out_dir=lambda w, output: os.path.dirname(output.rewards),
    log:
        f"{R}/logs/report/ablation_plots.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark plots --grpo {input.grpo} --out-dir {params.out_dir} > {log} 2>&1"


# The LLM tables and the recommender plots as one HTML page (results/tables/llm_report.html; `release` copies it):
# report.html belongs to `all`, which does not run the LLM systems.
rule llm_report_html:
    input:
        tables=[f"{R}/tables/llm.md", f"{R}/tables/llm_comparisons.md"],
        figures=[f"{R}/tables/plots/grpo_rewards.png", f"{R}/tables/plots/turns.png"],
        metrics=llm_metrics_files(LLM_TABLE["systems"]),
    output:
        f"{R}/tables/llm_report.html",
    params:
        py=PY,
        title="SMTPO reproducibility benchmark: LLM systems on the evaluation subset",
    log:
        f"{R}/logs/report/llm_report_html.log",
    conda:
        "../envs/benchmark.yaml"
    shell:
        "{params.py} -m benchmark report {input.tables} --figures {input.figures} --provenance {input.metrics} "
        "--title '{params.title}' --target recommender --out {output} > {log} 2>&1"
