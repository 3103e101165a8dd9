"""The run report: our scores beside the paper's Tables 1-7, in the paper's shapes, with figures.

``build_report`` reads the files the report rule declares (the tidy score tables
``results/{model}/scores/{task}.csv``, the language means, the model folders, the translation
samples, the figure captions, the provenance record) and writes ``report.html`` (self-contained),
``report.md``, ``comparison.csv`` and the figures into one folder.

Modules: :mod:`~langrep.report.paper` (the paper's tables and numbers), :mod:`~langrep.report.run`
(the run's models and files), :mod:`~langrep.report.compare` (ours beside the paper's, in long
format, and why a table is not like for like), :mod:`~langrep.report.notes` (what our numbers are),
:mod:`~langrep.report.claims` (the paper's claims counted: the first screen),
:mod:`~langrep.report.wide` (the paper-shaped tables), :mod:`~langrep.report.protocols` (Table 1
under the paper's and the decode-layer translation protocols), :mod:`~langrep.report.figures`,
:mod:`~langrep.report.task_figures` and :mod:`~langrep.report.means_figures` (figures and captions),
:mod:`~langrep.report.means_tables` (the language-means analysis), :mod:`~langrep.report.samples`
(Table 7), :mod:`~langrep.report.build` and :mod:`~langrep.report.render` (the document and its
Jinja2 templates under ``templates/``).
"""

from langrep.paths import path_pattern
from langrep.report.build import ReportFiles, build_report
from langrep.report.compare import compare
from langrep.report.paper import TABLES, load_paper_values
from langrep.report.run import load_run
from langrep.report.task_figures import FIGURES, caption_files, figure_names

__all__ = [
    "FIGURES",
    "TABLES",
    "ReportFiles",
    "build_report",
    "caption_files",
    "compare",
    "figure_names",
    "load_paper_values",
    "load_run",
    "path_pattern",
]
