"""No rule writes an undeclared file: run a tiny workflow, then compare every file on disk with the plan.

The plan is Snakemake's own: a forced dry run of the same targets lists each job's ``output:``, ``log:`` and
``benchmark:`` paths. Every file under the results root must be one of them, lie inside a declared ``directory()``
output, or be a raw file named (with its sha256) in a declared ``raw/<dataset>/manifest.json`` (``acquire`` copies
a dataset-specific set of files; its manifest is the declared record of them). The targets cover every
model-training rule that writes beside its ``meta.json`` (semantic encoder, retriever fusion/CF/index, SASRec and
KBRD weights), a same-dataset and a transfer prediction of the retriever (whose transfer index must stay in
memory, not in the model directory) and their evaluations (which read the predictions' declared ``.meta.json``).

Reads are covered by construction, not traced: a stage reads a model directory only through a declared input of
that directory's training job (its ``meta.json``), and that job's outputs are now all declared.

    pytest tests/workflow/test_declared_outputs.py   # ~4 min on 2 cores (16 jobs)
"""

import json
from pathlib import Path

import pytest

from tests.workflow.test_snakemake import fixture_config, run

FIELDS = ("output", "log", "benchmark")
KNOWN_UNDECLARED: set[str] = set()  # files a rule writes without declaring them: none


def declared_paths(dry_run: str) -> set[str]:
    """Paths in the ``output:``/``log:``/``benchmark:`` lines of a dry run's job listing.

    >>> sorted(declared_paths("rule x:\\n    output: /r/a.json, /r/b.pt\\n    log: /r/x.log\\n    jobid: 3\\n"))
    ['/r/a.json', '/r/b.pt', '/r/x.log']
    """
    paths = set()
    for line in dry_run.splitlines():
        field, _, value = line.strip().partition(": ")
        if field in FIELDS and line.startswith("    "):
            paths.update(p.strip() for p in value.split(", ") if p.strip())
    return paths


@pytest.mark.slow
def test_every_file_on_disk_is_a_declared_output_log_or_benchmark(tmp_path):
    cfg = fixture_config(tmp_path)
    results = tmp_path / "results"
    targets = [f"{results}/metrics/{system}/{cell}/seed0.json"
               for system, cell in (("sasrec", "redial/redial"), ("kbrd", "redial/redial"),
                                    ("dualview", "redial/redial"), ("dualview", "redial/inspired"))]
    res = run(targets + ["--configfile", str(cfg)], tmp_path, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    plan = run(targets + ["-n", "--forceall", "--configfile", str(cfg)], tmp_path)
    assert plan.returncode == 0, plan.stderr[-2000:]
    declared = declared_paths(plan.stdout + plan.stderr)
    assert any(p.endswith("/index/redial.pt") for p in declared)  # the retriever's index is in the plan
    directories = [p for p in declared if Path(p).is_dir()]
    raw = {str(Path(m).parent / f["file"]) for m in declared if m.endswith("/manifest.json")
           for f in json.loads(Path(m).read_text())["files"]}
    on_disk = {str(p) for p in results.rglob("*") if p.is_file()}
    undeclared = sorted(p for p in on_disk - declared - raw if not any(p.startswith(d + "/") for d in directories))
    known = sorted(f"{results}/{p}" for p in KNOWN_UNDECLARED)
    assert undeclared == known, f"files no rule declares: {sorted(set(undeclared) - set(known))[:20]}; " \
                                f"known ones now declared or gone: {sorted(set(known) - set(undeclared))}"
    assert not [p for p in declared if not Path(p).exists()]  # and every declared file was written
    # the transfer prediction indexed INSPIRED's catalogue in memory only
    assert sorted(p.name for p in (results / "models/retriever/dualview/redial/seed0/index").iterdir()) == ["redial.pt"]
