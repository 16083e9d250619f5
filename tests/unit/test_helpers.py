"""The shared helpers of issue 11's structure item: atomic directories, the progress filter, and the layering rule
that ``benchmark.retrieval`` never imports ``benchmark.systems`` (the data and utility layers sit below both)."""

import ast
import io

import pytest

from benchmark.io import atomic_dir
from benchmark.progress import main as progress_filter
from tests.conftest import ROOT


def test_atomic_dir_replaces_on_success_and_keeps_the_old_one_on_failure(tmp_path):
    target = tmp_path / "encoder"
    with atomic_dir(target) as tmp:
        (tmp / "w.bin").write_text("one")
    assert (target / "w.bin").read_text() == "one"
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "w.bin").write_text("half")
        raise RuntimeError("crash while saving")
    assert (target / "w.bin").read_text() == "one"  # the earlier good copy survives
    (tmp_path / "encoder.partial").mkdir()  # a leftover of a killed run is cleared, not merged into
    (tmp_path / "encoder.partial" / "stale.bin").write_text("x")
    with atomic_dir(target) as tmp:
        (tmp / "w.bin").write_text("two")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["encoder"]
    assert sorted(p.name for p in target.iterdir()) == ["w.bin"] and (target / "w.bin").read_text() == "two"


def test_progress_filter_passes_progress_lines_and_trainer_logs_only():
    stage_output = ("Loading weights: 100%\n"
                    "progress: sasrec epoch 1/3: valid fresh R@10 0.1000\n"
                    "\r  3%|#   | 1/30\r{'loss': '2.5', 'grad_norm': '0.7', 'epoch': '0.1'}\n"
                    "{'train_runtime': '5.0', 'train_loss': '2.1', 'epoch': '1.0'}\n"
                    "a line that mentions {'epoch'} but is no dict\n")
    out = io.StringIO()
    assert progress_filter(io.StringIO(stage_output), out) == 0
    assert out.getvalue().splitlines() == ["progress: sasrec epoch 1/3: valid fresh R@10 0.1000",
                                           "progress: loss 2.5, epoch 0.1",
                                           "progress: train_loss 2.1, epoch 1.0"]


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


@pytest.mark.parametrize("package", ["retrieval", "data"])
def test_lower_layers_do_not_import_systems(package):
    offenders = {f"{p.relative_to(ROOT)}: {m}" for p in (ROOT / "benchmark" / package).rglob("*.py")
                 for m in imported_modules(p) if m == "benchmark.systems" or m.startswith("benchmark.systems.")}
    assert not offenders, sorted(offenders)
