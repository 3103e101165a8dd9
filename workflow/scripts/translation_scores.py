from langrep.logs import log_to_file
from langrep.translation.run import gather_translation

log = log_to_file(snakemake.log[0])
rows = gather_translation(
    snakemake.input.rows,
    snakemake.input.samples,
    scores_out=snakemake.output.scores,
    samples_out=snakemake.output.samples,
)
log.info(f"{len(rows)} score rows from {len(snakemake.input.rows)} directions")
