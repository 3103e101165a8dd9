"""Rule retrieval_bucc_mine: the candidates of one BUCC pair and split."""

from langrep.logs import log_to_file
from langrep.paths import resolve_plan
from langrep.retrieval.bucc import run_bucc_mine

log_to_file(snakemake.log[0])
# params.retrieval: the keys of config retrieval: this job reads, bucc.layers resolved to the layers mined
run_bucc_mine(
    resolve_plan(snakemake.params.plan, snakemake.input),
    snakemake.output[0],
    snakemake.params.retrieval,
    threads=snakemake.threads,
)
