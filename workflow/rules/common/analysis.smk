# Helpers of workflow/rules/analysis.smk: its settings, input functions and targets
# (functions live apart from rules, as snakemake --lint asks).

from langrep.data.catalog import mono_stand_in as _mono_stand_in
from langrep.data.settings import resolve_mirror as _resolve_mirror
from langrep.settings import tatoeba_langs as _analysis_tatoeba_langs

ANALYSIS = config.get("analysis") or {}


def analysis_plan(model):
    """What langrep.means_analysis reads for one model: the means of the run's languages, the mono
    corpus's pooled sentence vectors (only with extraction.pool_mono) and the Tatoeba sides of the
    run's languages (not where the mono text itself is that Tatoeba side, as for hsb and kmr)."""
    langs = list(config["languages"])
    mirror = _resolve_mirror((config.get("data") or {}).get("mirror"))
    return {
        "langs": langs,
        "means": {lang: means_path(model, "mono", lang) for lang in langs},
        "mono": {lang: embeddings_path(model, "mono", lang) for lang in langs}
        if EXTRACTION.get("pool_mono", False) else {},
        "tatoeba": {
            xx: {side: embeddings_path(model, f"tatoeba_{xx}-en", lang) for side, lang in (("xx", xx), ("en", "en"))}
            for xx in _analysis_tatoeba_langs(config)
            if xx in langs and _mono_stand_in(xx, mirror) != ("tatoeba", xx)
        },
    }


def analysis_inputs(wildcards):
    plan = analysis_plan(wildcards.model)
    files = [*plan["means"].values(), *plan["mono"].values()]
    files += [p for pair in plan["tatoeba"].values() for p in pair.values()]
    return sorted(set(files))


def analysis_targets():
    return [f"results/{m}/scores/means.csv" for m in stage_models("analysis")]
