"""The run's side of the report: the configured models and the files the report rule declares.

Nothing is globbed: the score tables, the language means (for their token counts) and the model
folders (for their layer counts) are the files the caller names, each at its documented path
(``results/{model}/scores/{task}.csv``, ``results/{model}/means/mono/{lang}.parquet``,
``data/models/{model}/``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from langrep.errors import LangrepError
from langrep.paths import PATTERNS, path_pattern
from langrep.report.paper import PAPER_MODEL_IDS, PAPER_N_LAYERS, PAPER_SETUP, TASKS, model_description
from langrep.scores import read_scores

# The tasks each stage of models.<key>.stages writes.
STAGE_TASKS = {
    "retrieval": ("tatoeba", "bucc"),
    "translation": ("translation", "translation_vocab"),
    "transfer": ("pos", "parsing"),
    "analysis": ("means",),
}


_SCORES = path_pattern("scores")
_MEANS = path_pattern("means", corpus="mono")

# The translation protocols (column ``protocol`` of the translation scores and samples): the paper's,
# the MLM head decoding the last layer, and a fitted head decoding a lower layer d (MDS at layers <= d).
TOP, DECODE_LAYER = "top", "decode_layer"


def protocol_of(df: pd.DataFrame, where) -> pd.Series:
    """Each row's translation protocol: :data:`TOP` for a table without the ``protocol`` column (an
    older one) and for rows with none; a LangrepError for a protocol the report does not know."""
    if "protocol" not in df:
        return pd.Series(TOP, index=df.index)
    protocol = df["protocol"].fillna("").astype(str).replace("", TOP)
    if unknown := sorted(set(protocol) - {TOP, DECODE_LAYER}):
        raise LangrepError(f"{where}: unknown translation protocol(s) {unknown} (known: {TOP}, {DECODE_LAYER})")
    return protocol


def split_protocols(df: pd.DataFrame, where) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A translation table's rows of the paper's protocol and those of the decode-layer protocol
    (None when it has none)."""
    protocol = protocol_of(df, where)
    top = df[protocol == TOP].reset_index(drop=True) if (protocol != TOP).any() else df
    decode = df[protocol == DECODE_LAYER].reset_index(drop=True)
    return top, (decode if len(decode) else None)


@dataclass
class ModelRun:
    """One model of the run: its source, score tables, layers, mono token counts and skipped stages."""

    key: str
    source: str
    revision: str | None
    scores: dict[str, pd.DataFrame] = field(default_factory=dict)
    score_files: dict[str, Path] = field(default_factory=dict)
    n_layers: int | None = None
    mono_tokens: dict[str, int] = field(default_factory=dict)
    skipped_stages: list[str] = field(default_factory=list)
    # the translation rows of the decode-layer protocol (scores["translation"] holds the paper's)
    decode_rows: pd.DataFrame | None = None

    @property
    def is_paper_model(self) -> bool:
        """Whether the model is the paper's (bert-base-multilingual-cased)."""
        return self.source in PAPER_MODEL_IDS

    @property
    def skipped_tasks(self) -> list[str]:
        """The tasks of the stages the model does not run."""
        return [t for stage in self.skipped_stages for t in STAGE_TASKS[stage]]

    @property
    def missing_tasks(self) -> list[str]:
        """Tasks with no score table that the model's stages should have written."""
        return [t for t in TASKS if t not in self.scores and t not in self.skipped_tasks]

    def n_rows(self, task: str) -> int:
        """Rows of the task's score table as written (every translation protocol)."""
        decode = self.decode_rows if task == "translation" and self.decode_rows is not None else ()
        return len(self.scores[task]) + len(decode)

    def describe(self) -> list[str]:
        """What the model is, in a few lines (said once per model)."""
        revision = f", revision `{self.revision}`" if self.revision else ", revision not pinned"
        lines = [f"source: `{self.source}`{revision}"]
        if self.is_paper_model:  # another model is said among the caveats
            lines.append("the paper's model (m-BERT cased)")
        if self.n_layers is not None:
            lines.append(f"{self.n_layers} transformer layers (m-BERT: {PAPER_N_LAYERS})")
        if self.mono_tokens:
            v = np.array(list(self.mono_tokens.values()))
            lines.append(
                f"language means (mono corpus) for {len(v)} languages from {int(v.min()):,}-{int(v.max()):,} "
                "tokens each (the paper: about 5M Wikipedia tokens)"
            )
        if self.skipped_stages:
            lines.append(f"skips {', '.join(self.skipped_stages)} (config key models.{self.key}.stages)")
        return lines

    def caveats(self) -> list[str]:
        """Why none of this model's tables is like for like, whatever the table (said once per model)."""
        out = []
        if not self.is_paper_model:
            out.append(f"another model: {model_description(self.source)} (the paper: m-BERT cased)")
        if self.n_layers is not None and self.n_layers != PAPER_N_LAYERS:
            out.append(f"{self.n_layers} layers, m-BERT {PAPER_N_LAYERS}: layer numbers do not correspond")
        return out

    def small_means(self) -> str | None:
        """A caveat when the language means come from far less text than the paper's ~5M tokens."""
        if not self.mono_tokens:
            return None
        v = np.array(list(self.mono_tokens.values()))
        if np.median(v) >= 0.5 * PAPER_SETUP["mono_tokens"]:
            return None
        return (
            f"language means from {int(v.min()):,}-{int(v.max()):,} tokens per language (median "
            f"{int(np.median(v)):,}); the paper used about 5M Wikipedia tokens"
        )


