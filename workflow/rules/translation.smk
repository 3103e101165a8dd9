# Unsupervised token translation by MDS (paper Sec. 3, Tables 1, 6, 7; Figures 1-2).
# mlm_head always runs: it writes head.json = "pretrained" when the model has its own MLM head, or
# fits a whole-vocabulary head on the frozen encoder (head.safetensors + head.json, with its
# held-out quality per language) when it has none; then also a probe per layer (the reconstruction
# curve in head.json) and, when the decode layer is below the top, a head there
# (head_decode.safetensors): the sweep scores both protocols. The sweep reads head.json to know which one to
# decode with. translation_sweep scores one direction (src-tgt) per job, so the directions run
# side by side; translation_scores joins them in table order. translation_vocab caches the token
# sets V_L of the XNLI test text (Table 6, and the convert rate's V_s, V_t).


include: "plans/translation.smk"


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
        # every layer's states of the fitting text are cached for the curve: 6.4 GB peak measured
        # on the default config (e5-small, 15 languages x 200 sentences)
        mem_mb=per_attempt(8000),
        runtime=per_attempt(30),
    params:
        langs=head_langs(),
        head=TRANSLATION["head"],
        device=TRANSLATION["device"],
        decode_layer=TRANSLATION["decode_layer"],
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
    priority: 2  # see fetch_mono
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
        xnli_source=lambda wc: path("corpus", corpus="xnli_test", lang=sweep_langs(wc)[0]),
        xnli_target=lambda wc: path("corpus", corpus="xnli_test", lang=sweep_langs(wc)[1]),
        vocab=path("translation_vocab"),
        means_source=lambda wc: path("means", corpus="mono", lang=sweep_langs(wc)[0]),
        means_target=lambda wc: path("means", corpus="mono", lang=sweep_langs(wc)[1]),
    output:
        rows=path("translation_rows"),
        samples=path("translation_direction_samples"),
    log:
        "logs/{model}/translation/sweep/{direction}.log",
    benchmark:
        path("benchmark", job="{model}/translation/sweep/{direction}")
    priority: 3  # long jobs; start them as soon as their inputs exist so they overlap the Tatoeba/BUCC extraction
    conda:
        ENV
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=per_attempt(8000),
        runtime=per_attempt(30),
    params:
        **INTERVALS,
        settings=TRANSLATION,
    script:
        "../scripts/translation_sweep.py"


rule translation_scores:
    input:
        rows=[path("translation_rows", direction=d) for d in translation_directions()],
        samples=[path("translation_direction_samples", direction=d) for d in translation_directions()],
    output:
        scores=path("scores", task="translation"),
        samples=path("translation_samples"),
    log:
        "logs/{model}/translation/scores.log",
    benchmark:
        path("benchmark", job="{model}/translation/scores")
    localrule: True
    conda:
        ENV
    resources:
        mem_mb=per_attempt(1000),
        runtime=per_attempt(5),
    script:
        "../scripts/translation_scores.py"
