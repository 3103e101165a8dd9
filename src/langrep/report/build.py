"""Building the report: every section is worked out once, here, into a :class:`Document` that the
two templates (HTML and Markdown, :mod:`langrep.report.render`) only lay out."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from langrep.artifacts import read_json
from langrep.io import atomic_write
from langrep.report import means_tables, render
from langrep.report.claims import Claim, claims
from langrep.report.compare import Comparison, compare, paper_notes
from langrep.report.paper import SAMPLES_TITLE, TABLES, TASKS, TATOEBA_DIRECTION_NOTE, load_paper_values
from langrep.report.protocols import ProtocolSection, protocol_section
from langrep.report.run import ModelRun, load_run
from langrep.report.samples import paper_samples, samples_by_model
from langrep.report.task_figures import captions_from, figure_list, write_figures
from langrep.report.wide import BETTER, WORSE, WidePart, wide_parts
from langrep.settings import ReportSettings, RetrievalSettings

CLAIMS_LEGEND = (
    "Per claim, the number of languages where it holds, ours beside the paper's. Ours count a language only "
    "where the paired 95% bootstrap interval of the difference excludes zero (clearly better), and say how many "
    "are clearly worse and how many unclear (the interval holds zero); docs/intervals.md says what is resampled "
    "in each table. A score table without intervals (written by an older langrep) is counted from raw "
    'differences and says so ("raw differences"). "paper" counts every language it printed; where we ran '
    "fewer, its count on ours follows."
)
INTRO = (
    "Our numbers beside those printed in Liu et al. (2020), *Language Representation in Multilingual BERT "
    "and its applications to improve Cross-lingual Generalization*, in the paper's own table shapes: each "
    "cell is ours with the paper's value beside it, one column block per model."
)


@dataclass
class ModelNotes:
    """One model's statements under one table (said once, not per row)."""

    model: str
    missing: str | None
    caveats: list[str]
    notes: list[str]
    like_for_like: bool


@dataclass
class TableSection:
    """One paper table in the report: its wide parts, per-model notes, the paper's notes, legend, figures
    and (Table 1) the block of its two translation protocols."""

    number: int
    title: str
    anchor: str
    parts: list[WidePart]
    models: list[ModelNotes]
    paper_notes: list[str]
    legend: list[str]
    figures: list[dict] = field(default_factory=list)  # {"model", "name", "path", "caption", ...}
    protocols: ProtocolSection | None = None  # Table 1 only: under two protocols, where a model has both


@dataclass
class Document:
    """Everything the report templates render."""

    title: str
    intro: str
    claims_legend: str
    claims: list[Claim]
    models: list[dict]  # {"key", "lines", "caveats", "scores": [(task, link, rows)]}
    tables: list[TableSection]
    samples_title: str
    paper_samples: pd.DataFrame
    samples: dict[str, pd.DataFrame | None]
    side_by_side: list[tuple]  # blocks (heading, text, table as text)
    means: dict[str, list[tuple]]  # model -> blocks
    means_figures: dict[str, list[dict]]
    comparison_link: str
    provenance: Mapping | None
    config: Mapping


@dataclass
class ReportFiles:
    """The files :func:`write_report` writes: HTML, Markdown, the comparison CSV and the figures."""

    html: Path
    markdown: Path
    comparison: Path
    figures: dict[str, Path]


def _legend(number: int, comparisons: list[Comparison]) -> list[str]:
    out = ["Each cell: ours, then the paper's value (grey); an empty cell: no number."]
    if number in (2, 3, 4, 5):
        out.append(
            f"{BETTER} / {WORSE}: Zero-mean or MDS clearly above / below Original (the paired 95% bootstrap "
            "interval of the difference excludes zero); hover a cell for its intervals."
        )
    elif number == 1:
        out.append(
            f"{BETTER} / {WORSE}: clearly above / below the same line at a lower α (α=1 against α=0, α above 1 "
            "against α=1; the paired 95% bootstrap interval excludes zero); hover a cell for its intervals."
        )
    if any((c.rows["lang"] == "avg").any() for c in comparisons if not c.missing):
        out.append("avg: the mean over the paper's languages, only where we have them all.")
    if number == 2:
        out.append(TATOEBA_DIRECTION_NOTE)
    return out


def _blocks(blocks) -> list[tuple]:
    return [(h, t, None if tab is None or not len(tab) else means_tables.formatted(tab)) for h, t, tab in blocks]


