"""Data layer on the tiny official-format fixtures: parsing, samples, catalogue, errors, provenance."""

import json
import shutil
import zipfile

import pytest

from benchmark.data.acquire import acquire
from benchmark.data.bundle import Catalog, align, align_matches
from benchmark.data.coverage import transfer_coverage
from benchmark.data.matching import match_items
from benchmark.data.movies import movie_key, split_year
from benchmark.data.process import process
from benchmark.data.resources import Download
from benchmark.data.twins import title_twins
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


# --- issue 8: no test data in item metadata, one identity per movie, transfer matching and coverage ---

ANNOTATION_COLUMNS = (7, 8, 10, 11, 12, 13)  # genres, people_names, genre/actor/director/others dicts


def _rewrite_test_annotations(mirror, value):
    """Set every annotation column of every INSPIRED test.tsv row to ``value(row_number)``."""
    path = mirror / "dialog_data/test.tsv"
    lines = path.read_text().splitlines()
    out = [lines[0]]
    for n, line in enumerate(lines[1:]):
        fields = line.split("\t")
        for c in ANNOTATION_COLUMNS:
            fields[c] = value(n, c)
        out.append("\t".join(fields))
    path.write_text("\n".join(out) + "\n")


def _inspired_catalog(tmp_path, mirror, redial_raw, name):
    acquire("inspired", tmp_path / f"raw_{name}", mirror=mirror, progress=False)
    process("inspired", tmp_path / f"raw_{name}", tmp_path / name, aux={"redial": str(redial_raw)})
    return {it["item_id"]: it for it in read_jsonl(tmp_path / name / "catalog.jsonl")}


def test_inspired_metadata_never_comes_from_test_rows(tmp_path, fixture_results):
    """Sentinel annotations on every test row (films also named in train/dev and test-only films alike) must
    reach no item, and blanking the test annotations must leave the catalogue byte-for-byte the same."""
    redial_raw = fixture_results / "raw/redial"
    sentinel, blank = tmp_path / "sentinel", tmp_path / "blank"
    for mirror in (sentinel, blank):
        shutil.copytree(FIXTURES / "inspired", mirror)
    _rewrite_test_annotations(sentinel, lambda n, c: "{}" if c >= 10 else f"TESTONLY{n}x{c}")
    _rewrite_test_annotations(blank, lambda n, c: "{}" if c >= 10 else "")
    real = {it["item_id"]: it for it in read_jsonl(fixture_results / "processed/inspired/catalog.jsonl")}
    with_sentinels = _inspired_catalog(tmp_path, sentinel, redial_raw, "s")
    blanked = _inspired_catalog(tmp_path, blank, redial_raw, "b")
    assert "TESTONLY" not in json.dumps(with_sentinels)
    assert real == with_sentinels == blanked
    assert real["Frozen (2013)"]["genres"] == []  # "animation" is annotated on a test row only
    # ... while the test-only row still names the film: the item set may include it
    assert real["Frozen (2013)"]["has_title"] and real["Frozen (2013)"]["field_sources"] == {}
    assert real["It (2017)"]["field_sources"] == {"genres": "INSPIRED train/dev same-sentence annotations",
                                                 "cast": "INSPIRED train/dev same-sentence annotations"}
    lion = real["The Lion King (1994)"]["field_sources"]
    assert set(lion) == {"genres", "director", "cast", "plot"}
    assert all(v == "redial id2info.json (ReDial id 106, match key)" for v in lion.values())


def _redial_with_twins(tmp_path):
    """The ReDial fixture plus 107 = "Movie A" (IMDb id of 101 "Movie A (2001)": a twin) and 108 = "Other
    (2002)" (IMDb id of 102 "Movie B (2002)", another title: id2info's error, a conflict kept apart)."""
    mirror = tmp_path / "mirror"
    shutil.copytree(FIXTURES / "redial", mirror)
    with open(mirror / "movies_with_mentions.csv", "a") as fh:
        fh.write("107,Movie A,4\n108,Other (2002),1\n")
    info = json.loads((mirror / "id2info.json").read_text())
    info["107"] = dict(info["101"], name="Movie A")
    info["108"] = dict(info["102"], name="Other (2002)")
    (mirror / "id2info.json").write_text(json.dumps(info))
    test = (mirror / "test_data.jsonl").read_text()
    test = test.replace("Or @101 again", "Or @101 or @107 again").replace("Then try @104", "Then try @104 @107")
    (mirror / "test_data.jsonl").write_text(test.replace("@105 is great", "@105 or @108 is great"))
    acquire("redial", tmp_path / "raw", mirror=mirror, progress=False)
    return tmp_path / "raw"


