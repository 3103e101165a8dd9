# The language-means analysis: geometry of the means, language identification of held-out sentences
# (Original and Zero-mean), and how much text a mean needs. The science is in langrep.means_analysis.


include: "common/analysis.smk"


rule means_analysis:
    input:
        analysis_inputs,
    output:
        "results/{model}/scores/means.csv",
    params:
        plan=lambda w: analysis_plan(w.model),
        layer=(config.get("retrieval") or {}).get("layer", 8),
        directions=((config.get("retrieval") or {}).get("tatoeba") or {}).get("directions", ["xx-en", "en-xx"]),
        heldout=ANALYSIS.get("heldout_sentences", 200),
        grid_start=ANALYSIS.get("tokens_from", 1000),
    log:
        "logs/{model}/means_analysis.log",
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/means_analysis.py"
