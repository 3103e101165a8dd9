# Zero-shot cross-lingual transfer (paper Sec. 5, Tables 4-5): POS tagging and dependency parsing
# fine-tuned on English UD, tested on other languages with Original, Zero-mean and MDS at layer l.
#
# Checkpoints: results/{model}/transfer/{task}/{method_train}/model.pt with method_train
#   original        trained without shifts (Original and MDS are evaluated on it)
#   zero_mean-l{L}  trained with Zero-mean at layer L ({L} as written in transfer.{task}.layers)
# Scores: results/{model}/scores/{pos,parsing}.csv (langrep.transfer.evaluate_task).

TRANSFER = config.get("transfer", {})
TRANSFER_TASKS = ("pos", "parsing")


def transfer_settings(task):
    """Fine-tuning settings of a task: transfer.train, overridden by transfer.{task}.train."""
    return {**TRANSFER.get("train", {}), **TRANSFER.get(task, {}).get("train", {})}


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


rule transfer_train:
    input:
        unpack(_transfer_train_inputs),
    output:
        "results/{model}/transfer/{task}/{method_train}/model.pt",
    wildcard_constraints:
        task="pos|parsing",
        method_train=r"original|zero_mean-l([0-9]+|last)",
    params:
        settings=lambda w: transfer_settings(w.task),
        zero_mean_layer=lambda w: None if w.method_train == "original" else w.method_train.split("-l", 1)[1],
        device=TRANSFER.get("device", "auto"),
    log:
        "logs/{model}/transfer/{task}/{method_train}.log",
    threads: workflow.cores
    resources:
        gpu=GPU,
        mem_mb=TRANSFER.get("mem_mb", 8000),
        runtime=TRANSFER.get("train_runtime", 60),
    script:
        "../scripts/transfer_train.py"


def _transfer_eval_inputs(wildcards):
    m, task = wildcards.model, wildcards.task
    langs = TRANSFER[task]["langs"]
    return {
        "model": model_dir(m),
        "original": transfer_checkpoint(m, task, "original"),
        "zero_mean": [transfer_checkpoint(m, task, f"zero_mean-l{l}") for l in transfer_layers(task)],
        "dev": corpus_path("ud_dev", "en"),
        "test": [corpus_path("ud_test", lang) for lang in langs],
        # English first, then the test languages, for both kinds of means.
        "means": [means_path(m, "mono", lang) for lang in ["en"] + langs],
        "mono": [corpus_path("mono", lang) for lang in ["en"] + langs],
    }


rule transfer_evaluate:
    input:
        unpack(_transfer_eval_inputs),
    output:
        "results/{model}/scores/{task}.csv",
    wildcard_constraints:
        task="pos|parsing",
    params:
        langs=lambda w: TRANSFER[w.task]["langs"],
        layers=lambda w: transfer_layers(w.task),
        alphas=TRANSFER.get("alphas", [1.0]),
        test_sentences=TRANSFER.get("test_sentences"),
        mds_sentences=TRANSFER.get("mds_sentences"),
        seed=TRANSFER.get("seed", 13),
        extraction=EXTRACTION,
        device=TRANSFER.get("device", "auto"),
    log:
        "logs/{model}/transfer/{task}/evaluate.log",
    threads: workflow.cores
    resources:
        gpu=GPU,
        mem_mb=TRANSFER.get("mem_mb", 8000),
        runtime=TRANSFER.get("eval_runtime", 60),
    script:
        "../scripts/transfer_evaluate.py"


def transfer_targets():
    return [f"results/{m}/scores/{task}.csv" for m in MODELS for task in TRANSFER_TASKS]
