# Unsupervised token translation by MDS (paper Sec. 3, Tables 1, 6, 7; Figures 1-2).
# mlm_head always runs: it writes head.json = "pretrained" when the model has its own MLM head, or
# fits a whole-vocabulary head on the frozen encoder (head.safetensors + head.json, with its
# held-out quality per language) when it has none. The sweep reads head.json to know which one to
# decode with. translation_vocab caches the token sets V_L of the XNLI test text (Table 6, and the
# convert rate's V_s, V_t).


include: "common/translation.smk"


rule mlm_head:
    input:
        model="data/models/{model}",
        mono=lambda wc: [corpus_path("mono", lang) for lang in head_langs()],
    output:
        directory("results/{model}/mlm_head"),
    params:
        langs=head_langs(),
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
        "../scripts/mlm_head.py"


rule translation_vocab:
    input:
        model="data/models/{model}",
        xnli=lambda wc: [corpus_path("xnli_test", lang) for lang in translation_langs()],
    output:
        sets="results/{model}/translation/vocab.parquet",
        table="results/{model}/scores/translation_vocab.csv",
    params:
        langs=translation_langs(),
        source=TRANSLATION.get("source", "en"),
    log:
        "logs/{model}/translation/vocab.log",
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/translation_vocab.py"


rule translation_sweep:
    input:
        model="data/models/{model}",
        head="results/{model}/mlm_head",
        xnli=lambda wc: [corpus_path("xnli_test", lang) for lang in translation_langs()],
        vocab="results/{model}/translation/vocab.parquet",
        means=lambda wc: [means_path(wc.model, "mono", lang) for lang in translation_langs()],
    output:
        scores="results/{model}/scores/translation.csv",
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
