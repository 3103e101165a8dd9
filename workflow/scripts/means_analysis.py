"""Rule means_analysis: results/{model}/scores/means.csv."""

from langrep.logs import log_to_file
from langrep.means_analysis import run_means_analysis
from langrep.paths import resolve_plan

smk = snakemake  # noqa: F821 - injected by Snakemake
log_to_file(smk.log[0])
p = smk.params
plan = {"langs": list(p.langs), **resolve_plan(p.plan, smk.input)}
run_means_analysis(
    smk.wildcards.model,
    plan,
    smk.output[0],
    settings={"heldout_sentences": p.heldout, "tokens_from": p.grid_start},
    retrieval={"layer": p.layer, "tatoeba": {"directions": p.directions}},
)
