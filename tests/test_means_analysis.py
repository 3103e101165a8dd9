"""The language-means analysis on synthetic means and sentences whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from langrep.analysis import convergence as mc
from langrep.analysis import means as ma
from langrep.errors import LangrepError
from langrep.means.representations import LanguageMeans, write_means
from langrep.retrieval.tatoeba import tatoeba_rows

# ---------------------------------------------------------------------------------------------
# Geometry


def test_cosine_matrix_and_cluster_order_group_similar_means():
    # two families: {0, 2} along x, {1, 3} along y
    v = np.array([[1.0, 0.1, 0], [0.1, 1.0, 0], [1.0, 0.2, 0], [0.2, 1.0, 0.1]])
    sim = ma.cosine_matrix(v)
    assert sim[0, 2] == pytest.approx(float(v[0] @ v[2] / np.linalg.norm(v[0]) / np.linalg.norm(v[2])))
    assert np.allclose(np.diag(sim), 1.0) and np.allclose(sim, sim.T)
    order = ma.cluster_order(sim)
    assert sorted(order) == [0, 1, 2, 3]
    pos = {item: i for i, item in enumerate(order)}
    assert abs(pos[0] - pos[2]) == 1 and abs(pos[1] - pos[3]) == 1
    with pytest.raises(LangrepError, match="zero vector"):
        ma.cosine_matrix(np.zeros((2, 3)))


def test_pca_agrees_with_the_covariance_eigenvectors():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 5)) * np.array([5.0, 2.0, 0.5, 0.1, 0.1])
    got = ma.pca_2d(x)
    xc = x - x.mean(0)
    w, vecs = np.linalg.eigh(xc.T @ xc)
    top = vecs[:, np.argsort(w)[::-1][:2]]
    ref = xc @ top
    for k in range(2):  # the same axes up to sign
        assert np.allclose(np.abs(got[:, k]), np.abs(ref[:, k]), atol=1e-9)
    assert np.array_equal(got, ma.pca_2d(x))  # deterministic signs


def test_geometry_rows_distance_from_english():
    means = {"en": np.array([[3.0, 4.0]]), "de": np.array([[3.0, 0.0]]), "fr": np.array([[0.0, 4.0]])}
    rows = pd.DataFrame(ma.geometry_rows(["en", "de", "fr"], means, [0]))
    norm = rows[rows.metric == "diff_norm_en"].set_index("lang")["value"]
    rel = rows[rows.metric == "diff_rel_en"].set_index("lang")["value"]
    assert norm.to_dict() == {"en": 0.0, "de": 4.0, "fr": 3.0}
    assert rel["de"] == pytest.approx(4.0 / 5.0)
    cos = rows[rows.metric == "mean_cosine"].set_index("lang")["value"]
    assert cos["de-fr"] == pytest.approx(0.0) and cos["en-de"] == pytest.approx(3.0 / 5.0)
    assert set(cos.index) == {"en-de", "en-fr", "de-fr"}


# ---------------------------------------------------------------------------------------------
# Language identity


def test_macro_accuracy_by_hand():
    overall, per = ma.macro_accuracy(np.array(["a", "a", "b"]), np.array(["a", "b", "b"]))
    assert per == {"a": 50.0, "b": 100.0} and overall == 75.0


def _languages(rng, n=300, dim=8, offset=10.0, spread=None):
    """Three languages: mean offset * e_i, isotropic unit noise (or ``spread[i]`` per axis)."""
    xs, labels, means = [], [], {}
    for i, lang in enumerate(["aa", "bb", "cc"]):
        mu = np.zeros(dim)
        mu[i] = offset
        scale = np.ones(dim) if spread is None else spread[i]
        xs.append(mu + rng.normal(size=(n, dim)) * scale)
        labels += [lang] * n
        means[lang] = mu
    return np.concatenate(xs), np.array(labels), means


def _table(rows):
    df = pd.DataFrame(rows)
    return df[df.lang == "all"].set_index(["classifier", "method"])["value"]


def test_identification_is_perfect_with_separated_means_and_at_chance_after_zero_mean():
    rng = np.random.default_rng(1)
    x, labels, means = _languages(rng)
    rows = ma.identification_rows(x, labels, means, split="synthetic", layer=3)
    acc = _table(rows)
    assert acc[("means", "original")] == 100.0
    assert acc[("heldout_means", "original")] == 100.0
    assert acc[("nearest_neighbour", "original")] == 100.0
    # after Zero-mean every language is the same isotropic cloud: nothing tells them apart
    assert abs(acc[("heldout_means", "zero_mean")] - 100 / 3) < 8
    assert abs(acc[("nearest_neighbour", "zero_mean")] - 100 / 3) < 8
    df = pd.DataFrame(rows)
    assert set(df.chance.round(6)) == {round(100 / 3, 6)} and set(df.layer) == {3} and set(df.split) == {"synthetic"}
    assert (df[df.lang == "all"].n_sentences == 900).all() and (df[df.lang == "aa"].n_sentences == 300).all()


def test_identity_beyond_the_mean_survives_zero_mean_for_the_nearest_neighbour_only():
    rng = np.random.default_rng(2)
    dim = 8
    spread = [np.where(np.arange(dim) == i, 5.0, 0.05) for i in range(3)]  # each language stretched along its own axis
    x, labels, means = _languages(rng, n=200, dim=dim, offset=0.0, spread=spread)
    acc = _table(ma.identification_rows(x, labels, means, "synthetic", 0))
    assert acc[("nearest_neighbour", "zero_mean")] > 95  # the shapes differ
    # the means do not: every language mean is the origin, so the nearest mean is always the first
    # candidate: 100% for it, 0% for the others
    assert acc[("means", "original")] == pytest.approx(100 / 3)


def test_nearest_mean_candidates_include_languages_without_test_sentences():
    rng = np.random.default_rng(3)
    x, labels, means = _languages(rng, n=20)
    means = dict(means, dd=np.full(8, 100.0))  # a fourth candidate, far away
    df = pd.DataFrame(ma.identification_rows(x, labels, means, "synthetic", 0))
    chance = df[df.lang == "all"].groupby("classifier")["chance"].unique()
    assert chance["means"].tolist() == [25.0] and chance["nearest_neighbour"].tolist() == [pytest.approx(100 / 3)]
    with pytest.raises(LangrepError, match="no language mean"):
        ma.identification_rows(x, labels, {"aa": means["aa"]}, "synthetic", 0)


def test_two_fold_needs_two_sentences_per_language():
    with pytest.raises(LangrepError, match="at least 2 sentences of 'b'"):
        ma.two_fold_centroid_labels(np.zeros((3, 2)), np.array(["a", "a", "b"]))


# ---------------------------------------------------------------------------------------------
# How much text a mean needs


def test_token_grid():
    assert mc.token_grid(25000) == [1000, 2000, 5000, 10000, 20000]
    assert mc.token_grid(1000) == [] and mc.token_grid(1001) == [1000]
    assert mc.token_grid(60, start=10) == [10, 20, 50]


def test_prefix_means_by_hand():
    pooled = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # per-sentence means
    counts = np.array([2, 3, 5])  # token sums: [2,0], [0,3], [5,5]
    p = mc.prefix_means(pooled, counts, [1, 2, 3, 5, 10, 11])
    assert p.n_target == [1, 2, 3, 5, 10] and p.n_used == [2, 2, 5, 5, 10]
    assert np.allclose(p.means[0], [1, 0]) and np.allclose(p.means[2], [0.4, 0.6])
    assert np.allclose(p.means[4], [0.7, 0.8])


def test_convergence_curve_with_a_known_answer():
    # the first half of the corpus points along x, the second along y: the full mean is (x+y)/2
    pooled = np.array([[1.0, 0.0]] * 50 + [[0.0, 1.0]] * 50)
    counts = np.full(100, 20)
    full = pooled.mean(axis=0)
    others = [np.array([1.5, 0.5]), np.array([-2.0, 0.5])]  # the nearest is 1.0 away from the full mean
    rows = mc.convergence_rows("xx", 4, mc.prefix_means(pooled, counts, [500, 1000, 2000]), full, others)
    cos = {r["n_tokens"]: r["value"] for r in rows if r["metric"] == "prefix_cosine"}
    assert cos[500] == pytest.approx(np.sqrt(0.5)) and cos[1000] == pytest.approx(np.sqrt(0.5))
    assert cos[2000] == pytest.approx(1.0)
    err = {r["n_tokens"]: r["value"] for r in rows if r["metric"] == "prefix_error"}
    assert err[500] == pytest.approx(np.sqrt(0.5)) and err[2000] == pytest.approx(0.0)  # |(1,0)-(.5,.5)| / 1
    assert {r["n_tokens_used"] for r in rows} == {500, 1000, 2000}
    assert all(
        r["metric"] == "prefix_cosine"
        for r in mc.convergence_rows("xx", 4, mc.prefix_means(pooled, counts, [500]), full)
    )


# ---------------------------------------------------------------------------------------------
# From files, as the rule runs it


def _write_embeddings(path, ids, counts, layers: dict[int, np.ndarray]):
    cols = {"id": pa.array([str(i) for i in ids]), "n_tokens": pa.array(np.asarray(counts, np.int32))}
    for l, x in layers.items():
        cols[f"layer_{l}"] = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1).astype(np.float32)), x.shape[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(cols), path)


def test_analyse_model_from_files(tmp_path):
    """Two layers, three languages: mono corpora with pooled vectors, Tatoeba pairs for de and fr.
    The whole-corpus means written as the pipeline would; checked against direct computations and
    against the retrieval stage's own Tatoeba scoring with the same means."""
    rng = np.random.default_rng(4)
    dim, n_mono, n_tat = 6, 60, 40
    langs = ["en", "de", "fr"]
    centre = {lang: rng.normal(size=(2, dim)) * 3 for lang in langs}
    plan = {"langs": langs, "means": {}, "mono": {}, "tatoeba": {}}
    for lang in langs:
        x = {l: centre[lang][l] + rng.normal(size=(n_mono, dim)) for l in (0, 1)}
        counts = rng.integers(5, 40, size=n_mono)
        path = tmp_path / "mono" / f"{lang}.parquet"
        _write_embeddings(path, range(1, n_mono + 1), counts, x)
        plan["mono"][lang] = str(path)
        means = np.stack([(x[l] * counts[:, None]).sum(0) / counts.sum() for l in (0, 1)])
        write_means(LanguageMeans(means, int(counts.sum())), tmp_path / "means" / f"{lang}.parquet")
        plan["means"][lang] = str(tmp_path / "means" / f"{lang}.parquet")
    shared = {l: rng.normal(size=(n_tat, dim)) * 2 for l in (0, 1)}  # translations share content
    for xx in ("de", "fr"):
        pair = {}
        for side, lang in (("xx", xx), ("en", "en")):
            layers = {l: shared[l] + centre[lang][l] + 0.3 * rng.normal(size=(n_tat, dim)) for l in (0, 1)}
            path = tmp_path / f"tatoeba_{xx}-en" / f"{lang}.parquet"
            _write_embeddings(path, range(1, n_tat + 1), np.full(n_tat, 7), layers)
            pair[side] = str(path)
        plan["tatoeba"][xx] = pair

    df = pd.DataFrame(ma.analyse_model("m", plan, layer=1, heldout=10, grid_start=100))
    assert set(df.model) == {"m"} and set(df.task) == {"means"}

    # convergence: the last prefix is the whole corpus, whose mean is the means file's
    conv = df[df.metric == "prefix_cosine"]
    last = conv.loc[conv.groupby(["lang", "layer"]).n_tokens.idxmax()]
    assert np.allclose(last.value, 1.0, atol=1e-6) and len(last) == 6
    assert set(conv[conv.lang == "de"].n_tokens) >= {100, 200, 500}

    # identification of the mono held-out: 3 languages, 10 sentences each, far-apart centres
    lid = df[(df.metric == "lid_accuracy") & (df.lang == "all")]
    assert set(lid.split) == {"mono", "tatoeba"} and set(lid.layer) == {0, 1}
    mono = lid[(lid.split == "mono") & (lid.classifier == "means")]
    assert (mono.n_sentences == 30).all() and np.allclose(mono.chance, 100 / 3)
    assert (mono.value > 90).all()  # far-apart centres, unit noise
    assert (lid[lid.split == "tatoeba"].n_sentences == 30).all()  # de, fr and the first pair's en

    # prefix retrieval: with all tokens it equals the retrieval stage's mono-means score
    acc = df[(df.metric == "tatoeba_accuracy") & df.n_tokens.isna()]
    for xx in ("de", "fr"):
        means_paths = {"mono": {"xx": plan["means"][xx], "en": plan["means"]["en"]}}
        ref = pd.DataFrame(
            tatoeba_rows(
                "m",
                xx,
                plan["tatoeba"][xx]["xx"],
                plan["tatoeba"][xx]["en"],
                means_paths,
                [1],
                headline=1,
                methods=["zero_mean", "mds"],
            )
        )
        for r in ref.itertuples():
            got = acc[(acc.lang == xx) & (acc.method == r.method) & (acc.direction == r.direction)].value
            assert got.tolist() == [pytest.approx(r.value)], (xx, r.method, r.direction)
    assert set(df[df.metric == "tatoeba_accuracy"].layer) == {1}


def test_without_pooled_mono_sentences_only_geometry_and_tatoeba(tmp_path):
    means = {lang: tmp_path / f"{lang}.parquet" for lang in ("en", "de")}
    for i, p in enumerate(means.values()):
        write_means(LanguageMeans(np.eye(3)[:2] + i, 10), p)
    df = pd.DataFrame(ma.analyse_model("m", {"langs": ["en", "de"], "means": means, "mono": {}, "tatoeba": {}}))
    assert set(df.metric) == {"mean_cosine", "pca_1", "pca_2", "diff_norm_en", "diff_rel_en"}
    assert set(df.layer) == {0, 1}
