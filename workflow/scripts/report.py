from langrep.logs import log_to_file
from langrep.report import build_report

log_to_file(snakemake.log[0])
build_report(
    snakemake.params.config,
    snakemake.input.scores,
    snakemake.params.out_dir,
    means_files=snakemake.input.means,
    model_dirs=snakemake.input.models,
    samples_files=snakemake.input.samples,
    caption_files=snakemake.input.captions,
    provenance=snakemake.input.provenance,
)
