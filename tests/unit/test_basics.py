"""Protocol variants, title/key normalisation, registries, atomic I/O."""

import json
from pathlib import Path

import pytest

from benchmark.data.movies import movie_key, normalise_title, split_year
from benchmark.errors import InputError
from benchmark.eval.protocols import PROTOCOLS, get_protocol
from benchmark.io import git_blob_sha1, iter_jsonl, write_jsonl, write_text
from benchmark.registry import Registry, UnknownNameError
from benchmark.systems import SYSTEMS
from tests.conftest import ROOT


def test_protocol_variants():
    s = {"targets": ["a", "b", "c"], "context_items": ["c", "x"]}
    assert PROTOCOLS["all"].targets(s) == ["a", "b", "c"]
    assert PROTOCOLS["fresh"].targets(s) == ["a", "b"]
    assert PROTOCOLS["fresh"].targets({"targets": ["x"], "context_items": ["x"]}) == []


def test_unknown_protocol_suggests():
    with pytest.raises(UnknownNameError, match="did you mean 'fresh'"):
        get_protocol("frsh")


@pytest.mark.parametrize(("raw", "title", "year"), [
    ("Police Academy  (1984)", "Police Academy", 1984),
    ("Movie%3F C (2003)", "Movie? C", 2003),
    ("The Woman in Black (2012 film)", "The Woman in Black", 2012),
    ("Akira ()", "Akira", None),
    ("American Pie ", "American Pie", None),
    ("Crouching Tiger (Wo hu cang long) (2000)", "Crouching Tiger (Wo hu cang long)", 2000),
])
def test_split_year(raw, title, year):
    assert split_year(raw) == (title, year)


def test_movie_key():
    assert normalise_title("Amélie & Me!") == "amelie and me"
    assert movie_key("The Lion King", 1994) == "the lion king|1994"
    assert movie_key("Schindler's List", 1993) == movie_key("Schindlers List", 1993)
    assert movie_key("Forest", None) != movie_key("The Forest", None)  # articles are kept on purpose


def test_registry_suggests_near_names():
    r = Registry("system", {"popularity": "baselines.sanity:PopularitySystem"})
    assert r.get("popularity").name == "popularity"
    with pytest.raises(UnknownNameError, match="did you mean 'popularity'"):
        r.get("populariti")


def test_write_is_atomic_and_keeps_old_file_on_error(tmp_path):
    out = tmp_path / "a.jsonl"
    write_jsonl(out, [{"x": 1}])

    def bad_rows():
        yield {"x": 2}
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_jsonl(out, bad_rows())
    assert out.read_text() == '{"x": 1}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["a.jsonl"]  # no temp file left behind


def test_truncated_jsonl_names_file_and_line(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text(json.dumps({"a": 1}) + "\n" + '{"a": 2, "b"')
    with pytest.raises(InputError, match=r"d\.jsonl, line 2: malformed JSON.*truncated"):
        list(iter_jsonl(p))


def test_git_blob_id_matches_git(tmp_path):
    p = tmp_path / "f.txt"
    write_text(p, "hello\n")
    assert git_blob_sha1(p) == "ce013625030ba8dba906f756967f9e9ca394464a"  # `git hash-object` of "hello\n"


DOCTEST_MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts)
    for p in (ROOT / "benchmark").rglob("*.py") if ">>>" in p.read_text(encoding="utf-8"))


def test_doctest_modules_are_found():
    assert "benchmark.registry" in DOCTEST_MODULES and "benchmark.config" in DOCTEST_MODULES


@pytest.mark.parametrize("module", DOCTEST_MODULES)
def test_doctests_pass(module):
    """Every ``>>>`` example in benchmark/ runs (a doctest that printed a set would fail on hash order: compare
    sets with ``==`` instead)."""
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0 and result.failed == 0, f"{module}: {result.failed} of {result.attempted} failed"


# Systems the conformance test can build and fit on the fixtures without a trained model (constructor params).
MODEL_FREE = {"random": {}, "popularity": {}, "repeat-context": {}, "bm25": {}, "sasrec": {"epochs": 1}}


@pytest.mark.parametrize("name", SYSTEMS.names())
def test_every_registered_system_satisfies_the_protocol(name, fixture_results):
    """The protocol of ``benchmark.systems.base.System`` for every registered name: a ``name``, ``fit(train, seed)``
    and ``recommend(samples, catalog, k)``; the model-free ones are also fit and asked for rankings."""
    import inspect

    from benchmark.data.bundle import DatasetBundle
    from benchmark.systems.base import System

    cls = SYSTEMS.get(name)
    assert isinstance(getattr(cls, "name", None), str) and cls.name
    assert list(inspect.signature(cls.fit).parameters)[1:] == ["train", "seed"]
    assert list(inspect.signature(cls.recommend).parameters)[1:4] == ["samples", "catalog", "k"]
    if name not in MODEL_FREE:
        return
    system = cls(**MODEL_FREE[name])
    assert isinstance(system, System)
    bundle = DatasetBundle(fixture_results / "processed/redial")
    system.fit(bundle, seed=0)
    samples = bundle.samples("test")
    ranked = system.recommend(samples, bundle.catalog, 3)
    assert len(ranked) == len(samples)
    for row in ranked:
        assert len(row) <= 3 and len(set(row)) == len(row) and set(row) <= set(bundle.catalog.ids)
    if name != "repeat-context":  # repeat-context ranks only the context's items (fewer than k for some samples)
        assert all(len(row) == 3 for row in ranked)


