# The plans of workflow/rules/report.smk: which files feed each job, its settings and resources, and
# the stage's targets (functions live apart from rules, as snakemake --lint asks). Every file the
# report and provenance jobs read is one of their declared inputs: the scripts glob nothing.

import os as _os
from types import SimpleNamespace as _Wildcards

from langrep import report as _report
from langrep.paths import path as _path
from langrep.paths import path_pattern as _path_pattern

REPORT_RUN = config["report"]["run"]
# the figure captions: workflow/report/{caption}.rst (also Snakemake's own report's captions),
# relative to the working directory like every other input
REPORT_CAPTIONS = _os.path.relpath(_os.path.join(workflow.basedir, "workflow", "report"))
_SCORES = _path_pattern("scores", anywhere=False)
# files derived from one corpus file each (a model's embeddings, sums and means of a corpus and language)
_PER_CORPUS = [_path_pattern(kind, anywhere=False) for kind in ("embeddings", "sums", "means")]
_BUCC_GOLD = _path_pattern("bucc_gold", anywhere=False)
_CORPUS_FILE = _path_pattern("corpus", anywhere=False)


def _helper(name):
    """A name defined by another stage's rules (workflow/rules/plans/{stage}.smk) or by common.smk,
    None where that file is not included (the report also runs in a workflow of its own)."""
    return globals().get(name)


def report_score_files():
    """The score tables the configured stages produce (whichever stages are included)."""
    files = set()
    for name in ("retrieval_targets", "translation_targets", "transfer_targets", "analysis_targets"):
        targets = _helper(name)
        if targets is not None:
            files.update(str(t) for t in targets() if _SCORES.fullmatch(str(t)))
    return sorted(files)


def report_samples_files():
    """The translation samples (Table 7) of the models that run translation."""
    targets = _helper("translation_targets")
    samples = {_path("translation_samples", model=m) for m in MODELS}
    return sorted(str(t) for t in (targets() if targets else []) if str(t) in samples)


def report_means():
    """The mono language means of every model (the config's languages and any other a stage uses, as
    transfer's test languages): the report states how many tokens each came from."""
    means = {_path("means", model=m, corpus="mono", lang=lang) for m in MODELS for lang in config["languages"]}
    mono = _path_pattern("means", anywhere=False, corpus="mono")
    return sorted(means | {str(f) for f in STAGE_FILES if mono.fullmatch(str(f))})


def report_model_dirs():
    """The model folders: their config.json gives the number of layers; provenance hashes them."""
    return [_path("model", model=m) for m in MODELS]


def report_captions():
    return [_os.path.join(REPORT_CAPTIONS, f"{c}.rst") for c in _report.caption_files()]


# Snakemake's report() flag (a name of its own: a line starting with `report(` would be read as the
# report: directive)
_report_output = report


def report_figures():
    """report()-wrapped figure outputs, one set per score table present in this run (the names and
    captions are langrep.report.FIGURES')."""
    out = []
    for f in report_score_files():
        model, task = _SCORES.fullmatch(f).group("model", "task")
        for name in _report.figure_names(task):
            caption = _report.FIGURES[name].caption
            out.append(
                _report_output(
                    _path("report_figure", run=REPORT_RUN, model=model, figure=name),
                    caption=f"../report/{caption}.rst",
                    category="Figures",
                    subcategory=model,
                    labels={"model": model, "figure": name.removesuffix(".png")},
                )
            )
    return out


def _plan_files(plan):
    flatten = _helper("flatten_plan")
    return list(flatten(plan)[0].values()) if flatten else []


def _stage_files():
    """The files the stages' plans and input functions list, for every model that runs them."""
    files = list(_helper("extract_targets")()) if _helper("extract_targets") else []
    for stage, plans in (("retrieval", ("tatoeba_plan", "bucc_plan")), ("analysis", ("analysis_plan",))):
        for model in _helper("stage_models")(stage) if _helper("stage_models") else []:
            files += [p for name in plans if _helper(name) for p in _plan_files(_helper(name)(model))]
    if _helper("translation_langs") and _helper("stage_models") and _helper("stage_models")("translation"):
        files += [_path("corpus", corpus="mono", lang=lang) for lang in _helper("head_langs")()]
        files += [_path("corpus", corpus="xnli_test", lang=lang) for lang in _helper("translation_langs")()]
    eval_inputs = _helper("_transfer_eval_inputs")
    for model in _helper("stage_models")("transfer") if eval_inputs else []:
        for task in _helper("TRANSFER_TASKS"):
            for value in eval_inputs(_Wildcards(model=model, task=task)).values():
                files += value if isinstance(value, list) else [value]
    return files


# computed once per load (the report rule and the provenance rule both need it); this file is
# included after every stage's plans
STAGE_FILES = _stage_files()


def provenance_data():
    """Every data file this run reads (what provenance hashes): the corpus files the stages read
    directly or through an embeddings, sums or means file, and the raw files (data/raw/) behind them."""
    corpora, raw = set(), set()
    for f in map(str, STAGE_FILES):
        if m := next(filter(None, (p.fullmatch(f) for p in _PER_CORPUS)), None):
            corpora.add(_path("corpus", corpus=m["corpus"], lang=m["lang"]))
        elif _CORPUS_FILE.fullmatch(f):
            corpora.add(f)
    data, raw_root = _helper("DATA"), _helper("RAW_ROOT")
    if data is not None:
        from langrep.data import corpora as _report_corpora

        for f in corpora:
            if m := _BUCC_GOLD.fullmatch(f):
                c = _report_corpora.parse_corpus(m["corpus"])
                raw.update(_report_corpora.bucc_gold_inputs(c.xx, c.split, raw_root=raw_root).values())
            else:
                m = _CORPUS_FILE.fullmatch(f)
                raw.update(_report_corpora.corpus_inputs(m["corpus"], m["lang"], data, raw_root=raw_root).values())
    return sorted(raw) + sorted(corpora)


def report_targets():
    return [_path(kind, run=REPORT_RUN) for kind in ("report_html", "report_md", "provenance")]