def _table_sections(
    runs: list[ModelRun], paper: pd.DataFrame, config: Mapping, figures: Mapping[str, list[dict]]
) -> tuple[list[TableSection], list[Comparison]]:
    sections, every = [], []
    for number, spec in TABLES.items():
        comps = [compare(number, paper, run, config) for run in runs]
        every += comps
        order = list(dict.fromkeys(paper.loc[paper["table"] == number, "lang"]))
        said, marks = paper_notes(paper, number)
        sections.append(
            TableSection(
                number,
                spec.title,
                spec.anchor,
                wide_parts(spec, comps, order, marks),
                [
                    ModelNotes(c.model, c.missing, c.caveats, c.notes, not (c.missing or c.caveats or run.caveats()))
                    for c, run in zip(comps, runs)
                ],
                said,
                _legend(number, comps),
                [f for run in runs for f in figures.get(run.key, []) if f["task"] == spec.task],
            )
        )
        if number == 1:
            sections[-1].protocols = protocol_section(runs, paper)
    return sections, every


def document(
    config: Mapping, runs: list[ModelRun], paper: pd.DataFrame, out_dir: Path, *, figures, samples, provenance=None
) -> tuple[Document, list[Comparison]]:
    """The report's document for ``runs`` beside the paper's values, and every table's comparison."""
    layer = RetrievalSettings.from_config(config.get("retrieval")).layer
    tables, comparisons = _table_sections(runs, paper, config, figures)

    def link(path) -> str:
        return Path(os.path.relpath(Path(path).resolve(), out_dir.resolve())).as_posix()

    models = [
        {
            "key": r.key,
            "lines": r.describe(),
            "caveats": r.caveats(),
            "missing": [(t, TASKS[t]) for t in r.missing_tasks],
            "scores": [(t, link(r.score_files[t]), r.n_rows(t)) for t in r.scores if t in r.score_files],
        }
        for r in runs
    ]
    side = means_tables.models_side_by_side({r.key: r.scores for r in runs}, layer) if len(runs) > 1 else []
    doc = Document(
        title=ReportSettings.from_config(config.get("report")).title,
        intro=INTRO,
        claims_legend=CLAIMS_LEGEND,
        claims=claims(comparisons, paper),
        models=models,
        tables=tables,
        samples_title=SAMPLES_TITLE,
        paper_samples=paper_samples(paper),
        samples={r.key: samples.get(r.key) for r in runs if "translation" not in r.skipped_tasks},
        side_by_side=_blocks(side),
        means={
            r.key: _blocks(means_tables.model_section(r.scores["means"], layer)) for r in runs if "means" in r.scores
        },
        means_figures={k: [f for f in fs if f["task"] == "means"] for k, fs in figures.items()},
        comparison_link="comparison.csv",
        provenance=provenance,
        config=config,
    )
    return doc, comparisons


def build_report(
    config: Mapping,
    score_files: Iterable,
    out_dir,
    *,
    means_files: Iterable = (),
    model_dirs: Iterable = (),
    samples_files: Iterable = (),
    caption_files: Iterable = (),
    provenance=None,
    paper_values=None,
) -> ReportFiles:
    """Write ``{out_dir}/report.html`` (self-contained: figures embedded), ``report.md`` (figures
    linked), ``comparison.csv`` (every compared cell in long format) and the figures under
    ``{out_dir}/figures/{model}/``.

    Only the files named are read (the report rule declares each): ``score_files`` (any subset of
    the tasks of ``results/{model}/scores/{task}.csv``; the others are reported as missing),
    ``means_files`` (the mono language means, for their token counts), ``model_dirs`` (their
    ``config.json``, for the number of layers), ``samples_files`` (the translation samples, beside
    the paper's Table 7), ``caption_files`` (``workflow/report/*.rst``, the figure captions) and
    ``provenance`` (a dict or the path of :func:`langrep.report.provenance.write_provenance`'s JSON).
    """
    out_dir = Path(out_dir)
    config = json.loads(json.dumps(dict(config), default=str))  # Snakemake's Config -> plain dicts
    if isinstance(provenance, (str, Path)):
        provenance = read_json(provenance)
    paper = load_paper_values(paper_values)
    runs = load_run(config, score_files, means_files, model_dirs)
    captions = captions_from(caption_files)
    layer = RetrievalSettings.from_config(config.get("retrieval")).layer
    paths, figures = {}, {}
    for run in runs:
        written = write_figures(run, out_dir / "figures", paper, layer)
        paths.update(written)
        figures[run.key] = [
            dict(f, model=run.key, rel=Path(f["path"]).relative_to(out_dir).as_posix())
            for f in figure_list(written, captions)
        ]
    doc, comparisons = document(
        config, runs, paper, out_dir, figures=figures, samples=samples_by_model(samples_files), provenance=provenance
    )
    files = ReportFiles(out_dir / "report.html", out_dir / "report.md", out_dir / "comparison.csv", paths)
    long = [c.rows for c in comparisons if not c.missing]
    with atomic_write(files.comparison) as tmp:
        (pd.concat(long, ignore_index=True) if long else pd.DataFrame()).to_csv(tmp, index=False)
    with atomic_write(files.markdown) as tmp:
        tmp.write_text(render.markdown(doc), encoding="utf-8")
    with atomic_write(files.html) as tmp:
        tmp.write_text(render.html(doc), encoding="utf-8")
    return files
