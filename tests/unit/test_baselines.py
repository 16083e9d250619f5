"""The baselines package: KBRD's graph and model, the published numbers, the family cards and the registry."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import torch
import yaml

from baselines.kbrd.graph import build_graph, link_text
from baselines.kbrd.model import KBRDModel
from benchmark.systems import FAMILIES, SYSTEMS, family

ROOT = Path(__file__).resolve().parents[2]
ITEMS = [
    {"item_id": "m1", "genres": ["horror"], "director": ["Wes Craven"], "cast": ["Neve Campbell"], "year": 1996},
    {"item_id": "m2", "genres": ["horror", "comedy"], "director": ["Wes Craven"], "cast": [], "year": 2000},
    {"item_id": "m3", "genres": [], "director": [], "cast": [], "year": None},  # no metadata: an isolated node
]


def test_metadata_graph_by_hand():
    g = build_graph(ITEMS)
    assert g.entities == ["genre:horror", "person:wes craven", "person:neve campbell", "year:1996", "genre:comedy",
                          "year:2000"]
    assert (g.n_items, g.n_nodes, g.n_relations) == (3, 9, 8)
    h, wes, neve, y96, comedy, y00 = range(3, 9)
    expected = {(0, h, 0), (0, wes, 1), (0, neve, 2), (0, y96, 3), (1, h, 0), (1, comedy, 0), (1, wes, 1),
                (1, y00, 3)}
    expected |= {(e, i, r + 4) for i, e, r in expected}  # every relation also points back (entity -> item)
    edges = set(zip(*g.edge_index.tolist(), g.edge_type.tolist(), strict=True))
    assert edges == expected and len(edges) == g.edge_index.shape[1]
    assert 2 not in g.edge_index  # m3 has no edge
    assert link_text("Any scary films, maybe a comedy by Wes Craven? Not Neve.", g) == [
        "genre:horror", "genre:comedy", "person:wes craven"]  # one-word person names are not linked


def test_kbrd_model_shapes_and_one_step_lowers_loss():
    torch.manual_seed(0)
    g = build_graph(ITEMS)
    model = KBRDModel(g.n_nodes, g.n_items, g.n_relations, dim=16, num_bases=2)
    context = torch.tensor([[3, 4, -1], [-1, -1, -1]])  # horror + Wes Craven; an empty context
    scores = model(context, g.edge_index, g.edge_type)
    assert scores.shape == (2, 3)
    assert torch.allclose(scores[1], model.bias)  # no context: zero user vector, only the item bias
    assert model.nodes(g.edge_index, g.edge_type).shape == (9, 16)
    target = torch.tensor([1, 0])
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    before = torch.nn.functional.cross_entropy(scores, target)
    opt.zero_grad()
    before.backward()
    opt.step()
    after = torch.nn.functional.cross_entropy(model(context, g.edge_index, g.edge_type), target)
    assert after.item() < before.item()


def load_published() -> list[dict]:
    return yaml.safe_load((ROOT / "baselines/published.yaml").read_text())["entries"]


def test_published_entries_have_citation_and_definition():
    entries = load_published()
    assert entries
    for e in entries:
        assert e["citation"].strip() and e["metric_definition"].strip() and e["source"].strip(), e
        assert e["dataset"] in ("redial", "inspired") and e["matches_ours"] in ("yes", "partial", "no"), e
        assert e["metrics"] and all(re.fullmatch(r"(recall|ndcg|mrr)@\d+", m) and 0 <= v <= 1
                                    for m, v in e["metrics"].items()), e


@pytest.mark.data
def test_published_he2023_values_match_their_summary_files():
    he = [e for e in load_published() if e["system"].startswith("he2023-")]
    if not (ROOT / "../shared/external/he2023-zero-shot-crs").is_dir():
        pytest.skip("../shared/external/he2023-zero-shot-crs is absent")
    for e in he:
        path, _, rest = e["source"].partition(", condition ")
        rows = {r["condition"]: r for r in csv.DictReader(open(ROOT / path))}
        for metric, value in e["metrics"].items():
            assert value == float(rows[rest.split(",")[0]][f"{metric}_mean"]), (e["system"], e["dataset"], metric)


def test_published_block_in_table(tmp_path):
    from benchmark.report.tables import PUBLISHED_HEADING, published_block

    text = published_block(ROOT / "baselines/published.yaml", ["recall@10", "ndcg@10"], 4, "github")
    assert PUBLISHED_HEADING in text and "he2023-gpt-4" in text and "0.2240" in text


def test_every_family_has_a_card_that_names_a_command():
    cards = sorted((ROOT / "baselines").glob("*/README.md"))
    families = {c.parent.name for c in cards}
    assert {f for f in FAMILIES.values() if f != "smtpo"} <= families
    for card in cards + [ROOT / "baselines/README.md"]:
        text = card.read_text()
        assert "python -m benchmark" in text or "snakemake" in text, card
    for f in families:
        assert f in (ROOT / "baselines/README.md").read_text(), f


def test_registry_lists_every_system_with_family(capsys):
    from benchmark.cli import main

    assert set(FAMILIES) == set(SYSTEMS.names())
    assert main(["systems"]) == 0
    out = capsys.readouterr().out.splitlines()
    for name in SYSTEMS.names():
        line = next(x for x in out if x.split()[0] == name)
        assert line.split()[1] == family(name)


def test_harness_does_not_import_baselines():
    offenders = [str(p) for p in (ROOT / "benchmark").rglob("*.py")
                 if re.search(r"^\s*(from|import) baselines", p.read_text(), re.M)]
    assert not offenders


def test_kbrd_step_is_deterministic_on_cpu():
    g = build_graph(ITEMS)
    context, target = torch.tensor([[3, 0, -1], [5, -1, -1]]), torch.tensor([1, 2])
    runs = []
    for _ in range(2):
        torch.manual_seed(3)
        model = KBRDModel(g.n_nodes, g.n_items, g.n_relations, dim=8, num_bases=2)
        opt = torch.optim.Adam(model.parameters(), lr=0.05)
        for _ in range(3):
            loss = torch.nn.functional.cross_entropy(model(context, g.edge_index, g.edge_type), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
        runs.append(model(context, g.edge_index, g.edge_type).detach())
    assert torch.equal(runs[0], runs[1])


def test_trained_baseline_checkpoint_round_trip_and_catalogue_check(tmp_path, fixture_results):
    from baselines.sequential.sasrec import SASRecSystem
    from benchmark.data.bundle import DatasetBundle
    from benchmark.errors import BenchmarkError

    redial = DatasetBundle(fixture_results / "processed/redial")
    inspired = DatasetBundle(fixture_results / "processed/inspired")
    system = SASRecSystem(dim=8, heads=1, layers=1, epochs=1)
    system.fit(redial, seed=0)
    system.save(tmp_path)
    loaded = SASRecSystem(dim=8, heads=1, layers=1, epochs=1)
    loaded.load(tmp_path, redial)
    samples = redial.samples("test")
    assert loaded.recommend(samples, redial.catalog, 3) == system.recommend(samples, redial.catalog, 3)
    with pytest.raises(BenchmarkError, match=r"sasrec model .* was trained on 'redial'"):
        loaded.load(tmp_path, inspired)
    with pytest.raises(BenchmarkError, match="no sasrec checkpoint.*train_sasrec"):
        loaded.load(tmp_path / "elsewhere", redial)
