"""Rule fetch_bucc: place the bucc2018 files of one fetch unit under data/raw/ (mirror copy or download)."""

from langrep.data.fetch import fetch_for_rule

fetch_for_rule(snakemake, "bucc2018")  # noqa: F821 - injected by Snakemake
