# The plans of workflow/rules/analysis.smk: which files feed each job, its settings and resources, and
# the stage's targets (functions live apart from rules, as snakemake --lint asks).

from langrep.data.catalog import mono_stand_in as _mono_stand_in

ANALYSIS = config["analysis"]


def analysis_plan(model):
    """What langrep.analysis.means reads for one model: the means of the run's languages, the mono
    corpus's pooled sentence vectors (only with extraction.pool_mono) and the Tatoeba sides of the
    run's languages (not where the mono text itself is that Tatoeba side, as for hsb and kmr)."""
    langs = list(config["languages"])
    return {
        "means": {lang: path("means", model=model, corpus="mono", lang=lang) for lang in langs},
        "mono": (
            {lang: path("embeddings", model=model, corpus="mono", lang=lang) for lang in langs}
            if EXTRACTION["pool_mono"]
            else {}
        ),
        "tatoeba": {
            xx: {
                side: path("embeddings", model=model, corpus=f"tatoeba_{xx}-en", lang=lang)
                for side, lang in (("xx", xx), ("en", "en"))
            }
            for xx in TATOEBA_LANGS
            if xx in langs and _mono_stand_in(xx, DATA.mirror) != ("tatoeba", xx)
        },
    }


def analysis_targets():
    return [path("scores", model=m, task="means") for m in stage_models("analysis")]
