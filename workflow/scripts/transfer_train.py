from langrep.logs import log_to_file
from langrep.transfer import train_task

log_to_file(snakemake.log[0])
train_task(
    task=snakemake.wildcards.task,
    model_dir=snakemake.input.model,
    train_path=snakemake.input.train,
    dev_path=snakemake.input.dev,
    out_path=snakemake.output[0],
    settings=snakemake.params.settings,
    zero_mean_layer=snakemake.params.zero_mean_layer,
    english_means=snakemake.input.get("means"),
    device=snakemake.params.device,
    dtype=snakemake.params.dtype,
    threads=snakemake.threads,
)
