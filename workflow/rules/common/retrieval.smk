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


def retrieval_targets():
    out = []
    for m in MODELS:
        if _RET_LANGS:
            out.append(f"results/{m}/scores/tatoeba.csv")
        if _RET_PAIRS:
            out.append(f"results/{m}/scores/bucc.csv")
    return out
