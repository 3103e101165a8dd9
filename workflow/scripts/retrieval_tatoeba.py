"""Rule retrieval_tatoeba: results/{model}/scores/tatoeba.csv."""

from langrep.logs import log_to_file
from langrep.paths import resolve_plan
from langrep.retrieval import run_tatoeba

smk = snakemake  # noqa: F821 - injected by Snakemake
log_to_file(smk.log[0])
# params.retrieval: the keys of config retrieval: this job reads (the others keep their defaults)
plan = resolve_plan(smk.params.plan, smk.input)
run_tatoeba(
    smk.wildcards.model,
    plan,
    smk.output[0],
    smk.params.retrieval,
    threads=smk.threads,
    bootstrap=smk.params.bootstrap,
    seed=smk.params.seed,
)
