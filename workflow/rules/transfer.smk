# Zero-shot cross-lingual transfer (paper Sec. 5, Tables 4-5): POS tagging and dependency parsing
# fine-tuned on English UD, tested on other languages with Original, Zero-mean and MDS at layer l.
#
# Checkpoints: results/{model}/transfer/{task}/{method_train}/model.pt with method_train
#   original        trained without shifts (Original and MDS are evaluated on it)
#   zero_mean-l{L}  trained with Zero-mean at layer L ({L} as written in transfer.{task}.layers)
# Scores: results/{model}/scores/{pos,parsing}.csv (langrep.transfer.evaluate_task): every method
#   and baseline with a bootstrap interval, Zero-mean / MDS with their paired difference from Original.


include: "plans/transfer.smk"


rule transfer_train:
    input:
        unpack(_transfer_train_inputs),
    output:
        TRAINED_MODEL,
    log:
        "logs/{model}/transfer/{task}/{method_train}.log",
    benchmark:
        path("benchmark", job="{model}/transfer/{task}/{method_train}")
    wildcard_constraints:
        task="pos|parsing",
        method_train=r"original|zero_mean-l([0-9]+|last)",
    priority: 3  # long jobs; start them as soon as their inputs exist so they overlap the Tatoeba/BUCC extraction
    conda:
        ENV
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=per_attempt(TRANSFER["mem_mb"]),
        runtime=per_attempt(TRANSFER["train_runtime"]),
    params:
        settings=lambda w: transfer_settings(w.task),
        zero_mean_layer=lambda w: None if w.method_train == "original" else w.method_train.split("-l", 1)[1],
        device=TRANSFER["device"],
        dtype=TRANSFER["dtype"],
    script:
        "../scripts/transfer_train.py"


rule transfer_evaluate:
    input:
        unpack(_transfer_eval_inputs),
    output:
        path("scores"),
    log:
        "logs/{model}/transfer/{task}/evaluate.log",
    benchmark:
        path("benchmark", job="{model}/transfer/{task}/evaluate")
    wildcard_constraints:
        task="pos|parsing",
    priority: 3  # long jobs; start them as soon as their inputs exist so they overlap the Tatoeba/BUCC extraction
    conda:
        ENV
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=per_attempt(TRANSFER["mem_mb"]),
        runtime=per_attempt(TRANSFER["eval_runtime"]),
    params:
        langs=lambda w: TRANSFER[w.task]["langs"],
        layers=lambda w: transfer_layers(w.task),
        alphas=TRANSFER["alphas"],
        test_sentences=TRANSFER["test_sentences"],
        seed=TRANSFER["seed"],
        bootstrap=TRANSFER["bootstrap"],
        extraction=EXTRACTION_JOB,
        device=TRANSFER["device"],
        dtype=TRANSFER["dtype"],
    script:
        "../scripts/transfer_evaluate.py"
