"""Where every artifact lives: one table of path patterns, each saying what a file is.

The workflow's rule outputs use the patterns as they are (``{model}`` etc. are Snakemake wildcards),
its input functions fill them in; nothing else spells an artifact's path. ``path(kind)`` leaves the
wildcards not given in place, so ``path("embeddings", corpus="{pairset}_{xx}-en{split}")`` is the
pattern of a rule with other wildcards.
"""

from __future__ import annotations

import re

from langrep.errors import LangrepError

RAW_ROOT = "data/raw"

PATTERNS: dict[str, str] = {
    # data
    "raw": RAW_ROOT + "/{relpath}",  # a data set's file as published (relative path: langrep.data.catalog)
    "corpus": "data/corpora/{corpus}/{lang}.parquet",  # a normalized text set
    "bucc_gold": "data/corpora/{corpus}/gold.parquet",  # the gold pairs of a BUCC corpus
    "model": "data/models/{model}",  # a materialized transformers model folder
    # per model
    "embeddings": "results/{model}/embeddings/{corpus}/{lang}.parquet",  # pooled sentence vectors
    "sums": "results/{model}/sums/{corpus}/{lang}.parquet",  # per-layer float64 token sums
    "means": "results/{model}/means/{corpus}/{lang}.parquet",  # the language means R_L^l
    "candidates": "results/{model}/candidates/{corpus}.parquet",  # BUCC mining candidates
    "scores": "results/{model}/scores/{task}.csv",  # a tidy score table
    "mlm_head": "results/{model}/mlm_head",  # the MLM head token translation decodes with
    "translation_vocab": "results/{model}/translation/vocab.parquet",  # token sets V_L of the XNLI text
    "translation_samples": "results/{model}/translation/samples.csv",  # Table 7
    "translation_rows": "results/{model}/translation/{direction}/scores.parquet",  # one direction's score rows
    "translation_direction_samples": "results/{model}/translation/{direction}/samples.parquet",  # its samples
    "checkpoint": "results/{model}/transfer/{task}/{method_train}/model.pt",  # a fine-tuned tagger/parser
    # per run
    "report_dir": "reports/{run}",
    "report_html": "reports/{run}/report.html",
    "report_md": "reports/{run}/report.md",
    "report_comparison": "reports/{run}/comparison.csv",  # every compared cell, ours and the paper's
    "report_figure": "reports/{run}/figures/{model}/{figure}",
    "provenance": "reports/{run}/provenance.json",
    # per job ({job}: the rule's own path under logs/, e.g. {model}/extract/{corpus}/{lang})
    "log": "logs/{job}.log",  # what the job printed
    "benchmark": "logs/{job}.benchmark.tsv",  # its wall and CPU time, memory (benchmark: TSV; run_profile)
}

_WILDCARD = re.compile(r"\{(\w+)\}")


def path(kind: str, **wildcards) -> str:
    """The path (or, with wildcards left out, the pattern) of an artifact of ``kind``."""
    try:
        pattern = PATTERNS[kind]
    except KeyError:
        raise LangrepError(f"unknown artifact kind {kind!r} (known: {', '.join(PATTERNS)})") from None
    unknown = set(wildcards) - set(_WILDCARD.findall(pattern))
    if unknown:
        raise LangrepError(f"{kind} paths ({pattern}) have no wildcard(s) {sorted(unknown)}")
    return _WILDCARD.sub(lambda m: str(wildcards[m[1]]) if m[1] in wildcards else m[0], pattern)


def benchmark_of(log: str) -> str | None:
    """The benchmark file of the job whose log is ``log`` (beside it: ``logs/x.log`` ->
    ``logs/x.benchmark.tsv``), None for a log outside the ``log`` pattern."""
    prefix, suffix = PATTERNS["log"].split("{job}")
    if not (log.startswith(prefix) and log.endswith(suffix)) or len(log) <= len(prefix) + len(suffix):
        return None
    return path("benchmark", job=log[len(prefix) : len(log) - len(suffix)])


def path_pattern(kind: str, anywhere: bool = True, **fixed) -> re.Pattern:
    """A regex matching the paths of an artifact ``kind`` of :data:`PATTERNS` (``anywhere``:
    under any folder), its wildcards as named groups; ``fixed`` wildcards must have the given values."""
    pattern = re.escape(PATTERNS[kind]).replace(r"\{", "{").replace(r"\}", "}")
    for name, value in fixed.items():
        pattern = pattern.replace(f"{{{name}}}", re.escape(value))
    return re.compile((r"(?:.*/)?" if anywhere else "") + _WILDCARD.sub(r"(?P<\1>[^/]+)", pattern))


