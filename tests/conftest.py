"""Shared fixtures: the tiny official-format datasets under tests/fixtures and the optional real mirror."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(os.environ.get("BENCHMARK_SHARED", ROOT.parent / "shared"))


def mirror_or_skip(dataset: str) -> Path:
    path = SHARED / "datasets" / dataset / "mirror"
    if not path.is_dir():
        pytest.skip(f"data tier: no {dataset} mirror at {path} (set BENCHMARK_SHARED to the folder holding datasets/)")
    return path


@pytest.fixture(scope="session")
def fixture_results(tmp_path_factory) -> Path:
    """Acquire + process both fixture datasets once; returns the results root (raw/ and processed/ inside)."""
    from benchmark.data.acquire import acquire
    from benchmark.data.process import process

    root = tmp_path_factory.mktemp("results")
    for name in ("redial", "inspired"):
        acquire(name, root / "raw" / name, mirror=FIXTURES / name, progress=False)
    process("redial", root / "raw" / "redial", root / "processed" / "redial", seed=0, options={"valid_fraction": 0.34})
    process("inspired", root / "raw" / "inspired", root / "processed" / "inspired", seed=0,
            aux={"redial": str(root / "raw" / "redial")})
    return root
