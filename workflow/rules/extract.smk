# Per-layer extraction (one forward pass per batch for every layer) and the language means.


def pooled_layers(wildcards):
    # The monolingual corpus only feeds the language means: its pooled sentence vectors are not
    # needed and would be the largest artifact of a paper-sized run.
    if wildcards.corpus == "mono" and not EXTRACTION.get("pool_mono", False):
        return []
    return EXTRACTION.get("pooled_layers")


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
    threads: workflow.cores
    resources:
        gpu=GPU,
        mem_mb=8000,
        runtime=120,
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
    script:
        "../scripts/language_means.py"


def extract_targets():
    return [means_path(m, "mono", lang) for m in MODELS for lang in config["languages"]]
