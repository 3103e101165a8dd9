"""Rule retrieval_bucc: results/{model}/scores/bucc.csv from the candidates of every split."""

from langrep.bucc import run_bucc_scores
from langrep.logs import log_to_file
from langrep.paths import resolve_plan

smk = snakemake  # noqa: F821 - injected by Snakemake
log_to_file(smk.log[0])
run_bucc_scores(
    model=smk.wildcards.model,
    plan=resolve_plan(smk.params.plan, smk.input),
    output=smk.output[0],
    bootstrap=smk.params.bootstrap,
    seed=smk.params.seed,
)
