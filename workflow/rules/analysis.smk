# The language-means analysis: geometry of the means, language identification of held-out sentences
# (Original and Zero-mean), and how much text a mean needs. The science is in langrep.analysis.means.


include: "plans/analysis.smk"


rule means_analysis:
    input:
        unpack(plan_inputs(lambda w: analysis_plan(w.model))),
    output:
        path("scores", task="means"),
    log:
        "logs/{model}/means_analysis.log",
    benchmark:
        path("benchmark", job="{model}/means_analysis")
    conda:
        ENV
    resources:
        mem_mb=per_attempt(4000),
        runtime=per_attempt(30),
    params:
        plan=plan_shape(lambda w: analysis_plan(w.model)),
        langs=config["languages"],
        layer=RETRIEVAL["layer"],
        directions=RETRIEVAL["tatoeba"]["directions"],
        heldout=ANALYSIS["heldout_sentences"],
        grid_start=ANALYSIS["tokens_from"],
    script:
        "../scripts/means_analysis.py"
