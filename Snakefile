# SMTPO reproducibility benchmark: raw public data -> processed records -> predictions -> metrics -> tables.
#
#   snakemake --workflow-profile workflow/profiles/default all        # everything on the CPU profile
#   snakemake --workflow-profile workflow/profiles/default redial     # one dataset
#   snakemake --workflow-profile workflow/profiles/default results/metrics/popularity/redial/redial/seed0.json
#
# Named targets: all, data, models, tables, transfer, comparisons, report, usersim, recommender, ablations, redial,
# inspired, crosscheck, reproduce. Logic lives in the `benchmark`
# package; every rule is one `python -m benchmark <stage>` call.

import os
import sys
import time

from benchmark.config import check_config

configfile: "workflow/config/config.yaml"

check_config(config)

PY = sys.executable
# Pin the instruction set of torch's and MKL's CPU kernels for every rule (config `cpu_capability`): trained numbers
# depend on it, and AVX-512 hosts otherwise differ from AVX2 ones (INSPIRED dualview fresh R@10 0.168 vs 0.195).
# `python -m benchmark` applies the same pin by itself (benchmark.device.pin_cpu_kernels), from this variable.
os.environ.setdefault("BENCHMARK_CPU_CAPABILITY", config.get("cpu_capability") or "")
if config.get("cpu_capability"):
    os.environ.setdefault("ATEN_CPU_CAPABILITY", config["cpu_capability"])
    os.environ.setdefault("MKL_ENABLE_INSTRUCTIONS", config["cpu_capability"].upper())
STARTED = time.time()  # report_warnings: only the logs written by this run
R = config["results"]
DATASETS = ["redial", "inspired"]
SPLITS = ["train", "valid", "test"]

wildcard_constraints:
    dataset="|".join(DATASETS),
    train="|".join(DATASETS),
    test="|".join(DATASETS),
    system="[A-Za-z0-9_.-]+",
    kind="llm|embedder",
    variant="[A-Za-z0-9_.-]+",
    uvariant="[A-Za-z0-9_.-]+",
    seed=r"\d+",

include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/usersim.smk"
include: "workflow/rules/recommender_inputs.smk"
include: "workflow/rules/recommender.smk"
include: "workflow/rules/predict.smk"
include: "workflow/rules/report.smk"


# WARNING lines of this run's rule logs (non-official data, cells with missing predictions) on the console, once.
onsuccess:
    report_warnings(STARTED)


onerror:
    report_warnings(STARTED)


rule all:
    input:
        f"{R}/tables/main.md",
        f"{R}/tables/retrieval.md",
        f"{R}/tables/metrics_long.tsv",
        f"{R}/tables/costs.md",
        crosscheck_outputs(),
        f"{R}/models/base/llm/meta.json",
        f"{R}/tables/usersim.md",
        f"{R}/tables/usersim_long.tsv",
        f"{R}/tables/transfer.md",
        f"{R}/tables/comparisons.md",
        f"{R}/report.html",
    default_target: True


# The committed reference: `all` with the seed sweep of workflow/config/reference.yaml (several seeds per trained
# retrieval system), then `python -m benchmark release` (results/reference/README.md).
rule reference:
    input:
        lambda w: reference_inputs(list(rules.all.input)),


# Every trainable system trained on each dataset and tested on each (tables.transfer).
rule transfer:
    input:
        f"{R}/tables/transfer.md",


rule comparisons:
    input:
        f"{R}/tables/comparisons.md",


# The HTML page of every table and figure of `all` (also in `snakemake --report`).
rule report:
    input:
        f"{R}/report.html",


# The four GRPO ablations of SMTPO (tables.llm.ablations) and their reward curves; separate from `all` for CPU cost.
rule ablations:
    input:
        f"{R}/tables/ablations.md",
        f"{R}/tables/ablations_comparisons.md",
        f"{R}/tables/plots/ablations/grpo_rewards.png",


# The LLM systems (SMTPO, its SFT stage, the zero-shot LLM, the candidates oracle) on the evaluation subset: the LLM
# table and the recommender plots. Not part of `all` until its CPU cost is measured (see README "Cost").
rule recommender:
    input:
        f"{R}/tables/llm.md",
        f"{R}/tables/llm_comparisons.md",
        f"{R}/tables/plots/grpo_rewards.png",
        f"{R}/tables/plots/turns.png",
        f"{R}/tables/llm_report.html",


rule usersim:
    input:
        f"{R}/tables/usersim.md",
        f"{R}/tables/usersim_long.tsv",


rule models:
    input:
        expand(f"{R}/models/base/{{kind}}/meta.json", kind=["llm", "embedder"]),


rule data:
    input:
        expand(f"{R}/processed/{{dataset}}/stats.json", dataset=DATASETS),


rule tables:
    input:
        f"{R}/tables/main.md",
        f"{R}/tables/retrieval.md",


rule redial:
    input:
        f"{R}/tables/redial.md",


rule inspired:
    input:
        f"{R}/tables/inspired.md",


rule crosscheck:
    input:
        crosscheck_outputs(),
