"""Sentence retrieval: Tatoeba accuracy@1 and LASER-style BUCC mining (langrep.retrieval.tatoeba)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from langrep import retrieval as R
from langrep.errors import LangrepError
from langrep.means.representations import LanguageMeans, write_means
from langrep.retrieval import bucc as B
from langrep.scores import write_scores
from langrep.settings import RetrievalSettings

ROOT = Path(__file__).resolve().parents[1]
# k and block size as the pipeline passes them (config retrieval.bucc.k, retrieval.block_size)
K, BLOCK = RetrievalSettings.defaults().bucc.k, RetrievalSettings.defaults().block_size
MIRROR = Path(os.environ.get("LANGREP_DATA_MIRROR") or ROOT.parent / "shared" / "data")


# ---------------------------------------------------------------------------------------------
# helpers: files in the formats of DEVELOPERS.md, written independently of the library
# ---------------------------------------------------------------------------------------------


def write_embeddings(path: Path, ids, layers: dict[int, np.ndarray]) -> Path:
    cols = {"id": pa.array([str(i) for i in ids]), "n_tokens": pa.array(np.full(len(ids), 5, np.int32))}
    for layer, x in layers.items():
        x = np.asarray(x, np.float32)
        cols[f"layer_{layer}"] = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), x.shape[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(cols), path)
    return path


def write_mean_file(path: Path, means: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_means(LanguageMeans(np.asarray(means, np.float64), 100), path)
    return path


def brute_knn(q, d, k):
    """Cosine top-k by a full numpy similarity matrix."""
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    dn = d / np.linalg.norm(d, axis=1, keepdims=True)
    s = qn @ dn.T
    ind = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(s, ind, 1), ind, s


# ---------------------------------------------------------------------------------------------
# search and accuracy
# ---------------------------------------------------------------------------------------------


def test_accuracy_hand_made():
    # query 0 -> db 0 (exact), query 1 -> db 2 (db 2 is closer than its partner db 1),
    # query 2 -> db 2 (exact): 2 of 3 correct
    q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    db = np.array([[2.0, 0.0], [-1.0, 1.0], [3.0, 3.0]])
    assert R.accuracy_at_1(q, db) == pytest.approx(200 / 3)
    # scaling does not matter for cosine
    assert R.accuracy_at_1(q * 7, db * 0.1) == pytest.approx(200 / 3)
    assert R.accuracy_at_1(db, db) == 100.0


def test_blocked_search_equals_unblocked_and_brute_force():
    rng = np.random.default_rng(0)
    q = R.normalize(rng.normal(size=(203, 16)))
    d = R.normalize(rng.normal(size=(97, 16)))
    s_full, i_full = R.knn(q, d, 4, block_size=10_000)
    s_blk, i_blk = R.knn(q, d, 4, block_size=7)
    np.testing.assert_array_equal(i_full, i_blk)
    np.testing.assert_allclose(s_full, s_blk, rtol=1e-6)
    s_bf, i_bf, _ = brute_knn(q, d, 4)
    np.testing.assert_array_equal(i_full, i_bf)
    np.testing.assert_allclose(s_full, s_bf, rtol=1e-5, atol=1e-6)
    # k larger than the database is clipped, as LASER's min(k, n)
    assert R.knn(q, d[:3], 4, BLOCK)[1].shape == (203, 3)


def test_methods_shift_the_right_sides():
    q = np.array([[1.0, 2.0]])
    d = np.array([[3.0, 4.0]])
    mq, md = np.array([0.5, 0.5]), np.array([1.0, -1.0])
    oq, od = R.apply_method("original", q, d, mq, md)
    np.testing.assert_array_equal(oq, q)
    np.testing.assert_array_equal(od, d)
    zq, zd = R.apply_method("zero_mean", q, d, mq, md)
    np.testing.assert_allclose(zq, [[0.5, 1.5]])
    np.testing.assert_allclose(zd, [[2.0, 5.0]])
    sq, sd = R.apply_method("mds", q, d, mq, md)
    np.testing.assert_allclose(sq, [[1.5, 0.5]])
    np.testing.assert_array_equal(sd, d)
    with pytest.raises(LangrepError):
        R.apply_method("mds", q, d, np.zeros(3), md)
    with pytest.raises(LangrepError):
        R.apply_method("nope", q, d, mq, md)


# ---------------------------------------------------------------------------------------------
# margin mining and thresholds
# ---------------------------------------------------------------------------------------------


def test_mining_matches_brute_force_laser():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 8)) + 0.3
    y = rng.normal(size=(45, 8)) + 0.3
    k = 4
    c = R.mine(x, y, k=k, block_size=11)
    # brute force: full cosine matrix, k-NN means, margin of every pair
    _, _, s = brute_knn(x, y, k)
    fwd_mean = np.sort(s, axis=1)[:, -k:].mean(1)
    bwd_mean = np.sort(s, axis=0)[-k:, :].mean(0)
    margin = s / ((fwd_mean[:, None] + bwd_mean[None, :]) / 2)
    np.testing.assert_allclose(c.score, margin[c.src, c.tgt], rtol=1e-5)
    # LASER "max": best-margin candidate among the k nearest, each way, merged greedily
    nn_x = np.argsort(-s, axis=1)[:, :k]
    nn_y = np.argsort(-s, axis=0)[:k, :].T
    cands = [(margin[i, j], i, j) for i in range(len(x)) for j in [max(nn_x[i], key=lambda j: margin[i, j])]]
    cands += [(margin[i, j], i, j) for j in range(len(y)) for i in [max(nn_y[j], key=lambda i: margin[i, j])]]
    seen_x, seen_y, expect = set(), set(), set()
    for sc, i, j in sorted(cands, key=lambda t: -t[0]):
        if i not in seen_x and j not in seen_y:
            seen_x.add(i)
            seen_y.add(j)
            if sc > 0:
                expect.add((i, j))
    assert set(zip(c.src.tolist(), c.tgt.tolist())) == expect
    assert len(set(c.src.tolist())) == len(c) and len(set(c.tgt.tolist())) == len(c)
    assert np.all(np.diff(c.score) <= 0)


def test_select_threshold_hand_made():
    # F1 by cut: .5, .8, .667, .571 -> best after the 2nd candidate: halfway between .8 and .7
    assert R.select_threshold([0.7, 0.9, 0.6, 0.8], [False, True, False, True], 3) == pytest.approx(0.75)
    # F1 by cut: .4, .667, .571, .75 -> best at the last candidate: its own score
    assert R.select_threshold([0.9, 0.8, 0.7, 0.6], [True, True, False, True], 4) == pytest.approx(0.6)
    assert R.select_threshold([0.9, 0.8], [False, False], 2) == 0.0
    with pytest.raises(LangrepError):
        R.select_threshold([0.9], [True], 0)


def test_bucc_evaluate_hand_made():
    c = R.Candidates(np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]), np.array([2.0, 1.5, 1.2, 1.0]))
    src, tgt = ["a", "b", "c", "d"], ["A", "B", "C", "D"]
    gold = {("a", "A"), ("b", "B"), ("c", "X"), ("e", "E")}
    # chosen on gold: cut after 2 candidates -> P 100, R 50, F1 66.67, threshold 1.35
    r = R.bucc_evaluate(c, src, tgt, gold)
    assert r["threshold"] == pytest.approx(1.35)
    assert (r["precision"], r["recall"], r["f1"]) == pytest.approx((100, 50, 200 / 3))
    # a given threshold is applied unchanged: 4 extracted, 2 correct
    r = R.bucc_evaluate(c, src, tgt, gold, threshold=0.5)
    assert r["threshold"] == 0.5
    assert (r["precision"], r["recall"], r["f1"]) == pytest.approx((50, 50, 50))


def test_unify_drops_repeated_texts():
    rng = np.random.default_rng(2)
    y = rng.normal(size=(30, 16))
    x = y[:10] + 0.01 * rng.normal(size=(10, 16))
    x[3] = x[4]  # the same sentence twice on the source side
    src_texts = [f"s{i}" for i in range(10)]
    src_texts[3] = src_texts[4] = "dup"
    c = R.mine(x, y, K, BLOCK)
    # without the texts, one of the two copies takes y[4]
    assert len({(3, 4), (4, 4)} & set(zip(c.src.tolist(), c.tgt.tolist()))) == 1
    cu = R.mine_unified(x, y, src_texts, None, K, BLOCK)
    pairs = set(zip(cu.src.tolist(), cu.tgt.tolist()))
    assert not any(s in (3, 4) for s, _ in pairs)
    assert {(i, i) for i in (0, 1, 2, 5, 6, 7, 8, 9)} <= pairs


# ---------------------------------------------------------------------------------------------
# files -> rows
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def tatoeba_files(tmp_path):
    """en sentences share a large common component (as real embeddings do) and xx = en + a
    language offset + small noise, in shuffled order: MDS and Zero-mean with the true means must
    be (nearly) perfect, the original embeddings much worse."""
    rng = np.random.default_rng(3)
    n, h = 200, 32
    common = 4 * rng.normal(size=h)
    offset = 6 * rng.normal(size=h)
    en = {l: common + rng.normal(size=(n, h)) for l in (0, 1)}
    perm = rng.permutation(n)
    xx = {l: en[l][perm] + offset + 0.05 * rng.normal(size=(n, h)) for l in (0, 1)}
    ids = np.array([str(i) for i in range(n)])
    xx_p = write_embeddings(tmp_path / "emb/xx.parquet", ids[perm], xx)
    en_p = write_embeddings(tmp_path / "emb/en.parquet", ids, en)
    # eval means = the sets' own means; "mono" = wrong means (the offset is missing)
    ev = {
        "xx": write_mean_file(tmp_path / "m/eval_xx.parquet", np.stack([xx[l].mean(0) for l in (0, 1)])),
        "en": write_mean_file(tmp_path / "m/eval_en.parquet", np.stack([en[l].mean(0) for l in (0, 1)])),
    }
    mono = {
        "xx": write_mean_file(tmp_path / "m/mono_xx.parquet", np.stack([common, common])),
        "en": write_mean_file(tmp_path / "m/mono_en.parquet", np.stack([common, common])),
    }
    return xx_p, en_p, {"eval": ev, "mono": mono}


def test_tatoeba_rows_from_files(tatoeba_files, tmp_path):
    xx_p, en_p, means = tatoeba_files
    out = tmp_path / "scores/tatoeba.csv"
    df = R.run_tatoeba("m", {"de": {"xx": xx_p, "en": en_p, "means": means}}, out, {"layers": "all", "layer": 1})
    assert out.exists()
    got = pd.read_csv(out)
    assert (
        list(got.columns[:9]) == ["model", "task", "lang", "layer", "method", "direction", "split", "metric", "value"]
        and "means" in got.columns
    )
    # 2 layers x 3 methods x 2 means x 2 directions
    assert len(got) == 24 and set(got.layer) == {0, 1} and set(got.metric) == {"accuracy"}
    ev = got[got["means"] == "eval"].set_index(["layer", "method", "direction"])["value"]
    for layer in (0, 1):
        for d in ("xx-en", "en-xx"):
            assert ev[(layer, "mds", d)] >= 99 and ev[(layer, "zero_mean", d)] >= 99
            assert ev[(layer, "original", d)] < 60
    # original does not depend on the means and is repeated under both sources
    orig = got[got.method == "original"].pivot_table(index=["layer", "direction"], columns="means", values="value")
    np.testing.assert_array_equal(orig["eval"], orig["mono"])
    # the wrong ("mono") means leave the offset in: MDS no better than the original
    mono = got[got["means"] == "mono"].set_index(["layer", "method", "direction"])["value"]
    assert mono[(1, "mds", "xx-en")] < ev[(1, "mds", "xx-en")]
    assert len(df) == 24


def test_tatoeba_layer_selection_and_errors(tatoeba_files, tmp_path):
    xx_p, en_p, means = tatoeba_files
    rows = R.tatoeba_rows(
        "m", "de", xx_p, en_p, means, layers=[], headline=1, methods=["original"], directions=["xx-en"]
    )
    assert [(r["layer"], r["means"]) for r in rows] == [(1, "eval"), (1, "mono")]
    with pytest.raises(LangrepError, match="layer"):
        R.tatoeba_rows("m", "de", xx_p, en_p, means, layers=[5], headline=None)
    bad = write_embeddings(
        tmp_path / "bad.parquet", [str(i) for i in range(200)], {0: np.ones((200, 8)), 1: np.ones((200, 8))}
    )
    with pytest.raises(LangrepError, match="dimensions|-d"):
        R.tatoeba_rows("m", "de", bad, en_p, means, layers=[1], headline=None, methods=["original"])
    other_ids = write_embeddings(
        tmp_path / "ids.parquet", [f"x{i}" for i in range(200)], {0: np.ones((200, 32)), 1: np.ones((200, 32))}
    )
    with pytest.raises(LangrepError, match="ids differ"):
        R.tatoeba_rows("m", "de", other_ids, en_p, means, layers=[1], headline=None)
    with pytest.raises(LangrepError, match="retrieval.means"):
        R.tatoeba_rows("m", "de", xx_p, en_p, {}, layers=[1], headline=None)


def _bucc_split(tmp_path, split, rng, n_x=120, n_y=150, n_gold=40, h=24, offset=None):
    """xx: n_gold translations of en sentences (en + offset + noise) and unrelated sentences."""
    en = 3.0 + rng.normal(size=(n_y, h))
    gold_tgt = rng.choice(n_y, n_gold, replace=False)
    xx = 3.0 + rng.normal(size=(n_x, h))
    xx[:n_gold] = en[gold_tgt] + 0.3 * rng.normal(size=(n_gold, h))
    xx += offset
    xx_ids = [f"xx-{split}-{i:05d}" for i in range(n_x)]
    en_ids = [f"en-{split}-{i:05d}" for i in range(n_y)]
    d = tmp_path / split
    gold = pd.DataFrame({"src_id": xx_ids[:n_gold], "tgt_id": [en_ids[j] for j in gold_tgt]})
    d.mkdir(parents=True)
    gold.to_parquet(d / "gold.parquet")
    return {
        "xx": write_embeddings(d / "xx.parquet", xx_ids, {8: xx}),
        "en": write_embeddings(d / "en.parquet", en_ids, {8: en}),
        "gold": d / "gold.parquet",
        "means": {
            "eval": {
                "xx": write_mean_file(d / "mxx.parquet", np.tile(xx.mean(0), (9, 1))),
                "en": write_mean_file(d / "men.parquet", np.tile(en.mean(0), (9, 1))),
            }
        },
    }


def test_bucc_rows_dev_threshold_applied_to_test(tmp_path):
    rng = np.random.default_rng(4)
    offset = 2.0 * rng.normal(size=24)
    plan = {
        "dev": _bucc_split(tmp_path, "dev", rng, offset=offset),
        "test": _bucc_split(tmp_path, "test", rng, offset=offset),
    }
    out = tmp_path / "bucc.csv"
    write_scores(B.bucc_rows("m", "zh", plan, layers=[8], headline=8), out)
    got = pd.read_csv(out)
    assert set(got.metric) == {"precision", "recall", "f1", "threshold"}
    assert set(got.split) == {"dev", "test"} and set(got.direction) == {"xx-en"}
    v = got.set_index(["split", "method", "metric"])["value"]
    for m in ("original", "zero_mean", "mds"):
        assert v[("test", m, "threshold")] == v[("dev", m, "threshold")]
    # the planted translations are found far above chance (chance F1 ~ 0)
    assert v[("dev", "mds", "f1")] > 80 and v[("test", "mds", "f1")] > 80
    with pytest.raises(LangrepError, match="dev"):
        B.bucc_rows("m", "zh", {"test": plan["test"]}, layers=[8])


def test_bucc_bad_input(tmp_path):
    rng = np.random.default_rng(5)
    spec = _bucc_split(tmp_path, "dev", rng, offset=np.zeros(24))
    gold = pd.read_parquet(spec["gold"])
    gold.loc[3, "tgt_id"] = "en-nowhere"
    gold.to_parquet(tmp_path / "badgold.parquet")
    with pytest.raises(LangrepError, match="badgold.parquet, row 3: tgt_id 'en-nowhere'"):
        B.bucc_rows("m", "zh", {"dev": {**spec, "gold": tmp_path / "badgold.parquet"}}, layers=[8])
    other = write_embeddings(
        tmp_path / "en16.parquet", [f"en-dev-{i:05d}" for i in range(150)], {8: rng.normal(size=(150, 16))}
    )
    with pytest.raises(LangrepError, match="-d"):
        B.bucc_rows("m", "zh", {"dev": {**spec, "en": other}}, layers=[8])
    with pytest.raises(LangrepError, match="shapes"):
        R.mine(rng.normal(size=(5, 4)), rng.normal(size=(5, 3)), K, BLOCK)
    with pytest.raises(LangrepError, match="not found"):
        B.bucc_rows("m", "zh", {"dev": {**spec, "gold": tmp_path / "none.parquet"}}, layers=[8])


def test_mining_per_split_then_scoring_equals_bucc_rows(tmp_path):
    """The pipeline's two steps (candidates of each split to Parquet, then the scores of all
    splits) give the table of the one-step library call."""
    rng = np.random.default_rng(4)
    offset = 2.0 * rng.normal(size=24)
    plan = {
        "dev": _bucc_split(tmp_path, "dev", rng, offset=offset),
        "test": _bucc_split(tmp_path, "test", rng, offset=offset),
    }
    whole = write_scores(B.bucc_rows("m", "zh", plan, layers=[8], headline=8), tmp_path / "one_step.csv")
    files = {}
    for split, spec in plan.items():
        files[split] = {"candidates": tmp_path / f"cand_{split}.parquet", "gold": spec["gold"]}
        mined = B.run_bucc_mine(
            spec, files[split]["candidates"], {"bucc": {"layers": [8]}, "layer": 8, "device": "cpu"}
        )
        assert set(mined.frame["method"]) == {"original", "zero_mean", "mds"}
        # original uses no means and is mined once
        assert set(mined.frame.loc[mined.frame.method == "original", "means"]) == {""}
    back = B.read_candidates(files["test"]["candidates"])
    assert back.layers == [8] and back.means == ["eval"] and len(back.frame) == len(mined.frame)
    two_step = B.run_bucc_scores("m", {"zh": files}, tmp_path / "two_step.csv")
    pd.testing.assert_frame_equal(two_step.reset_index(drop=True), whole.reset_index(drop=True))
    # splits mined with different settings are not scored together
    B.run_bucc_mine(plan["test"], tmp_path / "other.parquet", {"layers": [8], "layer": 8, "methods": ["original"]})
    with pytest.raises(LangrepError, match="same settings"):
        B.run_bucc_scores(
            "m",
            {"zh": {**files, "test": {**files["test"], "candidates": tmp_path / "other.parquet"}}},
            tmp_path / "x.csv",
        )
    with pytest.raises(LangrepError, match="not found"):
        B.read_candidates(tmp_path / "none.parquet")


# ---------------------------------------------------------------------------------------------
# the torch k-NN (GPU path, run here on the CPU) against FAISS
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("block_size", [7, 10_000])
def test_torch_knn_equals_faiss(block_size):
    rng = np.random.default_rng(7)
    q = R.normalize(rng.normal(size=(301, 32)))
    d = R.normalize(rng.normal(size=(257, 32)))
    s_f, i_f = R.knn(q, d, 4, block_size, backend="faiss")
    s_t, i_t = R.knn(q, d, 4, block_size, backend="torch")
    np.testing.assert_array_equal(i_t, i_f)
    np.testing.assert_allclose(s_t, s_f, rtol=1e-5, atol=1e-6)
    # the similarity budget splits the queries into more blocks; the lists stay the same
    import langrep.retrieval.knn_search as K

    budget = K.SIMILARITY_BYTES["cpu"]
    try:
        K.SIMILARITY_BYTES["cpu"] = 4 * len(d) * 5  # 5 query rows per block
        np.testing.assert_array_equal(R.knn(q, d, 4, block_size, backend="torch")[1], i_f)
    finally:
        K.SIMILARITY_BYTES["cpu"] = budget


def test_torch_knn_ties():
    """Duplicate database rows and an all-zero query (every similarity 0): the similarity lists
    equal FAISS's; rows may differ only where similarities tie exactly (FAISS keeps whichever its
    heap kept), and the torch backend keeps the lowest tied rows, in increasing order."""
    rng = np.random.default_rng(8)
    d = R.normalize(rng.normal(size=(60, 8)))
    d[[3, 10, 20, 30, 40]] = d[7]
    q = np.vstack([d[7], np.zeros(8), d[:25]]).astype(np.float32)
    exact = q.astype(np.float64) @ d.astype(np.float64).T
    for k in (1, 4, 8):
        s_f, i_f = R.knn(q, d, k, BLOCK, backend="faiss")
        s_t, i_t = R.knn(q, d, k, BLOCK, backend="torch")
        np.testing.assert_allclose(s_t, s_f, atol=1e-6)
        for r in range(len(q)):
            # where the two differ, the rows tie
            diff = i_t[r] != i_f[r]
            np.testing.assert_allclose(exact[r, i_t[r][diff]], exact[r, i_f[r][diff]], atol=1e-6)
            for value in np.unique(exact[r, i_t[r]]):
                tied = np.flatnonzero(np.abs(exact[r] - value) < 1e-6)  # in increasing order
                got = i_t[r][np.abs(exact[r, i_t[r]] - value) < 1e-6]
                assert got.tolist() == tied[: len(got)].tolist()
    assert R.knn(q[:2], d, 4, BLOCK, backend="torch")[1].tolist() == [[3, 7, 10, 20], [0, 1, 2, 3]]


def test_mining_with_the_torch_knn_equals_faiss(monkeypatch):
    import functools

    import langrep.retrieval.mining as M

    rng = np.random.default_rng(9)
    y = rng.normal(size=(300, 16)) + 0.5
    x = np.vstack([y[:200] + 0.2 * rng.normal(size=(200, 16)), rng.normal(size=(150, 16)) + 0.5])
    faiss_c = R.mine(x, y, 4, BLOCK)
    monkeypatch.setattr(M, "knn", functools.partial(M.knn, backend="torch"))
    torch_c = R.mine(x, y, 4, BLOCK)
    np.testing.assert_array_equal(torch_c.src, faiss_c.src)
    np.testing.assert_array_equal(torch_c.tgt, faiss_c.tgt)
    np.testing.assert_allclose(torch_c.score, faiss_c.score, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# non-finite embeddings: one clear error instead of FAISS's -1 "no neighbour"
# ---------------------------------------------------------------------------------------------


def test_nan_embeddings_are_refused_with_the_side_and_row(tmp_path):
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(20, 8)), rng.normal(size=(30, 8))
    x[3, 2] = np.nan
    with pytest.raises(LangrepError, match=r"mining source \(x\): row 3 has non-finite"):
        R.mine(x, y, K, BLOCK)
    with pytest.raises(LangrepError, match=r"mining target \(y\): row 5 .*\(2 rows in all\)"):
        y[[5, 9], 0] = np.inf
        R.mine(np.ones((20, 8)), y, K, BLOCK)
    with pytest.raises(LangrepError, match="accuracy queries: row 3"):
        R.accuracy_at_1(x, y[:20])
    with pytest.raises(LangrepError, match="accuracy targets: row 5"):
        R.accuracy_at_1(np.ones((30, 8)), y)
    for backend in ("faiss", "torch"):
        with pytest.raises(LangrepError, match="knn database: row 5"):
            R.knn(np.ones((2, 8), np.float32), y.astype(np.float32), 2, BLOCK, backend=backend)
    # from files: the file, the layer and the sentence id are named
    ids = [f"s{i}" for i in range(20)]
    path = write_embeddings(tmp_path / "xx.parquet", ids, {8: x})
    en = write_embeddings(tmp_path / "en.parquet", ids, {8: rng.normal(size=(20, 8))})
    with pytest.raises(LangrepError, match=r"xx.parquet: the layer 8 embedding of sentence 's3' \(row 3\)"):
        R.tatoeba_rows("m", "de", path, en, {}, layers=[8], headline=None, methods=["original"])
    bad_mean = write_mean_file(tmp_path / "m.parquet", np.full((9, 8), np.nan))
    ok = write_embeddings(tmp_path / "ok.parquet", ids, {8: rng.normal(size=(20, 8))})
    with pytest.raises(LangrepError, match="m.parquet: the mean of layer 8 is not finite"):
        R.tatoeba_rows(
            "m",
            "de",
            ok,
            en,
            {"eval": {"xx": bad_mean, "en": bad_mean}},
            layers=[8],
            headline=None,
            methods=["zero_mean"],
        )


# ---------------------------------------------------------------------------------------------
# the real BUCC2018 zh-en sample (dev) split from the offline mirror
# ---------------------------------------------------------------------------------------------


def _read_bucc(split_file: Path) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    for line in split_file.read_text(encoding="utf-8").splitlines():
        i, t = line.split("\t", 1)
        ids.append(i)
        texts.append(t)
    return ids, texts


@pytest.fixture(scope="module")
def bucc_zh_dev():
    d = MIRROR / "bucc2018" / "zh-en"
    if not (d / "zh-en.dev.zh").exists():
        pytest.skip(f"BUCC zh-en dev not in the mirror {MIRROR}")
    zh_ids, zh = _read_bucc(d / "zh-en.dev.zh")
    en_ids, en = _read_bucc(d / "zh-en.dev.en")
    gold = {tuple(l.split("\t")) for l in (d / "zh-en.dev.gold").read_text().splitlines()}
    return zh_ids, zh, en_ids, en, gold


def _digit_embedding(texts, dim=128):
    """Hashed bag of the numbers in a sentence: the one thing a Chinese sentence and its English
    translation share without any translation knowledge."""
    x = np.zeros((len(texts), dim), np.float32)
    for r, t in enumerate(texts):
        for tok in set(re.findall(r"\d+", t)):
            x[r, int(hashlib.blake2b(tok.encode(), digest_size=8).hexdigest(), 16) % dim] += 1.0
    return x


def test_real_bucc_zh_dev_with_numbers(bucc_zh_dev):
    """Mining the real 8.6k x 13.6k zh-en sample with a translation-free signal (shared numbers).
    Only the quarter of the gold pairs that share a number can be found, and many non-gold
    sentences share years too, so F1 is low (~5%); but at chance (the same candidates judged with
    shuffled English ids) F1 is ~0: random one-to-one pairs hit ~257/13589 = 0.02 gold pairs.
    This shows the ids, the gold and the margin + threshold protocol working on real text."""
    zh_ids, zh, en_ids, en, gold = bucc_zh_dev
    c = R.mine_unified(_digit_embedding(zh), _digit_embedding(en), zh, en, K, BLOCK)
    r = R.bucc_evaluate(c, zh_ids, en_ids, gold)
    assert r["f1"] > 3 and r["precision"] > 5
    shuffled = list(np.random.default_rng(0).permutation(en_ids))
    chance = R.bucc_evaluate(c, zh_ids, shuffled, gold)
    assert chance["f1"] < 0.5 * r["f1"] and chance["recall"] < 1


def test_real_bucc_zh_dev_planted_partners(bucc_zh_dev):
    """Random 'embeddings' for English; each gold zh sentence gets its English partner's vector plus
    noise, the other zh sentences random vectors. The mining must recover (nearly) exactly the gold,
    through the real ids, duplicates and sizes of the split."""
    zh_ids, zh, en_ids, en, gold = bucc_zh_dev
    rng = np.random.default_rng(6)
    h = 64
    ey = rng.normal(size=(len(en_ids), h)).astype(np.float32)
    ex = rng.normal(size=(len(zh_ids), h)).astype(np.float32)
    row_en = {i: r for r, i in enumerate(en_ids)}
    row_zh = {i: r for r, i in enumerate(zh_ids)}
    for s, t in gold:
        ex[row_zh[s]] = ey[row_en[t]] + 0.3 * rng.normal(size=h)
    c = R.mine_unified(ex, ey, zh, en, K, block_size=1000)
    r = R.bucc_evaluate(c, zh_ids, en_ids, gold)
    # at most the gold pairs with a repeated text are lost (LASER drops them)
    assert r["f1"] > 95 and r["precision"] > 95


# ---------------------------------------------------------------------------------------------
# the mining job's resources (workflow/rules/plans/retrieval.smk)
# ---------------------------------------------------------------------------------------------


def _retrieval_helpers(config: dict, gpu: int) -> dict:
    """The helper functions of the retrieval rules, as Snakemake defines them."""
    from langrep.paths import flatten_plan, path

    # what workflow/rules/common.smk defines for every stage
    ns = {
        "config": config,
        "GPU": gpu,
        "stage_models": lambda stage: list(config["models"]),
        "path": path,
        "flatten_plan": flatten_plan,
        "RETRIEVAL": config["retrieval"],
        "BUCC": config["retrieval"]["bucc"],
        "BUCC_LAYERS": RetrievalSettings.from_config(config["retrieval"]).bucc_layers,
        "TATOEBA_LANGS": [],
    }
    exec(compile((ROOT / "workflow/rules/plans/retrieval.smk").read_text(), "retrieval.smk", "exec"), ns)
    return ns


def test_mining_resources_scale_with_the_inputs_and_the_attempt(tmp_path):
    rng = np.random.default_rng(11)
    cfg = {
        "models": {"m": {}},
        "languages": ["en"],
        "retrieval": {
            "layer": 8,
            "methods": ["original", "zero_mean", "mds"],
            "means": ["eval", "mono"],
            "tatoeba": {"langs": []},
            "bucc": {"pairs": ["zh"], "splits": ["dev"], "layers": []},
        },
    }

    def job(n_x, n_y):
        xx = write_embeddings(
            tmp_path / f"x{n_x}.parquet",
            [str(i) for i in range(n_x)],
            {0: rng.normal(size=(n_x, 16)), 8: rng.normal(size=(n_x, 16))},
        )
        en = write_embeddings(
            tmp_path / f"y{n_y}.parquet",
            [str(i) for i in range(n_y)],
            {0: rng.normal(size=(n_y, 16)), 8: rng.normal(size=(n_y, 16))},
        )
        return {"in__xx": str(xx), "in__en": str(en)}  # the mining job's inputs, by name

    cpu, gpu = _retrieval_helpers(cfg, 0), _retrieval_helpers(cfg, 1)
    small, big = job(1000, 2000), job(1000, 4000)
    # 1 layer (bucc.layers [] = the headline layer 8) x 5 (method, means) pairs, both ways
    assert cpu["_bucc_mine_size"](small) == (1000, 2000, 16, 1, 5)
    flops = 2 * 2 * 1000 * 2000 * 16 * 5
    assert cpu["bucc_mine_runtime"](None, small, threads=1, attempt=1) == int(10 + 2 * flops / 30e9 / 60)
    for f in ("bucc_mine_runtime", "bucc_mine_mem_mb"):
        args = {"threads": 2} if f == "bucc_mine_runtime" else {}
        one, two = cpu[f](None, big, attempt=1, **args), cpu[f](None, big, attempt=2, **args)
        assert two == pytest.approx(2 * one, abs=1) and one >= cpu[f](None, small, attempt=1, **args)
    # time grows with n_x * n_y, and a GPU job is given less of it
    n = 200_000
    huge = {"in__xx": "x", "in__en": "y"}
    for ns in (cpu, gpu):
        ns["_embeddings_shape"] = lambda p: (n, 768, 1)
    t_cpu = cpu["bucc_mine_runtime"](None, huge, threads=2, attempt=1) - 10
    n = 400_000
    assert cpu["bucc_mine_runtime"](None, huge, threads=2, attempt=1) - 10 == pytest.approx(4 * t_cpu, rel=0.01)
    assert gpu["bucc_mine_runtime"](None, huge, threads=2, attempt=1) < 0.1 * 4 * t_cpu
    # before the inputs exist (while the DAG is built) the base values stand in
    cpu = _retrieval_helpers(cfg, 0)
    missing = {"in__xx": str(tmp_path / "none.parquet"), "in__en": str(tmp_path / "none.parquet")}
    assert cpu["bucc_mine_runtime"](None, missing, threads=2, attempt=1) == 10
    assert cpu["bucc_mine_mem_mb"](None, missing, attempt=1) == 2000


# ---------------------------------------------------------------------------------------------
# the config section
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_config_retrieval_section_is_valid(name):
    import copy

    import yaml
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    schema = str(ROOT / "src/langrep/resources/config.schema.yaml")
    cfg = yaml.safe_load((ROOT / "config" / name).read_text())
    validate(copy.deepcopy(cfg), schema)
    ret = cfg["retrieval"]
    assert ret["layer"] == 8 and set(ret["methods"]) == {"original", "zero_mean", "mds"}
    for bad in ({"layers": "some"}, {"means": ["wiki"]}, {"bucc": {"pairs": ["xx"]}}, {"block_size": 0}):
        wrong = copy.deepcopy(cfg)
        wrong["retrieval"].update(bad)
        with pytest.raises(WorkflowError):
            validate(wrong, schema)
