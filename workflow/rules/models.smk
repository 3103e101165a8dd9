# Materialise each configured model once as a transformers folder; every stage loads it from there.
# A random:<key> source (a control) takes its architecture and tokenizer from model <key>'s folder.


rule materialize_model:
    input:
        base=lambda wc: random_base_dir(wc.model),
    output:
        directory("data/models/{model}"),
    params:
        source=lambda wc: config["models"][wc.model]["source"],
        revision=lambda wc: config["models"][wc.model].get("revision"),
        seed=lambda wc: config["models"][wc.model].get("seed", 0),
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
