"""Rule extract_tatoeba: pooled sentence vectors and per-layer sums of both sides of a Tatoeba pair (one model load)."""

from langrep.pipeline import extract_for_rule

extract_for_rule(snakemake)
