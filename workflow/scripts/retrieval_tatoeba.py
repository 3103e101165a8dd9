"""Rule retrieval_tatoeba: results/{model}/scores/tatoeba.csv."""

from langrep.logs import log_to_file
from langrep.paths import resolve_plan
from langrep.retrieval import run_tatoeba

smk = snakemake  # noqa: F821 - injected by Snakemake
log_to_file(smk.log[0])
p = smk.params
# the rule's params are the keys of config retrieval: this job reads (the others keep their defaults)
settings = {
    "layer": p.layer,
    "layers": p.layers,
    "methods": p.methods,
    "block_size": p.block_size,
    "device": p.device,
    "tatoeba": {"directions": p.directions},
}
run_tatoeba(smk.wildcards.model, resolve_plan(p.plan, smk.input), smk.output[0], settings, threads=smk.threads)
