# Cross-lingual sentence retrieval (paper Sec. 4, Tables 2-3): Tatoeba accuracy@1 and BUCC2018
# margin mining, each with Original, Zero-mean and MDS, at every configured layer. The science is
# in langrep.retrieval.tatoeba; these rules only lay out which files feed which task. BUCC mining (the heavy
# step: a full similarity product per layer and method, on the GPU when there is one) is one job
# per pair and split; the scores of all splits (thresholds from dev) are one light job.


include: "plans/retrieval.smk"


rule retrieval_tatoeba:
    input:
        unpack(plan_inputs(lambda w: tatoeba_plan(w.model))),
    output:
        path("scores", task="tatoeba"),
    log:
        "logs/{model}/retrieval_tatoeba.log",
    benchmark:
        path("benchmark", job="{model}/retrieval_tatoeba")
    conda:
        ENV
    threads: JOB_THREADS
    resources:
        mem_mb=per_attempt(4000),
        runtime=per_attempt(60),
    params:
        **INTERVALS,
        plan=plan_shape(lambda w: tatoeba_plan(w.model)),
        retrieval=tatoeba_job_settings(),
    script:
        "../scripts/retrieval_tatoeba.py"


rule retrieval_bucc_mine:
    input:
        unpack(plan_inputs(bucc_split_plan)),
    output:
        path("candidates", corpus="bucc_{xx}-en_{split}"),
    log:
        "logs/{model}/retrieval_bucc_mine/bucc_{xx}-en_{split}.log",
    benchmark:
        path("benchmark", job="{model}/retrieval_bucc_mine/bucc_{xx}-en_{split}")
    wildcard_constraints:
        xx=r"[a-z]{2,3}",
        split="dev|test",
    conda:
        ENV
    threads: JOB_THREADS
    resources:
        gpu=GPU,
        mem_mb=bucc_mine_mem_mb,
        runtime=bucc_mine_runtime,
    params:
        plan=plan_shape(bucc_split_plan),
        retrieval=bucc_mine_job_settings(),
    script:
        "../scripts/retrieval_bucc_mine.py"


rule retrieval_bucc:
    input:
        unpack(plan_inputs(lambda w: bucc_scores_plan(w.model))),
    output:
        path("scores", task="bucc"),
    log:
        "logs/{model}/retrieval_bucc.log",
    benchmark:
        path("benchmark", job="{model}/retrieval_bucc")
    conda:
        ENV
    resources:
        mem_mb=per_attempt(2000),
        runtime=per_attempt(15),
    params:
        **INTERVALS,
        plan=plan_shape(lambda w: bucc_scores_plan(w.model)),
    script:
        "../scripts/retrieval_bucc.py"