def test_redial_twins_are_merged_and_mentions_remapped(tmp_path):
    raw = _redial_with_twins(tmp_path)
    stats = process("redial", raw, tmp_path / "out", options={"valid_fraction": 0.34})
    cat = {it["item_id"]: it for it in read_jsonl(tmp_path / "out/catalog.jsonl")}
    assert "107" not in cat and cat["101"]["aliases"] == ["107"] and cat["101"]["year"] == 2001
    assert "108" in cat and cat["108"]["aliases"] == [] == cat["102"]["aliases"]
    samples = read_jsonl(tmp_path / "out/test.samples.jsonl")
    assert [(s["sample_id"], s["targets"], s["context_items"]) for s in samples] == [
        ("9001#1", ["103", "101"], ["101", "102"]),  # "@101 or @107": one target
        ("9001#3", ["104", "101"], ["101", "102", "103"]),  # 107 -> 101, already in the context: not fresh
        ("9002#2", ["105", "108"], []),
    ]
    twins = read_json(tmp_path / "out/twins.json")
    assert twins["groups"] == [{"canonical": "101", "aliases": ["107"], "rule": "same IMDb id + title",
                                "names": {"101": "Movie A (2001)", "107": "Movie A"}}]
    assert twins["conflicts"] == [{"ids": ["102", "108"], "names": {"102": "Movie B (2002)", "108": "Other (2002)"}}]
    assert stats["twins"] == {"items_before": 8, "items_after": 7, "groups": 1, "aliases": 1, "conflict_groups": 1,
                              "mentions_rewritten": {"train": 0, "valid": 0, "test": 2}}
    assert stats["catalog"]["items"] == 7
    off = process("redial", raw, tmp_path / "off", options={"valid_fraction": 0.34, "merge_twins": False})
    assert off["catalog"]["items"] == 8 and off["twins"] is None
    assert read_json(tmp_path / "off/twins.json")["groups"] == []  # always written (a declared output)


def test_title_twins_merge_only_unambiguous_groups():
    def it(iid):
        title, year = split_year(iid)
        return {"item_id": iid, "title": title, "year": year, "name": iid}

    items = [it(i) for i in ("Matrix (1999)", "The Matrix (1999)", "It (1990)", "It (2017)", "Office",
                             "The Office (2005)", "Halloween", "Halloween (1978)", "Halloween (2018)",
                             "Ex Machina (2014)", "Ex Machina (2015)", "Taken 2 (2012)", "Taken (2008)")]
    groups = sorted(sorted(g) for g in title_twins(items))
    assert groups == [["Ex Machina (2014)", "Ex Machina (2015)"], ["Matrix (1999)", "The Matrix (1999)"],
                      ["Office", "The Office (2005)"]]


def _items(*names, imdb=None):
    out = []
    for n, name in enumerate(names):
        title, year = split_year(name)
        out.append({"item_id": str(n), "title": title, "year": year, "name": name, "key": movie_key(title, year),
                    "imdb_id": (imdb or {}).get(name), "genres": [], "plot": ""})
    return out


def test_transfer_matching_rules_and_types():
    source = _items("Taken (2008)", "Anchorman", "The Matrix (1999)", "Aladdin", "Aladdin (1992)",
                    "Lady and the Tramp", "Heat (1995)", "Frozen (2013)", "Old (2018)",
                    imdb={"Heat (1995)": "tt0113277"})
    target = _items("Taken (2009)", "Anchorman (2004)", "Matrix (1999)", "Aladdin (2019)",
                    "Lady and the Tramp (2019)", "Heat", "Frozen (2013)", "Taken 2 (2012)", "Heat (1986)",
                    "Unseen (2000)", imdb={"Heat": "tt0113277"})
    got = [(source[n]["name"] if n >= 0 else None, how) for n, how in match_items(source, target)]
    assert got == [("Taken (2008)", "year_pm1"), ("Anchorman", "no_year"), ("The Matrix (1999)", "article"),
                   (None, "none"),  # two Aladdins, and the undated one predates 2019
                   (None, "none"),  # the source's undated title cannot be a film newer than all its films
                   ("Heat (1995)", "imdb"), ("Frozen (2013)", "key"), (None, "none"),  # a sequel is another film
                   (None, "none"),  # same title, 9 years apart
                   (None, "none")]


def test_align_reports_match_types():
    a = Catalog(_items("Taken (2008)", "Frozen (2013)"), "a")
    b = Catalog(_items("Frozen (2013)", "Taken (2009)", "Up (2009)"), "b")
    assert align_matches(a, b) == [(1, "key"), (0, "year_pm1"), (-1, "none")]
    assert align(a, b) == [1, 0, -1]
    assert align_matches(a, Catalog(a.items, "a")) == [(0, "id"), (1, "id")]


def test_transfer_coverage_counts_pairs_catalogue_and_cf():
    train = _items("Taken (2008)", "Frozen (2013)", "Up (2009)")
    test = [dict(it, item_id=f"t{n}") for n, it in enumerate(_items("Taken (2009)", "Frozen (2013)", "Cars (2006)"))]
    samples = [{"targets": ["t0", "t1"], "context_items": ["t1"]}, {"targets": ["t2"], "context_items": []}]
    dialogues = [{"turns": [{"items": ["1", "0"]}, {"items": ["1"]}]}]  # Frozen twice, Taken once
    fresh = transfer_coverage(train, test, samples, "fresh", train_dialogues=dialogues)
    assert (fresh["pairs"], fresh["in_train_catalog"], fresh["with_cf_vector"]) == (2, 1, 0)
    assert fresh["in_train_catalog_share"] == 0.5 and fresh["match_types"] == {"year_pm1": 1}
    # Taken and Frozen of the 3 test items match one of the 3 training items; Cars does not
    assert (fresh["catalog_overlap"], fresh["test_catalog_size"], fresh["train_catalog_size"]) == (2, 3, 3)
    every = transfer_coverage(train, test, samples, "all", train_dialogues=dialogues, cf_min_count=1)
    assert (every["pairs"], every["in_train_catalog"], every["with_cf_vector"]) == (3, 2, 2)
    assert "with_cf_vector" not in transfer_coverage(train, test, samples, "all")
    with pytest.raises(ValueError, match="unknown protocol 'new'"):
        transfer_coverage(train, test, samples, "new")
