"""Rules extract, extract_tatoeba, extract_bucc: pooled sentence vectors, per-layer sums and language
means of one corpus and language (named input ``corpus``), or of both sides of a Tatoeba pair or a
BUCC pair and split (inputs ``xx`` and ``en``), with one model load."""

from langrep.extraction.corpus import extract_parallel_corpus, rule_extraction
from langrep.logs import log_to_file

log_to_file(snakemake.log[0])
inp, out = snakemake.input, snakemake.output
if "corpus" in inp.keys():
    sides = [
        {"corpus_path": inp.corpus, "embeddings_path": out.embeddings, "sums_path": out.sums, "means_path": out.means}
    ]
else:
    sides = [
        {
            "corpus_path": inp[s],
            "embeddings_path": out[f"{s}_embeddings"],
            "sums_path": out[f"{s}_sums"],
            "means_path": out[f"{s}_means"],
        }
        for s in ("xx", "en")
    ]
settings = rule_extraction(snakemake.params)
extract_parallel_corpus(sides, model_dir=inp.model, settings=settings, threads=snakemake.threads)
