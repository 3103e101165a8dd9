# Per-layer extraction (one forward pass per batch for every layer) and the language means.


include: "common/extract.smk"


rule extract:
    input:
        corpus="data/corpora/{corpus}/{lang}.parquet",
        model="data/models/{model}",
    output:
        embeddings="results/{model}/embeddings/{corpus}/{lang}.parquet",
        sums="results/{model}/sums/{corpus}/{lang}.parquet",
    wildcard_constraints:
        corpus=SINGLE_CORPUS,
    params:
        extraction=EXTRACTION,
        pooled_layers=pooled_layers,
    log:
        "logs/{model}/extract/{corpus}/{lang}.log",
    priority: 2  # the language means first: translation and transfer wait on them
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=8000,
        runtime=120,
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/extract.py"


rule extract_parallel:
    input:
        xx="data/corpora/{pairset}_{xx}-en{split}/{xx}.parquet",
        en="data/corpora/{pairset}_{xx}-en{split}/en.parquet",
        model="data/models/{model}",
    output:
        xx_embeddings="results/{model}/embeddings/{pairset}_{xx}-en{split}/{xx}.parquet",
        xx_sums="results/{model}/sums/{pairset}_{xx}-en{split}/{xx}.parquet",
        en_embeddings="results/{model}/embeddings/{pairset}_{xx}-en{split}/en.parquet",
        en_sums="results/{model}/sums/{pairset}_{xx}-en{split}/en.parquet",
    wildcard_constraints:
        pairset=PAIRSET,
        xx=PAIR_XX,
        split=PAIR_SPLIT,
    params:
        extraction=EXTRACTION,
        pooled_layers=lambda w: pooled_layers_of(parallel_corpus(w)),
    log:
        "logs/{model}/extract/{pairset}_{xx}-en{split}.log",
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=8000,
        runtime=240,
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/extract_parallel.py"


rule language_means:
    input:
        sums="results/{model}/sums/{corpus}/{lang}.parquet",
        corpus="data/corpora/{corpus}/{lang}.parquet",
        model="data/models/{model}",
    output:
        "results/{model}/means/{corpus}/{lang}.parquet",
    log:
        "logs/{model}/means/{corpus}/{lang}.log",
    priority: 2  # see extract
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/language_means.py"
