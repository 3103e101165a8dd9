"""Rule script for normalise_corpus (data/corpora/{corpus}/{lang}.parquet) and bucc_gold (gold.parquet)."""
import logging

from langrep.data.corpora import normalise_corpus, write_bucc_gold

snakemake = globals()["snakemake"]  # injected by Snakemake
logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
inputs = {name: snakemake.input[name] for name in snakemake.input.keys()}

try:
    if snakemake.rule == "bucc_gold":
        n = write_bucc_gold(out=snakemake.output[0], **inputs)
    else:
        n = normalise_corpus(
            snakemake.params.corpus,
            snakemake.params.lang,
            inputs,
            snakemake.output[0],
            mono_sentences=snakemake.params.mono_sentences,
            bucc_sentences=snakemake.params.bucc_sentences,
        )
except Exception:
    logging.exception("%s failed", snakemake.rule)  # so that the rule's log says why
    raise
logging.info("%s: %d rows", snakemake.output[0], n)
