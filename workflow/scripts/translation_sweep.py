import torch

from langrep.logs import log_to_file
from langrep.settings import direction_langs
from langrep.translation.run import run_translation_direction

log = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
source, target = direction_langs(snakemake.wildcards.direction)
run_translation_direction(
    snakemake.params.settings,
    direction=snakemake.wildcards.direction,
    model=snakemake.wildcards.model,
    model_dir=snakemake.input.model,
    head_dir=snakemake.input.head,
    xnli_paths={source: snakemake.input.xnli_source, target: snakemake.input.xnli_target},
    vocab_path=snakemake.input.vocab,
    means_paths={source: snakemake.input.means_source, target: snakemake.input.means_target},
    rows_out=snakemake.output.rows,
    samples_out=snakemake.output.samples,
    log=log.info,
    bootstrap=snakemake.params.bootstrap,
    seed=snakemake.params.seed,
)
