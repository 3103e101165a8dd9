# Unsupervised token translation by MDS (paper Sec. 3, Tables 1, 6, 7; Figures 1-2).
# mlm_head always runs: it writes head.json = "pretrained" when the model has its own MLM head, or
# fits a whole-vocabulary head on the frozen encoder (head.safetensors + head.json, with its
# held-out quality per language) when it has none. The sweep reads head.json to know which one to
# decode with. translation_vocab caches the token sets V_L of the XNLI test text (Table 6, and the
# convert rate's V_s, V_t).


include: "common/translation.smk"


rule mlm_head:
    input:
        model=path("model"),
        mono=[path("corpus", corpus="mono", lang=lang) for lang in head_langs()],
    output:
        directory(path("mlm_head")),
    log:
        "logs/{model}/translation/mlm_head.log",
    benchmark:
        path("benchmark", job="{model}/translation/mlm_head")
    priority: 3  # long jobs; start them as soon as their inputs exist so they overlap the Tatoeba/BUCC extraction
    conda:
        ENV
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=per_attempt(6000),
        runtime=per_attempt(30),
    params:
        langs=head_langs(),
        head=TRANSLATION["head"],
        device=TRANSLATION["device"],
    script:
        "../scripts/mlm_head.py"


rule translation_vocab:
    input:
        model=path("model"),
        xnli=[path("corpus", corpus="xnli_test", lang=lang) for lang in translation_langs()],
    output:
        sets=path("translation_vocab"),
        table=path("scores", task="translation_vocab"),
    log:
        "logs/{model}/translation/vocab.log",
    benchmark:
        path("benchmark", job="{model}/translation/vocab")
    conda:
        ENV
    resources:
        mem_mb=per_attempt(2000),
        runtime=per_attempt(10),
    params:
        langs=translation_langs(),
        source=TRANSLATION["source"],
    script:
        "../scripts/translation_vocab.py"


rule translation_sweep:
    input:
        model=path("model"),
        head=path("mlm_head"),
        xnli=[path("corpus", corpus="xnli_test", lang=lang) for lang in translation_langs()],
        vocab=path("translation_vocab"),
        means=[path("means", corpus="mono", lang=lang) for lang in translation_langs()],
    output:
        scores=path("scores", task="translation"),
        samples=path("translation_samples"),
    log:
        "logs/{model}/translation/sweep.log",
    benchmark:
        path("benchmark", job="{model}/translation/sweep")
    priority: 3  # long jobs; start them as soon as their inputs exist so they overlap the Tatoeba/BUCC extraction
    conda:
        ENV
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=per_attempt(8000),
        runtime=per_attempt(60),
    params:
        **INTERVALS,
        langs=translation_langs(),
        settings=TRANSLATION,
    script:
        "../scripts/translation_sweep.py"
