"""Rule retrieval_bucc: results/{model}/scores/bucc.csv from the candidates of every split."""

from langrep.logs import log_to_file
from langrep.paths import resolve_plan
from langrep.retrieval.bucc import run_bucc_scores

log_to_file(snakemake.log[0])
run_bucc_scores(
    model=snakemake.wildcards.model,
    plan=resolve_plan(snakemake.params.plan, snakemake.input),
    output=snakemake.output[0],
    bootstrap=snakemake.params.bootstrap,
    seed=snakemake.params.seed,
)
