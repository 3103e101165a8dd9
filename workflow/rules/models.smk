# Materialize each configured model once as a transformers folder; every stage loads it from there.
# A random:<key> source (a control) takes its architecture and tokenizer from model <key>'s folder.


rule materialize_model:
    input:
        base=random_base_dir,
    output:
        directory(path("model")),
    log:
        "logs/{model}/materialize_model.log",
    benchmark:
        path("benchmark", job="{model}/materialize_model")
    # downloads from the hub: on the submitting host, as compute nodes often have no internet
    localrule: True
    conda:
        ENV
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        model=materialize_params,
    script:
        "../scripts/materialize_model.py"
