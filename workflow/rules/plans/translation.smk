# The plans of workflow/rules/translation.smk: which files feed each job, its settings and resources, and
# the stage's targets (functions live apart from rules, as snakemake --lint asks).

from langrep.settings import TranslationSettings as _TranslationSettings
from langrep.settings import direction_langs as _direction_langs

TRANSLATION = config["translation"]


def translation_langs():
    return [TRANSLATION["source"], *TRANSLATION["targets"]]


def translation_directions():
    """The translation_sweep jobs' directions ("src-tgt"), in the score table's order."""
    return _TranslationSettings.from_config(TRANSLATION).directions()


def sweep_langs(wildcards):
    """The (source, target) languages of a translation_sweep job's direction."""
    return _direction_langs(wildcards.direction)


def head_langs():
    """The fitted MLM head's languages: every language of the run (config languages) and the
    translation languages, so that it decodes any of them."""
    return list(dict.fromkeys([*config["languages"], *translation_langs()]))


def translation_targets():
    return [
        out
        for m in stage_models("translation")
        for out in (
            path("scores", model=m, task="translation"),
            path("scores", model=m, task="translation_vocab"),
            path("translation_samples", model=m),
        )
    ]
