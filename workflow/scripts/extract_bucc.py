"""Rule extract_bucc: pooled vectors and per-layer sums of both sides of a BUCC pair and split (one model load)."""

from langrep.pipeline import extract_for_rule

extract_for_rule(snakemake)
