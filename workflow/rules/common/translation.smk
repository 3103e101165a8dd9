# Helpers of workflow/rules/translation.smk: its settings, input functions and targets
# (functions live apart from rules, as snakemake --lint asks).

TRANSLATION = config.get("translation", {})


def translation_langs():
    t = TRANSLATION
    return [t.get("source", "en"), *t.get("targets", ["de", "fr", "ur", "sw", "zh", "el"])]


def head_langs():
    """The fitted MLM head's languages: every language of the run (config languages) and the
    translation languages, so that it decodes any of them."""
    return list(dict.fromkeys([*config.get("languages", []), *translation_langs()]))


def translation_targets():
    return [
        path
        for m in stage_models("translation")
        for path in (
            f"results/{m}/scores/translation.csv",
            f"results/{m}/scores/translation_vocab.csv",
            f"results/{m}/translation/samples.csv",
        )
    ]
