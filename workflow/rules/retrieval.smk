# Cross-lingual sentence retrieval (paper Sec. 4, Tables 2-3): Tatoeba accuracy@1 and BUCC2018
# margin mining, each with Original, Zero-mean and MDS, at every configured layer. The science is
# in langrep.retrieval; these rules only lay out which files feed which task.


include: "common/retrieval.smk"


rule retrieval_tatoeba:
    input:
        lambda w: sorted(set(_plan_files(tatoeba_plan(w.model)))),
    output:
        "results/{model}/scores/tatoeba.csv",
    params:
        plan=lambda w: tatoeba_plan(w.model),
        layer=RETRIEVAL.get("layer", 8),
        layers=RETRIEVAL.get("layers", "all"),
        methods=RETRIEVAL.get("methods", ["original", "zero_mean", "mds"]),
        directions=_RET_TATOEBA.get("directions", ["xx-en", "en-xx"]),
        block_size=RETRIEVAL.get("block_size", 8192),
    log:
        "logs/{model}/retrieval_tatoeba.log",
    threads: min(4, workflow.cores)
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/retrieval_tatoeba.py"


rule retrieval_bucc:
    input:
        lambda w: sorted(set(_plan_files(bucc_plan(w.model)))),
    output:
        "results/{model}/scores/bucc.csv",
    params:
        plan=lambda w: bucc_plan(w.model),
        layer=RETRIEVAL.get("layer", 8),
        layers=_bucc_layers(),
        methods=RETRIEVAL.get("methods", ["original", "zero_mean", "mds"]),
        k=_RET_BUCC.get("k", 4),
        block_size=RETRIEVAL.get("block_size", 8192),
    log:
        "logs/{model}/retrieval_bucc.log",
    threads: JOB_THREADS
    resources:
        # one layer of both sides of a split, normalised copies and the k-NN lists; the embedding
        # files hold every layer, so their size bounds this from above
        mem_mb=lambda w, input: int(4000 + 2 * input.size_mb),
        runtime=lambda w, input: int(60 + input.size_mb / 10),
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/retrieval_bucc.py"
