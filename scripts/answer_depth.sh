#!/usr/bin/env bash
# Remedy "answer depth" (docs/recommender.md, "Remedies"; benchmark/recommender/depth.py): predict an LLM system on
# a fixed, seeded subset of 100 validation samples with the parameters of its test-subset predictions, choose there
# how many answered items to trust before the retriever's order, re-rank the test predictions at that depth and
# score them as system <system>-depth.
#
#   scripts/answer_depth.sh inspired smtpo [results]    # after `snakemake` made the system's test-subset predictions
#
# Writes <results>/predictions/<system>/<ds>/<ds>/valid-subset/seed0.jsonl (kept: a rerun reuses it),
# <results>/predictions/<system>-depth/<ds>/<ds>/test-subset/seed0.jsonl and
# <results>/metrics/<system>-depth/<ds>/<ds>/test-subset/seed0.json.
set -euo pipefail
ds=${1:?dataset (redial, inspired)}; system=${2:?system (smtpo, smtpo-sft)}; R=${3:-results}
PY=${PY:-.venv/bin/python}
processed=$R/processed/$ds
valid_subset=$R/subsets/$ds-valid-100-seed0.txt
test_subset=workflow/config/subsets/$ds-test-100.txt
test=$R/predictions/$system/$ds/$ds/test-subset/seed0.jsonl
valid=$R/predictions/$system/$ds/$ds/valid-subset/seed0.jsonl
out=$R/predictions/$system-depth/$ds/$ds/test-subset/seed0.jsonl
[ -f "$test" ] || { echo "no $test: make it first (snakemake $R/metrics/$system/$ds/$ds/test-subset/seed0.json)" >&2; exit 2; }
[ -f "$valid_subset" ] || $PY -m benchmark make-subset --processed "$processed" --n 100 --seed 0 --split valid \
    --out "$valid_subset"
read -r impl params < <($PY -c 'import json, sys; m = json.load(open(sys.argv[1]))
print(m["system"], json.dumps(m["params"], sort_keys=True))' "${test%.jsonl}.meta.json")
[ -f "$valid" ] || $PY -m benchmark predict "$impl" --train "$processed" --test "$processed" --split valid \
    --subset "$valid_subset" --seed 0 --k 50 --params "$params" --batch-size 16 --out "$valid" --quiet
$PY -m benchmark answer-depth --processed "$processed" --valid "$valid" --valid-subset "$valid_subset" \
    --test "$test" --out "$out"
$PY -m benchmark evaluate --predictions "$out" --processed "$processed" --split test --subset "$test_subset" \
    --out "$R/metrics/$system-depth/$ds/$ds/test-subset/seed0.json" --system "$system-depth" \
    --train-dataset "$ds" --test-dataset "$ds" --seed 0
