# SMTPO reproducibility benchmark: raw public data -> processed records -> predictions -> metrics -> tables.
#
#   snakemake --workflow-profile workflow/profiles/default all        # everything on the CPU profile
#   snakemake --workflow-profile workflow/profiles/default redial     # one dataset
#   snakemake --workflow-profile workflow/profiles/default results/metrics/popularity/redial/redial/seed0.json
#
# Named targets: all, data, models, tables, usersim, redial, inspired, crosscheck, reproduce. Logic lives in the `benchmark`
# package; every rule is one `python -m benchmark <stage>` call.

import os
import sys

from benchmark.config import check_config

configfile: "workflow/config/config.yaml"

check_config(config)

PY = sys.executable
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
include: "workflow/rules/predict.smk"
include: "workflow/rules/report.smk"


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
    default_target: True


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
