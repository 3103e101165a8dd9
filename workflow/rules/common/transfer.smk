# Helpers of workflow/rules/transfer.smk: its settings, input functions and targets
# (functions live apart from rules, as snakemake --lint asks).

TRANSFER = config.get("transfer", {})
TRANSFER_TASKS = ("pos", "parsing")


def transfer_settings(task):
    """Fine-tuning settings of a task: transfer.word_pooling, transfer.train, overridden by
    transfer.{task}.train."""
    pooling = {"word_pooling": TRANSFER["word_pooling"]} if "word_pooling" in TRANSFER else {}
    return {**pooling, **TRANSFER.get("train", {}), **TRANSFER.get(task, {}).get("train", {})}


def transfer_layers(task):
    return [str(l) for l in TRANSFER[task]["layers"]]


def transfer_checkpoint(model, task, method_train):
    return f"results/{model}/transfer/{task}/{method_train}/model.pt"


def _transfer_train_inputs(wildcards):
    inputs = {
        "model": model_dir(wildcards.model),
        "train": corpus_path("ud_train", "en"),
        "dev": corpus_path("ud_dev", "en"),
    }
    if wildcards.method_train != "original":
        # Zero-mean subtracts the pre-trained model's English mean during fine-tuning.
        inputs["means"] = means_path(wildcards.model, "mono", "en")
    return inputs


def _transfer_eval_inputs(wildcards):
    m, task = wildcards.model, wildcards.task
    langs = TRANSFER[task]["langs"]
    return {
        "model": model_dir(m),
        "original": transfer_checkpoint(m, task, "original"),
        "zero_mean": [transfer_checkpoint(m, task, f"zero_mean-l{l}") for l in transfer_layers(task)],
        "train": corpus_path("ud_train", "en"),  # the majority-tag baseline
        "dev": corpus_path("ud_dev", "en"),
        "test": [corpus_path("ud_test", lang) for lang in langs],
        # English first, then the test languages, for both kinds of means.
        "means": [means_path(m, "mono", lang) for lang in ["en"] + langs],
        "mono": [corpus_path("mono", lang) for lang in ["en"] + langs],
    }


def transfer_targets():
    return [f"results/{m}/scores/{task}.csv" for m in stage_models("transfer") for task in TRANSFER_TASKS]
