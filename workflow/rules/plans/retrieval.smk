# The plans of workflow/rules/retrieval.smk: which files feed each job, its settings and resources, and
# the stage's targets (functions live apart from rules, as snakemake --lint asks).


def _retrieval_means(model, corpus, xx):
    """means source -> {"xx": path, "en": path}: the evaluation set's own sides, or the
    monolingual corpus of each language."""
    return {
        src: {
            side: path("means", model=model, corpus=corpus if src == "eval" else "mono", lang=lang)
            for side, lang in (("xx", xx), ("en", "en"))
        }
        for src in RETRIEVAL["means"]
    }


def tatoeba_plan(model):
    plan = {}
    for xx in TATOEBA_LANGS:
        corpus = f"tatoeba_{xx}-en"
        plan[xx] = {
            "xx": path("embeddings", model=model, corpus=corpus, lang=xx),
            "en": path("embeddings", model=model, corpus=corpus, lang="en"),
            "means": _retrieval_means(model, corpus, xx),
        }
    return plan


def bucc_plan(model):
    # the threshold is always chosen on dev, so dev is mined whenever another split is asked for
    splits = ["dev"] + [s for s in BUCC["splits"] if s != "dev"]
    plan = {}
    for xx in BUCC["pairs"]:
        plan[xx] = {}
        for split in splits:
            corpus = f"bucc_{xx}-en_{split}"
            plan[xx][split] = {
                "xx": path("embeddings", model=model, corpus=corpus, lang=xx),
                "en": path("embeddings", model=model, corpus=corpus, lang="en"),
                "gold": path("bucc_gold", corpus=corpus),
                "means": _retrieval_means(model, corpus, xx),
                # LASER's --unify: sentences are matched to their ids through their texts
                "texts": (
                    {side: path("corpus", corpus=corpus, lang=lang) for side, lang in (("xx", xx), ("en", "en"))}
                    if BUCC["unify"]
                    else None
                ),
            }
    return plan


def tatoeba_job_settings():
    """The keys of config retrieval: a Tatoeba job reads (a change to the others does not rerun it)."""
    keys = ("layer", "layers", "methods", "block_size", "device")
    return {**{k: RETRIEVAL[k] for k in keys}, "tatoeba": {"directions": RETRIEVAL["tatoeba"]["directions"]}}


def bucc_mine_job_settings():
    """The keys of config retrieval: a BUCC mining job reads; bucc.layers resolved (the layers mined)."""
    keys = ("layer", "methods", "block_size", "device")
    return {**{k: RETRIEVAL[k] for k in keys}, "bucc": {"layers": BUCC_LAYERS, "k": BUCC["k"]}}


def bucc_split_plan(wildcards):
    """The plan of one BUCC split (rule retrieval_bucc_mine)."""
    return bucc_plan(wildcards.model)[wildcards.xx][wildcards.split]


def bucc_scores_plan(model):
    """pair -> split -> {"candidates", "gold"} (rule retrieval_bucc)."""
    return {
        xx: {
            split: {"candidates": path("candidates", model=model, corpus=f"bucc_{xx}-en_{split}"), "gold": spec["gold"]}
            for split, spec in splits.items()
        }
        for xx, splits in bucc_plan(model).items()
    }


# Mining cost: a full similarity product of the two sides, both ways, per layer and per
# (method, means) mined. Rates are conservative: FAISS ran at ~60 GFLOP/s per core here
# (README, Benchmarks); an H100 multiplies float32 at ~50 TFLOP/s.
_MINE_FLOPS_PER_S = {"gpu": 10e12, "cpu_thread": 30e9}


def _embeddings_shape(path):
    """(sentences, dimensions, pooled layers) from an embeddings file's footer; None before it exists."""
    from langrep.artifacts import read_metadata, read_schema
    from langrep.errors import LangrepError

    try:
        schema, rows = read_schema(path), read_metadata(path).num_rows
    except LangrepError:  # not there yet, or unreadable: the job's own read names the file
        return None
    layers = [f for f in schema if f.name.startswith("layer_")]
    return rows, (layers[0].type.list_size if layers else 0), len(layers)


def _bucc_mine_size(input):
    """(n_xx, n_en, dims, layers mined, (method, means) pairs mined) of a mining job."""
    shapes = [_embeddings_shape(input[name]) for name in ("in__xx", "in__en")]
    if None in shapes:  # the DAG is being built: resources are set again once the inputs exist
        return 0, 0, 0, 0, 0
    (n_x, dim, pooled), (n_y, _, _) = shapes
    layers = BUCC_LAYERS
    n_layers = pooled if layers == "all" else len({int(RETRIEVAL["layer"]), *map(int, layers)})
    methods = RETRIEVAL["methods"]
    n_keys = ("original" in methods) + len([m for m in methods if m != "original"]) * len(RETRIEVAL["means"])
    return n_x, n_y, dim, n_layers, n_keys


def bucc_mine_mem_mb(wildcards, input, attempt):
    # ~6 float32 copies of one layer of each side (read, normalized, shifted, unified), the texts,
    # the k-NN lists and candidates; more on each retry
    n_x, n_y, dim, _, _ = _bucc_mine_size(input)
    return int(attempt * (2000 + ((n_x + n_y) * (6 * 4 * dim + 600)) / 2**20))


def bucc_mine_runtime(wildcards, input, threads, attempt):
    n_x, n_y, dim, n_layers, n_keys = _bucc_mine_size(input)
    flops = 2 * 2 * n_x * n_y * dim * n_layers * n_keys
    rate = _MINE_FLOPS_PER_S["gpu"] if GPU else _MINE_FLOPS_PER_S["cpu_thread"] * threads
    return int(attempt * (10 + 2 * flops / rate / 60))


def retrieval_targets():
    out = []
    for m in stage_models("retrieval"):
        if TATOEBA_LANGS:
            out.append(path("scores", model=m, task="tatoeba"))
        if BUCC["pairs"]:
            out.append(path("scores", model=m, task="bucc"))
    return out
