from langrep.logs import log_to_file
from langrep.report import build_report

log_to_file(snakemake.log[0])
build_report(
    snakemake.params.config,
    snakemake.input.scores,
    snakemake.params.out_dir,
    provenance=snakemake.input.provenance,
    samples_files=snakemake.input.samples,
)
