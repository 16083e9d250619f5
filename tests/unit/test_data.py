"""Data layer on the tiny official-format fixtures: parsing, samples, catalogue, errors, provenance."""

import shutil
import zipfile

import pytest

from benchmark.data.acquire import acquire
from benchmark.data.process import process
from benchmark.data.resources import Download
from benchmark.errors import InputError
from benchmark.io import read_json, read_jsonl, sha256_file
from benchmark.registry import UnknownNameError
from tests.conftest import FIXTURES


def test_redial_dialogues_merge_turns_and_render_titles(fixture_results):
    test = read_jsonl(fixture_results / "processed/redial/test.dialogues.jsonl")
    d = test[0]
    assert d["dialogue_id"] == "9001"
    assert [t["role"] for t in d["turns"]] == ["seeker", "recommender", "seeker", "recommender"]
    assert d["turns"][0] == {"role": "seeker", "text": "Hi, I loved Movie A (2001) and Movie B (2002)",
                             "items": ["101", "102"]}
    assert d["turns"][1]["text"] == "Have you seen Movie? C (2003)? Or Movie A (2001) again"
    assert d["turns"][1]["items"] == ["103", "101"]


def test_redial_samples_and_protocol_counts(fixture_results):
    samples = read_jsonl(fixture_results / "processed/redial/test.samples.jsonl")
    assert [(s["sample_id"], s["targets"], s["context_items"]) for s in samples] == [
        ("9001#1", ["103", "101"], ["101", "102"]),
        ("9001#3", ["104"], ["101", "102", "103"]),
        ("9002#2", ["105"], []),
    ]
    assert [t["text"] for t in samples[0]["context"]] == ["Hi, I loved Movie A (2001) and Movie B (2002)"]
    stats = read_json(fixture_results / "processed/redial/stats.json")
    assert (stats["splits"]["test"]["target_pairs_all"], stats["splits"]["test"]["target_pairs_fresh"]) == (4, 3)
    assert stats["splits"]["train"]["dialogues"] + stats["splits"]["valid"]["dialogues"] == 3
    assert stats["splits"]["valid"]["dialogues"] == 1  # round(3 * 0.34)


def test_redial_catalog_joins_metadata_on_id(fixture_results):
    cat = {it["item_id"]: it for it in read_jsonl(fixture_results / "processed/redial/catalog.jsonl")}
    assert len(cat) == 6
    assert cat["103"]["name"] == "Movie? C (2003)" and cat["103"]["genres"] == ["horror"]
    assert cat["102"]["title"] == "Movie B" and cat["102"]["year"] == 2002
    assert cat["105"]["year"] is None and cat["105"]["genres"] == []  # no id2info entry: nothing invented
    assert cat["106"]["key"] == "the lion king|1994"


def test_validation_carve_out_is_seeded_and_deterministic(tmp_path, fixture_results):
    raw = fixture_results / "raw/redial"
    a = process("redial", raw, tmp_path / "a", seed=1, options={"valid_fraction": 0.34})
    b = process("redial", raw, tmp_path / "b", seed=1, options={"valid_fraction": 0.34})
    assert (tmp_path / "a/valid.dialogues.jsonl").read_text() == (tmp_path / "b/valid.dialogues.jsonl").read_text()
    assert a["splits"] == b["splits"]


def test_inspired_items_unknown_movies_and_metadata(fixture_results):
    cat = {it["item_id"]: it for it in read_jsonl(fixture_results / "processed/inspired/catalog.jsonl")}
    assert set(cat) == {"Akira", "Frozen (2013)", "It (2017)", "The Lion King (1994)", "UNKNOWN_MOVIE_77"}
    assert cat["UNKNOWN_MOVIE_77"]["has_title"] is False and cat["UNKNOWN_MOVIE_77"]["title"] is None
    assert cat["The Lion King (1994)"]["director"] == ["Roger Allers"]  # from ReDial id2info via the unified key
    assert cat["It (2017)"]["genres"] == ["horror"] and cat["It (2017)"]["cast"] == ["Bill Skarsgard"]
    samples = read_jsonl(fixture_results / "processed/inspired/test.samples.jsonl")
    assert [(s["turn_index"], s["targets"], s["context_items"]) for s in samples] == [
        (2, ["Frozen (2013)", "The Lion King (1994)"], ["The Lion King (1994)"])]
    assert samples[0]["context"][1]["text"] == 'I loved "The Lion King"'
    train = read_jsonl(fixture_results / "processed/inspired/train.dialogues.jsonl")
    assert train[0]["turns"][1]["items"] == ["Akira", "UNKNOWN_MOVIE_77"]
    stats = read_json(fixture_results / "processed/inspired/stats.json")
    assert any("biased toward test items" in n for n in stats["notes"])