def flatten_plan(plan, prefix: str = "in") -> tuple[dict[str, str], object]:
    """A nested plan of paths (dicts of dicts of paths; None for "nothing") as ``(inputs, shape)``:
    ``inputs`` names every path (``in__de__xx``), ``shape`` is the plan with those names for paths.

    A rule declares ``inputs`` (so that every file its script reads is a declared input) and passes
    ``shape`` as a param; the script gets the plan back with :func:`resolve_plan`.
    """
    if isinstance(plan, dict):
        inputs: dict[str, str] = {}
        shape = {}
        for key, sub in plan.items():
            sub_inputs, shape[key] = flatten_plan(sub, f"{prefix}__{key}")
            inputs.update(sub_inputs)
        return inputs, shape
    if plan is None:
        return {}, None
    return {prefix: str(plan)}, prefix


def resolve_plan(shape, inputs):
    """The plan whose ``shape`` :func:`flatten_plan` gave, with the paths of ``inputs`` (a mapping
    or Snakemake's named input list) in place of their names."""
    if isinstance(shape, dict):
        return {key: resolve_plan(sub, inputs) for key, sub in shape.items()}
    if shape is None:
        return None
    return str(inputs[shape])


# The rule that makes each kind of artifact (the workflow's rule names), for the remedy of a file
# that cannot be read; embeddings, sums, means and scores depend on the corpus or task (_producing_rule).
PRODUCED_BY: dict[str, str] = {
    "corpus": "normalize_corpus",
    "bucc_gold": "fetch_bucc",
    "model": "materialize_model",
    "candidates": "retrieval_bucc_mine",
    "mlm_head": "mlm_head",
    "translation_vocab": "translation_vocab",
    "translation_samples": "translation_scores",
    "translation_rows": "translation_sweep",
    "translation_direction_samples": "translation_sweep",
    "checkpoint": "transfer_train",
    "report_html": "report",
    "report_md": "report",
    "report_comparison": "report",
    "report_figure": "report",
    "provenance": "provenance",
}
SCORES_BY: dict[str, str] = {
    "tatoeba": "retrieval_tatoeba",
    "bucc": "retrieval_bucc",
    "translation": "translation_scores",
    "translation_vocab": "translation_vocab",
    "means": "means_analysis",
    "pos": "transfer_evaluate",
    "parsing": "transfer_evaluate",
}


def _corpus_rule(corpus: str, lang: str) -> str:
    # the fetch jobs of mono, BUCC and XNLI test write their corpora (workflow/rules/corpora.smk)
    from langrep.data.catalog import MONO_STAND_INS

    if corpus.startswith("bucc_"):
        return "fetch_bucc"
    if corpus == "xnli_test":
        return "fetch_xnli"
    if corpus == "mono":
        return "fetch_mono or normalize_corpus" if lang in MONO_STAND_INS else "fetch_mono"
    return "normalize_corpus"


def _producing_rule(kind: str, wildcards: dict[str, str]) -> str | None:
    if kind in ("embeddings", "sums", "means"):
        corpus = wildcards["corpus"]
        parallel = {"tatoeba_": "extract_tatoeba", "bucc_": "extract_bucc"}
        return next((rule for prefix, rule in parallel.items() if corpus.startswith(prefix)), "extract")
    if kind == "scores":
        return SCORES_BY.get(wildcards["task"])
    if kind == "corpus":
        return _corpus_rule(wildcards["corpus"], wildcards["lang"])
    return PRODUCED_BY.get(kind)


def producer(file) -> tuple[str, str] | None:
    """``(artifact, rule)`` for a path of the table (or a file inside a folder artifact such as a model
    or MLM head folder): the artifact's own path (as given, relative or not) and the rule that makes
    it; None for a path the table does not have."""
    parts = str(file).split("/")
    for end in range(len(parts), 0, -1):  # the file itself, then the folders holding it
        candidate = "/".join(parts[:end])
        for kind in PATTERNS:
            if kind in ("raw", "report_dir"):
                continue
            m = path_pattern(kind).fullmatch(candidate)
            if m:
                rule = _producing_rule(kind, m.groupdict())
                if rule:
                    return candidate, rule
    return None
