# Cross-lingual sentence retrieval (paper Sec. 4, Tables 2-3): Tatoeba accuracy@1 and BUCC2018
# margin mining, each with Original, Zero-mean and MDS, at every configured layer. The science is
# in langrep.retrieval; these rules only lay out which files feed which task. BUCC mining (the heavy
# step: a full similarity product per layer and method, on the GPU when there is one) is one job
# per pair and split; the scores of all splits (thresholds from dev) are one light job.


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
        device=RETRIEVAL.get("device", "auto"),
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


rule retrieval_bucc_mine:
    input:
        unpack(bucc_mine_inputs),
    output:
        "results/{model}/candidates/bucc_{xx}-en_{split}.parquet",
    wildcard_constraints:
        xx=r"[a-z]{2,3}",
        split="dev|test",
    params:
        spec=bucc_split_spec,
        layer=RETRIEVAL.get("layer", 8),
        layers=_bucc_layers(),
        methods=RETRIEVAL.get("methods", ["original", "zero_mean", "mds"]),
        k=_RET_BUCC.get("k", 4),
        block_size=RETRIEVAL.get("block_size", 8192),
        device=RETRIEVAL.get("device", "auto"),
    log:
        "logs/{model}/retrieval_bucc_mine/bucc_{xx}-en_{split}.log",
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=bucc_mine_mem_mb,
        runtime=bucc_mine_runtime,
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/retrieval_bucc_mine.py"


rule retrieval_bucc:
    input:
        lambda w: sorted(set(_plan_files(bucc_scores_plan(w.model)))),
    output:
        "results/{model}/scores/bucc.csv",
    params:
        plan=lambda w: bucc_scores_plan(w.model),
    log:
        "logs/{model}/retrieval_bucc.log",
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/retrieval_bucc.py"
