# Helpers of workflow/rules/retrieval.smk: its settings, input functions and targets
# (functions live apart from rules, as snakemake --lint asks).

from langrep.settings import tatoeba_langs as _tatoeba_langs

RETRIEVAL = config.get("retrieval") or {}
_RET_TATOEBA = RETRIEVAL.get("tatoeba") or {}
_RET_BUCC = RETRIEVAL.get("bucc") or {}
_RET_MEANS = RETRIEVAL.get("means", ["eval", "mono"])
# resolved: LASER codes -> ISO 639-1 (nld -> nl), the preset xtreme expanded (langrep.settings)
_RET_LANGS = _tatoeba_langs(config)
_RET_PAIRS = _RET_BUCC.get("pairs", ["zh"])
_RET_SPLITS = _RET_BUCC.get("splits", ["dev"])


def _retrieval_means(model, corpus, xx):
    """means source -> {"xx": path, "en": path}: the evaluation set's own sides, or the
    monolingual corpus of each language."""
    return {
        src: {side: means_path(model, corpus if src == "eval" else "mono", lang)
              for side, lang in (("xx", xx), ("en", "en"))}
        for src in _RET_MEANS
    }


def tatoeba_plan(model):
    plan = {}
    for xx in _RET_LANGS:
        corpus = f"tatoeba_{xx}-en"
        plan[xx] = {
            "xx": embeddings_path(model, corpus, xx),
            "en": embeddings_path(model, corpus, "en"),
            "means": _retrieval_means(model, corpus, xx),
        }
    return plan


def bucc_plan(model):
    # the threshold is always chosen on dev, so dev is mined whenever another split is asked for
    splits = ["dev"] + [s for s in _RET_SPLITS if s != "dev"]
    plan = {}
    for xx in _RET_PAIRS:
        plan[xx] = {}
        for split in splits:
            corpus = f"bucc_{xx}-en_{split}"
            plan[xx][split] = {
                "xx": embeddings_path(model, corpus, xx),
                "en": embeddings_path(model, corpus, "en"),
                "gold": f"data/corpora/{corpus}/gold.parquet",
                "means": _retrieval_means(model, corpus, xx),
                # LASER's --unify: sentences are matched to their ids through their texts
                "texts": {side: corpus_path(corpus, lang) for side, lang in (("xx", xx), ("en", "en"))}
                if _RET_BUCC.get("unify", True) else None,
            }
    return plan


def _plan_files(node):
    """Every path in a (nested) plan: the rule's inputs."""
    if isinstance(node, dict):
        return [p for v in node.values() for p in _plan_files(v)]
    return [] if node is None else [node]


def _bucc_layers():
    return _RET_BUCC.get("layers") if _RET_BUCC.get("layers") is not None else RETRIEVAL.get("layers", "all")


def bucc_split_spec(wildcards):
    """The plan of one BUCC split (rule retrieval_bucc_mine)."""
    return bucc_plan(wildcards.model)[wildcards.xx][wildcards.split]


def bucc_mine_inputs(wildcards):
    spec = bucc_split_spec(wildcards)
    return {"xx": spec["xx"], "en": spec["en"],
            "other": sorted(set(_plan_files({k: v for k, v in spec.items() if k not in ("xx", "en")})))}


def candidates_path(model, xx, split):
    return f"results/{model}/candidates/bucc_{xx}-en_{split}.parquet"


def bucc_scores_plan(model):
    """pair -> split -> {"candidates", "gold"} (rule retrieval_bucc)."""
    return {xx: {split: {"candidates": candidates_path(model, xx, split), "gold": spec["gold"]}
                 for split, spec in splits.items()}
            for xx, splits in bucc_plan(model).items()}


# Mining cost: a full similarity product of the two sides, both ways, per layer and per
# (method, means) mined. Rates are conservative: FAISS ran at ~60 GFLOP/s per core here
# (README, Benchmarks); an H100 multiplies float32 at ~50 TFLOP/s.
_MINE_FLOPS_PER_S = {"gpu": 10e12, "cpu_thread": 30e9}


def _embeddings_shape(path):
    """(sentences, dimensions, pooled layers) from an embeddings file's footer; None before it exists."""
    import pyarrow.parquet as pq

    try:
        schema, rows = pq.read_schema(path), pq.read_metadata(path).num_rows
    except OSError:
        return None
    layers = [f for f in schema if f.name.startswith("layer_")]
    return rows, (layers[0].type.list_size if layers else 0), len(layers)


def _bucc_mine_size(input):
    """(n_xx, n_en, dims, layers mined, (method, means) pairs mined) of a mining job."""
    shapes = [_embeddings_shape(p) for p in (input.xx, input.en)]
    if None in shapes:  # the DAG is being built: resources are set again once the inputs exist
        return 0, 0, 0, 0, 0
    (n_x, dim, pooled), (n_y, _, _) = shapes
    layers = _bucc_layers()
    n_layers = pooled if layers == "all" else len({int(RETRIEVAL.get("layer", 8)), *map(int, layers)})
    methods = RETRIEVAL.get("methods", ["original", "zero_mean", "mds"])
    n_keys = ("original" in methods) + len([m for m in methods if m != "original"]) * len(_RET_MEANS)
    return n_x, n_y, dim, n_layers, n_keys


def bucc_mine_mem_mb(wildcards, input, attempt):
    # ~6 float32 copies of one layer of each side (read, normalised, shifted, unified), the texts,
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
        if _RET_LANGS:
            out.append(f"results/{m}/scores/tatoeba.csv")
        if _RET_PAIRS:
            out.append(f"results/{m}/scores/bucc.csv")
    return out
