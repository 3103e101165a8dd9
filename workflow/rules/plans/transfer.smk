# The plans of workflow/rules/transfer.smk: which files feed each job, its settings and resources, and
# the stage's targets (functions live apart from rules, as snakemake --lint asks).

from langrep.settings import TransferSettings as _TransferSettings

TRANSFER = config["transfer"]
# Fine-tuned checkpoints are write-protected where fine-tuning is expensive (the paper config):
# Snakemake then refuses to overwrite one, and a rerun needs it deleted by hand.
TRAINED_MODEL = protected(path("checkpoint")) if TRANSFER["protect_checkpoints"] else path("checkpoint")


def transfer_settings(task):
    """Fine-tuning settings of a task (langrep.settings.TransferSettings.task_train)."""
    return _TransferSettings.from_config(TRANSFER).task_train(task)


def transfer_layers(task):
    return [str(l) for l in TRANSFER[task]["layers"]]


def _transfer_train_inputs(wildcards):
    inputs = {
        "model": path("model", model=wildcards.model),
        "train": path("corpus", corpus="ud_train", lang="en"),
        "dev": path("corpus", corpus="ud_dev", lang="en"),
    }
    if wildcards.method_train != "original":
        # Zero-mean subtracts the pre-trained model's English mean during fine-tuning.
        inputs["means"] = path("means", model=wildcards.model, corpus="mono", lang="en")
    return inputs


def _transfer_eval_inputs(wildcards):
    m, task = wildcards.model, wildcards.task
    langs = TRANSFER[task]["langs"]
    return {
        "model": path("model", model=m),
        "original": path("checkpoint", model=m, task=task, method_train="original"),
        "zero_mean": [
            path("checkpoint", model=m, task=task, method_train=f"zero_mean-l{l}") for l in transfer_layers(task)
        ],
        "train": path("corpus", corpus="ud_train", lang="en"),  # the majority-tag baseline
        "dev": path("corpus", corpus="ud_dev", lang="en"),
        "test": [path("corpus", corpus="ud_test", lang=lang) for lang in langs],
        # English first, then the test languages, for both kinds of means.
        "means": [path("means", model=m, corpus="mono", lang=lang) for lang in ["en"] + langs],
        "mono": [path("corpus", corpus="mono", lang=lang) for lang in ["en"] + langs],
    }


def transfer_targets():
    return [path("scores", model=m, task=task) for m in stage_models("transfer") for task in TRANSFER_TASKS]
