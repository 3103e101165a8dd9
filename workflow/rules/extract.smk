# Per-layer extraction (one forward pass per batch for every layer) and the language means.


include: "common/extract.smk"


rule extract:
    input:
        corpus="data/corpora/{corpus}/{lang}.parquet",
        model="data/models/{model}",
    output:
        embeddings="results/{model}/embeddings/{corpus}/{lang}.parquet",
        sums="results/{model}/sums/{corpus}/{lang}.parquet",
    params:
        extraction=EXTRACTION,
        pooled_layers=pooled_layers,
    log:
        "logs/{model}/extract/{corpus}/{lang}.log",
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=8000,
        runtime=120,
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/extract.py"


rule language_means:
    input:
        sums="results/{model}/sums/{corpus}/{lang}.parquet",
        corpus="data/corpora/{corpus}/{lang}.parquet",
        model="data/models/{model}",
    output:
        "results/{model}/means/{corpus}/{lang}.parquet",
    log:
        "logs/{model}/means/{corpus}/{lang}.log",
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/language_means.py"
