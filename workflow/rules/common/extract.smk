# Helpers of workflow/rules/extract.smk: its settings, input functions and targets
# (functions live apart from rules, as snakemake --lint asks).


# Parallel corpora (both sides in one job: one model load instead of two) and the rest.
# The pieces are the wildcard constraints of rule extract_parallel.
PAIRSET, PAIR_XX, PAIR_SPLIT = "tatoeba|bucc", "[a-z]{2,3}", "|_dev|_test"
PARALLEL_CORPUS = rf"(?:{PAIRSET})_{PAIR_XX}-en(?:{PAIR_SPLIT})"
# the corpus path segment is not a parallel corpus id ("/" ends the segment inside the full path)
SINGLE_CORPUS = rf"(?!{PARALLEL_CORPUS}/)[^/]+"


def parallel_corpus(wildcards):
    return f"{wildcards.pairset}_{wildcards.xx}-en{wildcards.split}"


def pooled_layers(wildcards):
    return pooled_layers_of(wildcards.corpus)


def pooled_layers_of(corpus):
    # The monolingual corpus only feeds the language means: its pooled sentence vectors are not
    # needed and would be the largest artifact of a paper-sized run.
    if corpus == "mono" and not EXTRACTION.get("pool_mono", False):
        return []
    configured = EXTRACTION.get("pooled_layers")
    if corpus.startswith("bucc_"):
        # BUCC sides are large (~400k sentences per test side): pool only the layers mined.
        mined = _bucc_layers()
        if mined != "all":
            wanted = {int(RETRIEVAL.get("layer", 8)), *map(int, mined)}
            return sorted(wanted if configured is None else wanted & set(configured))
    return configured


def extract_targets():
    return [means_path(m, "mono", lang) for m in MODELS for lang in config["languages"]]
