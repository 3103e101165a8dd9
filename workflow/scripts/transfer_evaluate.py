from langrep.logs import log_to_file
from langrep.transfer import evaluate_task

log_to_file(snakemake.log[0])


def as_list(x):  # a one-element named input may come back as a plain string
    return [x] if isinstance(x, str) else list(x)


langs = list(snakemake.params.langs)
layers = list(snakemake.params.layers)
evaluate_task(
    task=snakemake.wildcards.task,
    model_key=snakemake.wildcards.model,
    model_dir=snakemake.input.model,
    original_ckpt=snakemake.input.original,
    zero_mean_ckpts=dict(zip(layers, as_list(snakemake.input.zero_mean))),
    train_path=snakemake.input.train,
    dev_path=snakemake.input.dev,
    test_paths=dict(zip(langs, as_list(snakemake.input.test))),
    pretrained_means=dict(zip(["en"] + langs, as_list(snakemake.input.means))),
    mono_paths=dict(zip(["en"] + langs, as_list(snakemake.input.mono))),
    out_path=snakemake.output[0],
    layers=layers,
    alphas=snakemake.params.alphas,
    test_sentences=snakemake.params.test_sentences,
    extraction=snakemake.params.extraction,
    seed=snakemake.params.seed,
    bootstrap=snakemake.params.bootstrap,
    device=snakemake.params.device,
    dtype=snakemake.params.dtype,
    threads=snakemake.threads,
)
