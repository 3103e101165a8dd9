"""Rule retrieval_tatoeba: results/{model}/scores/tatoeba.csv."""

from langrep.logs import log_to_file
from langrep.paths import resolve_plan
from langrep.retrieval.tatoeba import run_tatoeba

log_to_file(snakemake.log[0])
# params.retrieval: the keys of config retrieval: this job reads (the others keep their defaults)
plan = resolve_plan(snakemake.params.plan, snakemake.input)
run_tatoeba(
    snakemake.wildcards.model,
    plan,
    snakemake.output[0],
    snakemake.params.retrieval,
    threads=snakemake.threads,
    bootstrap=snakemake.params.bootstrap,
    seed=snakemake.params.seed,
)
