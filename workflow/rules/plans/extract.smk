# The plans of workflow/rules/extract.smk: which files feed each job, its settings and resources, and
# the stage's targets (functions live apart from rules, as snakemake --lint asks).


# Parallel corpora (both sides in one job: one model load instead of two) and the rest.
# The pieces are the wildcard constraints of rules extract_tatoeba and extract_bucc.
PAIR_XX, BUCC_SPLIT = "[a-z]{2,3}", "dev|test"
PARALLEL_CORPUS = rf"(?:tatoeba_{PAIR_XX}-en|bucc_{PAIR_XX}-en_(?:{BUCC_SPLIT}))"
# the corpus path segment is not a parallel corpus id ("/" ends the segment inside the full path)
SINGLE_CORPUS = rf"(?!{PARALLEL_CORPUS}/)[^/]+"


def pooled_layers_of(corpus):
    """The layers whose pooled sentence vectors a corpus's extraction writes (null = every layer)."""
    # The monolingual corpus feeds the language means (sums); its pooled vectors are only for the
    # means analysis and would be the largest artifact of a paper-sized run.
    if corpus == "mono" and not EXTRACTION["pool_mono"]:
        return []
    configured = EXTRACTION["pooled_layers"]
    if corpus.startswith("bucc_"):
        # BUCC sides are large (~400k sentences per test side): pool only the layers mined.
        mined = BUCC_LAYERS
        if mined != "all":
            wanted = {int(RETRIEVAL["layer"]), *map(int, mined)}
            return sorted(wanted if configured is None else wanted & set(configured))
    return configured


def pair_outputs(corpus, xx, embeddings=lambda p: p):
    """The embeddings, sums and language means of both sides of a parallel corpus (rule outputs)."""
    out = {}
    for side, lang in (("xx", xx), ("en", "en")):
        out[f"{side}_embeddings"] = embeddings(path("embeddings", corpus=corpus, lang=lang))
        out[f"{side}_sums"] = path("sums", corpus=corpus, lang=lang)
        out[f"{side}_means"] = path("means", corpus=corpus, lang=lang)
    return out


def pair_inputs(corpus, xx):
    return {
        "xx": path("corpus", corpus=corpus, lang=xx),
        "en": path("corpus", corpus=corpus, lang="en"),
        "model": path("model"),
    }


def extract_targets():
    return [path("means", model=m, corpus="mono", lang=lang) for m in MODELS for lang in config["languages"]]
