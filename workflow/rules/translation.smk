# Unsupervised token translation by MDS (paper Sec. 3, Tables 1, 6, 7; Figures 1-2).
# mlm_head always runs: it writes head.json = "pretrained" when the model has its own MLM head, or
# fits a head on the frozen encoder (head.safetensors + head.json) when it has none. The sweep
# reads head.json to know which one to decode with, so no checkpoint is needed.


include: "common/translation.smk"


rule mlm_head:
    input:
        model="data/models/{model}",
        mono=lambda wc: [corpus_path("mono", lang) for lang in translation_langs()],
    output:
        directory("results/{model}/mlm_head"),
    params:
        langs=translation_langs(),
        head=TRANSLATION.get("head", {}),
        device=TRANSLATION.get("device", "auto"),
    log:
        "logs/{model}/translation/mlm_head.log",
    priority: 3  # long jobs; start them as soon as their inputs exist so they overlap the Tatoeba/BUCC extraction
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=6000,
        runtime=30,
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/translation_mlm_head.py"


rule translation_sweep:
    input:
        model="data/models/{model}",
        head="results/{model}/mlm_head",
        xnli=lambda wc: [corpus_path("xnli_test", lang) for lang in translation_langs()],
        mono=lambda wc: [corpus_path("mono", lang) for lang in translation_langs()],
        means=lambda wc: [means_path(wc.model, "mono", lang) for lang in translation_langs()],
    output:
        scores="results/{model}/scores/translation.csv",
        vocab="results/{model}/scores/translation_vocab.csv",
        samples="results/{model}/translation/samples.csv",
    params:
        langs=translation_langs(),
        settings=TRANSLATION,
    log:
        "logs/{model}/translation/sweep.log",
    priority: 3  # long jobs; start them as soon as their inputs exist so they overlap the Tatoeba/BUCC extraction
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=8000,
        runtime=60,
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/translation_sweep.py"
