"""Rule fetch_xnli: place the xnli files of one fetch unit under data/raw/ (mirror copy or download)."""

from langrep.data.fetch import fetch_for_rule

fetch_for_rule(snakemake, "xnli")  # noqa: F821 - injected by Snakemake
