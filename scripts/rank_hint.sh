#!/usr/bin/env bash
# Remedy "rank hint" (docs/recommender.md, "Remedy tried: rank hint"): the SFT answer lists the targets and then the
# other candidates in retriever order, but the prompt shows the candidates in a shuffled order without the
# retriever's rank, so that tail is a random permutation the model cannot learn (it writes runs of consecutive
# numbers instead). This retrains the SFT recommender with each candidate line saying its retriever rank
# (workflow/recipes/recommender/sft/cpu-rank.yaml: cpu.yaml + show_rank: true), predicts the same test subset and
# scores it as system smtpo-sft-rank.
#
#   scripts/rank_hint.sh inspired [results]    # after `snakemake` made the dualview retriever and the base LLM
#
#   GRPO=1 scripts/rank_hint.sh inspired       # then also GRPO on top (the smtpo variant's recipe and weights) and
#                                              # two-turn prediction with the multitask simulator: system smtpo-rank
#
# Environment: RECIPE (default the file above), SUBSET (default workflow/config/subsets/<ds>-test-100.txt),
# RETRIEVER (default <results>/models/retriever/dualview/<ds>/seed0), GRPO_RECIPE (default
# workflow/recipes/recommender/grpo/cpu.yaml), PY (default .venv/bin/python).
#
# Writes <results>/recommender/sft-data-rank/<ds>/seed0/, <results>/models/recommender/sft-rank/<ds>/seed0/,
# <results>/predictions/smtpo-sft-rank/<ds>/<ds>/test-subset/seed0.jsonl and its metrics; each step is skipped
# when its output exists (the SFT itself resumes from its last checkpoint).
set -euo pipefail
ds=${1:?dataset (redial, inspired)}; R=${2:-results}
PY=${PY:-.venv/bin/python}
RECIPE=${RECIPE:-workflow/recipes/recommender/sft/cpu-rank.yaml}
processed=$R/processed/$ds
retriever=${RETRIEVER:-$R/models/retriever/dualview/$ds/seed0}
llm=$R/models/base/llm/meta.json
data=$R/recommender/sft-data-rank/$ds/seed0
model=$R/models/recommender/sft-rank/$ds/seed0
subset=${SUBSET:-workflow/config/subsets/$ds-test-100.txt}
pred=$R/predictions/smtpo-sft-rank/$ds/$ds/test-subset/seed0.jsonl
for need in "$retriever/fusion.pt" "$llm"; do
  [ -e "$need" ] || { echo "no $need: make it first (snakemake $need)" >&2; exit 2; }
done
[ -f "$data/train.jsonl" ] || $PY -m benchmark recommender-sft-data --processed "$processed" --retriever "$retriever" \
    --recipe "$RECIPE" --seed 0 --out "$data"
[ -f "$model/meta.json" ] || $PY -m benchmark train-recommender-sft --data "$data" --llm "$llm" --recipe "$RECIPE" \
    --seed 0 --out "$model" --quiet
# the test prompts show the recipe's K candidates (the adapter's meta.json tells the system to show the ranks)
params=$($PY -c 'import json, sys
from benchmark.recommender.config import RecommenderSFTConfig
k = RecommenderSFTConfig.from_yaml(sys.argv[4]).candidates
print(json.dumps({"adapter": sys.argv[1], "llm": sys.argv[2], "retriever": sys.argv[3], "candidates": k}))' \
    "$model/adapter" "$llm" "$retriever" "$RECIPE")
[ -f "$pred" ] || $PY -m benchmark predict smtpo-sft --train "$processed" --test "$processed" --split test \
    --subset "$subset" --seed 0 --k 50 --params "$params" --batch-size 16 --out "$pred" --quiet
$PY -m benchmark evaluate --predictions "$pred" --processed "$processed" --split test --subset "$subset" \
    --out "$R/metrics/smtpo-sft-rank/$ds/$ds/test-subset/seed0.json" --system smtpo-sft-rank \
    --train-dataset "$ds" --test-dataset "$ds" --seed 0
[ "${GRPO:-0}" = 1 ] || exit 0
simulator=$R/models/usersim/multitask/$ds/seed0/adapter
grpo=$R/models/recommender/grpo/smtpo-rank/$ds/seed0
grpo_recipe=${GRPO_RECIPE:-workflow/recipes/recommender/grpo/cpu.yaml}
pred=$R/predictions/smtpo-rank/$ds/$ds/test-subset/seed0.jsonl
[ -e "$simulator/adapter_config.json" ] || { echo "no $simulator: make it first (snakemake $R/models/usersim/multitask/$ds/seed0/meta.json)" >&2; exit 2; }
# the smtpo variant of workflow/config/config.yaml (recommender.variants.smtpo): T = 2, multitask simulator
[ -f "$grpo/meta.json" ] || $PY -m benchmark train-recommender-grpo --train "$processed" --llm "$llm" \
    --sft "$model/adapter" --retriever "$retriever" --simulator "$simulator" \
    --recipe "$grpo_recipe" --turns 2 \
    --reward-weights format=0.2,preference=0.5,recommend=1.0 --seed 0 --out "$grpo" --quiet
params=$($PY -c 'import json, sys
from benchmark.recommender.grpo_config import RecommenderGRPOConfig
k = RecommenderGRPOConfig.from_yaml(sys.argv[5]).candidates
print(json.dumps({"adapter": sys.argv[1], "llm": sys.argv[2], "retriever": sys.argv[3], "simulator": sys.argv[4],
                  "turns": 2, "candidates": k}))' "$grpo/adapter" "$llm" "$retriever" "$simulator" "$grpo_recipe")
[ -f "$pred" ] || $PY -m benchmark predict smtpo --train "$processed" --test "$processed" --split test \
    --subset "$subset" --seed 0 --k 50 --params "$params" --batch-size 16 --out "$pred" --quiet
$PY -m benchmark evaluate --predictions "$pred" --processed "$processed" --split test --subset "$subset" \
    --out "$R/metrics/smtpo-rank/$ds/$ds/test-subset/seed0.json" --system smtpo-rank \
    --train-dataset "$ds" --test-dataset "$ds" --seed 0
