"""Rule fetch_ud: place the ud files of one fetch unit under data/raw/ (mirror copy or download)."""

from langrep.data.fetch import fetch_for_rule

fetch_for_rule(snakemake, "ud")  # noqa: F821 - injected by Snakemake