def n_layers_of(model_dir) -> int | None:
    """``num_hidden_layers`` of a model folder's ``config.json`` (None when it has none)."""
    cfg = Path(model_dir) / "config.json"
    if not cfg.is_file():
        return None
    try:
        return int(json.loads(cfg.read_text()).get("num_hidden_layers"))
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def mono_tokens_of(path) -> int:
    """Tokens behind one language mean (``results/{model}/means/mono/{lang}.parquet``)."""
    from langrep.artifacts import read_table

    try:
        column = read_table(path).column("n_tokens")
    except KeyError:
        raise LangrepError(f"{path}: not a language-means file with an n_tokens column") from None
    n = column.to_numpy()
    if not len(n):
        raise LangrepError(f"{path}: empty language-means file")
    return int(n[0])


def skipped_stages(config: Mapping, model: str) -> list[str]:
    """The stages ``models.<model>.stages`` leaves out (none when the model is not in the config)."""
    from langrep.settings import MODEL_STAGES, model_stages

    if model not in (config.get("models") or {}):
        return []
    return [s for s in MODEL_STAGES if s not in model_stages(config, model)]


def _model_of(path: Path, pattern: re.Pattern, what: str, runs: Mapping) -> re.Match:
    m = pattern.fullmatch(path.as_posix())
    if m is None:
        raise LangrepError(f"{path}: {what}")
    if m["model"] not in runs:
        raise LangrepError(f"{path}: model {m['model']!r} is not in config key 'models'")
    return m


def load_run(
    config: Mapping, score_files: Iterable, means_files: Iterable = (), model_dirs: Iterable = ()
) -> list[ModelRun]:
    """One :class:`ModelRun` per configured model, from the files named (and no others).

    ``score_files``: ``results/{model}/scores/{task}.csv``; ``means_files``: the mono language means
    ``results/{model}/means/mono/{lang}.parquet`` (their token counts); ``model_dirs``:
    ``data/models/{model}`` folders (their ``config.json`` gives the number of layers). A translation
    table's rows of the paper's protocol are its ``scores["translation"]``, those of the decode-layer
    protocol its ``decode_rows`` (:func:`split_protocols`).
    """
    models = config.get("models") or {}
    if not models:
        raise LangrepError("config key 'models': no model configured")
    runs = {
        key: ModelRun(key, str(m.get("source")), m.get("revision"), skipped_stages=skipped_stages(config, key))
        for key, m in models.items()
    }
    for d in map(Path, model_dirs):
        if d.name not in runs:
            raise LangrepError(f"{d}: model {d.name!r} is not in config key 'models'")
        runs[d.name].n_layers = n_layers_of(d)
    for f in map(Path, means_files):
        where = PATTERNS["means"].replace("{corpus}", "mono")
        m = _model_of(f, _MEANS, f"a language mean must lie at {where}", runs)
        runs[m["model"]].mono_tokens[m["lang"]] = mono_tokens_of(f)
    for f in map(Path, score_files):
        m = _model_of(f, _SCORES, f"a score table must lie at {PATTERNS['scores']}", runs)
        task = m["task"]
        if task not in TASKS:
            raise LangrepError(f"{f}: unknown task {task!r} (known: {', '.join(TASKS)})")
        if not f.is_file():
            raise LangrepError(f"{f}: score table does not exist")
        df = read_scores(f)
        if not df.empty:
            for col in ("layer", "value", "alpha"):
                if col in df:
                    df[col] = pd.to_numeric(df[col], errors="coerce")
        if task == "translation":  # the paper's protocol is what Table 1, the claims and the figures show
            df, runs[m["model"]].decode_rows = split_protocols(df, f)
        runs[m["model"]].scores[task] = df
        runs[m["model"]].score_files[task] = f
    return list(runs.values())
