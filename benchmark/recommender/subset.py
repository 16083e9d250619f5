"""The evaluation subset of the LLM systems (DESIGN §4): a fixed, seeded, committed list of test sample ids.

    python -m benchmark make-subset --processed results/processed/redial --n 200 --seed 0 \\
        --out workflow/config/subsets/redial-test-200.txt

Multi-turn LLM inference over a whole test split does not fit the CPU profile (docs/recommender.md, "Cost"), so
the LLM systems, and every system they are compared with, are scored on the same ``n`` samples. The draw:

1. eligible samples: those with at least one *fresh* target (a target not already mentioned in the context), so
   every chosen sample counts under both protocols;
2. stratified by dialogue: dialogues are shuffled with ``seed`` and each gives one random sample in turn (round
   robin), so ``n`` samples span ``min(n, dialogues)`` dialogues (consecutive turns of one dialogue are strongly
   correlated; one per dialogue gives the dialogue-level bootstrap the most clusters);
3. the ids are written in the order of ``<split>.samples.jsonl``, after ``#`` header lines that record how they
   were made (dataset, split, n, seed, sha256 of the samples file). The file is committed; ``read_subset`` ignores
   the header, and ``restrict`` fails on an id that the samples file does not hold.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.eval.evaluate import dialogue_of
from benchmark.eval.protocols import get_protocol
from benchmark.io import read_jsonl, write_text


def draw(samples: Sequence[dict], n: int, seed: int) -> list[str]:
    """``n`` ids of samples with a fresh target, one per dialogue in seeded round robin, in file order."""
    if n < 1:
        raise BenchmarkError(f"subset size n = {n}: must be >= 1")
    fresh = get_protocol("fresh")
    by_dialogue: dict[str, list[str]] = defaultdict(list)
    for s in samples:
        if fresh.targets(s):
            by_dialogue[dialogue_of(s)].append(s["sample_id"])
    eligible = sum(map(len, by_dialogue.values()))
    if n > eligible:
        raise BenchmarkError(f"subset size n = {n} exceeds the {eligible} samples with a fresh target")
    rng = random.Random(seed)
    dialogues = sorted(by_dialogue)
    rng.shuffle(dialogues)
    pools = {d: rng.sample(by_dialogue[d], len(by_dialogue[d])) for d in dialogues}
    chosen: set[str] = set()
    while len(chosen) < n:
        for d in dialogues:
            if pools[d] and len(chosen) < n:
                chosen.add(pools[d].pop())
    return [s["sample_id"] for s in samples if s["sample_id"] in chosen]


def make_subset(processed: str | os.PathLike, n: int, seed: int, out: str | os.PathLike, split: str = "test") -> dict:
    """Draw the subset of ``processed``'s ``split`` and write the ids file (atomically); returns its summary."""
    path = Path(processed) / f"{split}.samples.jsonl"
    samples = read_jsonl(path, f"the {split} samples (from `python -m benchmark process`)")
    ids = draw(samples, n, seed)
    dataset = Path(processed).name
    dialogues = len({dialogue_of(s) for s in samples if s["sample_id"] in set(ids)})
    head = [f"# evaluation subset of {dataset}/{split}: n={n} seed={seed} dialogues={dialogues}",
            f"# samples file sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}",
            f"# made by: python -m benchmark make-subset --processed <processed/{dataset}> --n {n} --seed {seed} "
            f"--split {split}"]
    write_text(out, "\n".join(head + ids) + "\n")
    return {"dataset": dataset, "split": split, "n": n, "seed": seed, "dialogues": dialogues, "out": str(out)}


def read_subset(path: str | os.PathLike) -> list[str]:
    """The sample ids of a subset file (``#`` lines and blank lines skipped)."""
    p = Path(path)
    if not p.is_file():
        raise BenchmarkError(f"subset file {p} not found: make it with `python -m benchmark make-subset` "
                             "(Snakemake rule make_subset) and commit it")
    ids = [line.strip() for line in p.read_text(encoding="utf-8").splitlines()
           if line.strip() and not line.startswith("#")]
    if len(ids) != len(set(ids)):
        raise BenchmarkError(f"subset file {p}: duplicate sample ids")
    return ids


def subset_info(path: str | os.PathLike) -> dict:
    """What the metrics card records about a subset: its file, size and content hash."""
    ids = read_subset(path)
    return {"file": str(path), "n": len(ids), "sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest()}


def restrict(samples: Sequence[dict], path: str | os.PathLike) -> list[dict]:
    """The samples named in the subset file at ``path``, in file order; an id the samples lack is an error."""
    ids = read_subset(path)
    known = {s["sample_id"] for s in samples}
    if missing := [i for i in ids if i not in known]:
        raise BenchmarkError(f"subset file {path}: {len(missing)} ids are not samples of this split "
                             f"(e.g. {missing[:3]}); was it made from another processed dataset?")
    wanted = set(ids)
    return [s for s in samples if s["sample_id"] in wanted]
