"""Rule retrieval_bucc_mine: the candidates of one BUCC pair and split."""

from langrep.bucc import run_bucc_mine
from langrep.logs import log_to_file
from langrep.paths import resolve_plan

smk = snakemake  # noqa: F821 - injected by Snakemake
log_to_file(smk.log[0])
# params.retrieval: the keys of config retrieval: this job reads, bucc.layers resolved to the layers mined
run_bucc_mine(resolve_plan(smk.params.plan, smk.input), smk.output[0], smk.params.retrieval, threads=smk.threads)
