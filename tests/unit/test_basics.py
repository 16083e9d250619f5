"""Protocol variants, title/key normalisation, registries, atomic I/O."""

import json

import pytest

from benchmark.data.movies import movie_key, normalise_title, split_year
from benchmark.errors import InputError
from benchmark.eval.protocols import PROTOCOLS, get_protocol
from benchmark.io import git_blob_sha1, iter_jsonl, write_jsonl, write_text
from benchmark.registry import Registry, UnknownNameError


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
    r = Registry("system", {"popularity": "benchmark.systems.sanity:PopularitySystem"})
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
