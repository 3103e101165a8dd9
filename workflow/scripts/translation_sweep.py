import torch

from langrep.logs import log_to_file
from langrep.translation import run_translation

log = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
langs = snakemake.params.langs
run_translation(
    snakemake.params.settings,
    model=snakemake.wildcards.model,
    model_dir=snakemake.input.model,
    head_dir=snakemake.input.head,
    xnli_paths=dict(zip(langs, snakemake.input.xnli)),
    vocab_path=snakemake.input.vocab,
    means_paths=dict(zip(langs, snakemake.input.means)),
    scores_out=snakemake.output.scores,
    samples_out=snakemake.output.samples,
    log=log.info,
    bootstrap=snakemake.params.bootstrap,
    seed=snakemake.params.seed,
)