def test_non_official_files_warn_loudly_and_are_recorded(fixture_results, capsys):
    manifest = read_json(fixture_results / "raw/redial/manifest.json")
    assert manifest["all_official"] is False
    rec = {f["file"]: f for f in manifest["files"]}
    assert rec["test_data.jsonl"]["sha256"] == sha256_file(FIXTURES / "redial/test_data.jsonl")
    assert rec["test_data.jsonl"]["expected_sha256"].startswith("d7781750")
    acquire("redial", fixture_results / "raw2", mirror=FIXTURES / "redial", progress=False)
    err = capsys.readouterr().err
    assert "WARNING: redial/test_data.jsonl is NOT the official file" in err and "d7781750" in err


def test_corrupted_file_names_file_and_line_and_keeps_outputs(tmp_path, fixture_results):
    mirror = tmp_path / "mirror"
    shutil.copytree(FIXTURES / "redial", mirror)
    lines = (mirror / "test_data.jsonl").read_text().splitlines(keepends=True)
    (mirror / "test_data.jsonl").write_text(lines[0] + lines[1][:40])  # truncated second dialogue
    out = tmp_path / "processed"
    shutil.copytree(fixture_results / "processed/redial", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    acquire("redial", tmp_path / "raw", mirror=mirror, progress=False)
    with pytest.raises(InputError, match=r"test_data\.jsonl, line 2: malformed JSON.*truncated"):
        process("redial", tmp_path / "raw", out, options={"valid_fraction": 0.34})
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_malformed_inspired_row_names_line(tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(FIXTURES / "inspired", mirror)
    dev = mirror / "dialog_data/dev.tsv"
    dev.write_text(dev.read_text().replace("\tBill Skarsgard", "Bill Skarsgard"))
    acquire("inspired", tmp_path / "raw", mirror=mirror, progress=False)
    acquire("redial", tmp_path / "raw_redial", mirror=FIXTURES / "redial", progress=False)
    with pytest.raises(InputError, match=r"dev\.tsv, line 3: expected 19 tab-separated fields, got 18"):
        process("inspired", tmp_path / "raw", tmp_path / "out", aux={"redial": str(tmp_path / "raw_redial")})
    assert not (tmp_path / "out").exists()


def test_missing_mirror_file_says_what_was_expected(tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(FIXTURES / "redial", mirror)
    (mirror / "id2info.json").unlink()
    with pytest.raises(InputError, match=r"id2info\.json: missing file: expected ReDial movie metadata"):
        acquire("redial", tmp_path / "raw", mirror=mirror, progress=False)


def test_unknown_dataset_name():
    with pytest.raises(UnknownNameError, match="unknown dataset 'redail'; did you mean 'redial'"):
        acquire("redail", "/nonexistent", mirror=FIXTURES / "redial")


def test_acquire_by_download_from_local_files(tmp_path):
    """The download path of `acquire`: a zip like redial_dataset.zip plus id2info.json, over file:// URLs."""
    src = tmp_path / "server"
    src.mkdir()
    with zipfile.ZipFile(src / "redial_dataset.zip", "w") as zf:
        for name in ("train_data.jsonl", "test_data.jsonl", "movies_with_mentions.csv"):
            zf.write(FIXTURES / "redial" / name, f"redial_dataset/{name}")
    shutil.copy(FIXTURES / "redial/id2info.json", src / "id2info.json")
    downloads = (
        Download((src / "redial_dataset.zip").as_uri(), "redial_dataset.zip",
                 sha256=sha256_file(src / "redial_dataset.zip"),
                 members={n: n for n in ("train_data.jsonl", "test_data.jsonl", "movies_with_mentions.csv")}),
        Download((src / "id2info.json").as_uri(), "id2info.json", sha256=sha256_file(src / "id2info.json")),
    )
    manifest = acquire("redial", tmp_path / "raw/redial", download_dir=tmp_path / "dl", downloads=downloads,
                       progress=False)
    assert manifest["source"]["kind"] == "download"
    assert (tmp_path / "raw/redial/test_data.jsonl").read_bytes() == (FIXTURES / "redial/test_data.jsonl").read_bytes()
