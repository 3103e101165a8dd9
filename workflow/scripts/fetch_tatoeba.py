"""Rule fetch_tatoeba: place the tatoeba files of one fetch unit under data/raw/ (mirror copy or download)."""

from langrep.data.fetch import fetch_for_rule

fetch_for_rule(snakemake, "tatoeba")  # noqa: F821 - injected by Snakemake
