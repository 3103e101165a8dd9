# Per-layer extraction (one forward pass per batch for every layer): pooled sentence vectors, token
# sums and the language means, all written by the one job that holds the sums.


include: "plans/extract.smk"


rule extract:
    input:
        corpus=path("corpus"),
        model=path("model"),
    output:
        embeddings=path("embeddings"),
        sums=path("sums"),
        means=path("means"),
    log:
        "logs/{model}/extract/{corpus}/{lang}.log",
    benchmark:
        path("benchmark", job="{model}/extract/{corpus}/{lang}")
    wildcard_constraints:
        corpus=SINGLE_CORPUS,
    priority: 2  # the mono language means first: translation and transfer wait on them
    conda:
        ENV
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=per_attempt(8000),
        runtime=per_attempt(120),
    params:
        extraction=EXTRACTION_JOB,
        pooled_layers=lambda w: pooled_layers_of(w.corpus),
    script:
        "../scripts/extract.py"


rule extract_tatoeba:
    input:
        **pair_inputs("tatoeba_{xx}-en", "{xx}"),
    output:
        **pair_outputs("tatoeba_{xx}-en", "{xx}"),
    log:
        "logs/{model}/extract/tatoeba_{xx}-en.log",
    benchmark:
        path("benchmark", job="{model}/extract/tatoeba_{xx}-en")
    wildcard_constraints:
        xx=PAIR_XX,
    conda:
        ENV
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=per_attempt(8000),
        runtime=per_attempt(60),
    params:
        extraction=EXTRACTION_JOB,
        pooled_layers=lambda w: pooled_layers_of(f"tatoeba_{w.xx}-en"),
    script:
        "../scripts/extract.py"


# BUCC sides are the largest sentence sets (~400k per test side): their pooled vectors are
# temporary, kept until the mining jobs have read them (the sums stay for the means).
rule extract_bucc:
    input:
        **pair_inputs("bucc_{xx}-en_{split}", "{xx}"),
    output:
        **pair_outputs("bucc_{xx}-en_{split}", "{xx}", embeddings=temp),
    log:
        "logs/{model}/extract/bucc_{xx}-en_{split}.log",
    benchmark:
        path("benchmark", job="{model}/extract/bucc_{xx}-en_{split}")
    wildcard_constraints:
        xx=PAIR_XX,
        split=BUCC_SPLIT,
    conda:
        ENV
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=per_attempt(8000),
        runtime=per_attempt(240),
    params:
        extraction=EXTRACTION_JOB,
        pooled_layers=lambda w: pooled_layers_of(f"bucc_{w.xx}-en_{w.split}"),
    script:
        "../scripts/extract.py"
