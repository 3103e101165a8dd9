"""Rule extract: pooled sentence vectors and per-layer sums of one corpus and language."""

from langrep.pipeline import extract_for_rule

extract_for_rule(snakemake)
