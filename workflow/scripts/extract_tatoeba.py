"""Rule extract_tatoeba: both sides of a tatoeba corpus with one model load."""
from langrep.pipeline import extract_pair_for_rule

extract_pair_for_rule(snakemake)  # noqa: F821 - injected by Snakemake
