# Materialise each configured model once as a transformers folder; every stage loads it from there.


rule materialize_model:
    output:
        directory("data/models/{model}"),
    params:
        source=lambda wc: config["models"][wc.model]["source"],
        revision=lambda wc: config["models"][wc.model].get("revision"),
    log:
        "logs/{model}/materialize_model.log",
    resources:
        mem_mb=8000,
        runtime=60,
    # downloads from the hub: on the submitting host, as compute nodes often have no internet
    localrule: True
    conda:
        "../../envs/langrep.yaml"
    script:
        "../scripts/materialize_model.py"