def test_model_free_list_names_only_registered_systems():
    assert set(MODEL_FREE) <= set(SYSTEMS.names())


def test_portable_paths_round_trip(tmp_path):
    from benchmark.config import portable_path, stored_path

    model = tmp_path / "results/models/retriever/dualview/redial/seed0"
    data = tmp_path / "results/processed/redial"
    stored = portable_path(data, model)
    assert stored == "../../../../../processed/redial"
    assert stored_path(stored, model) == data
    assert stored_path("/abs/elsewhere", model) == Path("/abs/elsewhere")  # older artefacts: absolute paths


def test_gz_jsonl_round_trip_is_byte_reproducible(tmp_path):
    rows = [{"sample_id": "1#1", "ranked_items": ["7", "3"]}, {"sample_id": "1#2", "ranked_items": []}]
    a, b = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    assert write_jsonl(a, rows) == 2
    write_jsonl(b, rows)
    assert a.read_bytes() == b.read_bytes()  # no file name or mtime in the gzip header
    assert a.read_bytes()[:2] == b"\x1f\x8b"
    assert [obj for _, obj in iter_jsonl(a)] == rows


def test_truncated_gz_names_file_and_lines_read(tmp_path):
    full = tmp_path / "p.jsonl.gz"
    write_jsonl(full, [{"sample_id": f"{i}#1", "ranked_items": [str(i)] * 20} for i in range(2000)])
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(InputError, match=r"cut\.jsonl\.gz: truncated or corrupt gzip file after \d+ line"):
        list(iter_jsonl(cut))


def test_gzip_bytes_in_a_plain_name_say_so(tmp_path):
    src = tmp_path / "p.jsonl.gz"
    write_jsonl(src, [{"x": 1}])
    plain = tmp_path / "p.jsonl"
    plain.write_bytes(src.read_bytes())
    with pytest.raises(InputError, match=r"not UTF-8.*gzip data in a file not named \.gz"):
        list(iter_jsonl(plain))


def test_outputs_get_the_mode_open_would_give_them(tmp_path):
    import os

    umask = os.umask(0)
    os.umask(umask)
    write_text(tmp_path / "t.md", "x")
    assert (tmp_path / "t.md").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_every_cli_option_has_a_help_text():
    import argparse

    from benchmark.cli import build_parser

    parser = build_parser()
    missing = [f"{name} {action.option_strings or action.dest}"
               for sub in parser._actions if isinstance(sub, argparse._SubParsersAction)
               for name, sp in sub.choices.items() for action in sp._actions if not action.help]
    assert missing == []


def _unpinned_env(**extra):
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in ("ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "BENCHMARK_CPU_CAPABILITY")}
    return {**env, **extra}


def test_python_m_benchmark_pins_the_cpu_kernels_as_the_workflow_does(tmp_path, fixture_results):
    # a stage run by hand must compute what Snakemake's run computes: `evaluate` writes torch's capability into its
    # provenance; the workflow config and the package default name the same instruction set
    import platform
    import subprocess
    import sys

    import yaml

    from benchmark.device import DEFAULT_CPU_CAPABILITY, pin_cpu_kernels

    config = yaml.safe_load((ROOT / "workflow/config/config.yaml").read_text())
    assert config["cpu_capability"] == DEFAULT_CPU_CAPABILITY
    with pytest.raises(Exception, match="expected avx2, avx512"):
        pin_cpu_kernels("sse")
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("the pin applies to x86-64 hosts only")
    pred = tmp_path / "p.jsonl"
    write_jsonl(pred, [{"sample_id": "9001#1", "ranked_items": ["103"]}])

    def device(**env):
        out = tmp_path / "m.json"
        args = [sys.executable, "-m", "benchmark", "evaluate", "--predictions", str(pred), "--processed",
                str(fixture_results / "processed/redial"), "--system", "x", "--train-dataset", "redial",
                "--test-dataset", "redial", "--out", str(out)]
        subprocess.run(args, check=True, cwd=ROOT, env=_unpinned_env(**env), capture_output=True)
        return json.loads(out.read_text())["provenance"]["device"]

    assert device() == f"cpu:{platform.machine()}:avx2"
    bad = subprocess.run([sys.executable, "-m", "benchmark", "--help"], cwd=ROOT, capture_output=True, text=True,
                         env=_unpinned_env(BENCHMARK_CPU_CAPABILITY="sse"))
    assert bad.returncode == 2 and "error: BENCHMARK_CPU_CAPABILITY='sse': expected avx2" in bad.stderr
    assert device(BENCHMARK_CPU_CAPABILITY="avx2") == f"cpu:{platform.machine()}:avx2"
    # a variable the user set wins over the package default
    assert device(ATEN_CPU_CAPABILITY="default") == f"cpu:{platform.machine()}:default"
