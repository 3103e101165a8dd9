# Corpora: fetch each data set into data/raw/ (from the offline mirror, or downloaded from its
# official source) and normalize each corpus once into data/corpora/{corpus}/{lang}.parquet.
# Where a fetch unit's corpora share its wildcards (mono, BUCC, XNLI), the fetch job normalizes
# them itself (a job per tiny step costs a process); Tatoeba and UD name their files by treebank
# and LASER code, so normalize_corpus makes their corpora. Corpora are pulled in by the stages that
# use them (path("corpus", ...)); nothing here is a target. The logic lives in langrep.data; the
# mirror ($LANGREP_DATA_MIRROR overrides data.mirror) is resolved and checked once, when the
# workflow is parsed. Mirrored files are copied, never linked.


include: "plans/corpora.smk"


ruleorder: fetch_mono > fetch_bucc > fetch_xnli > normalize_corpus


rule fetch_tatoeba:
    output:
        **raw_outputs("tatoeba"),
    log:
        "logs/corpora/fetch_tatoeba/{code}.log",
    benchmark:
        path("benchmark", job="corpora/fetch_tatoeba/{code}")
    wildcard_constraints:
        code="[a-z]{3}",
    localrule: True
    conda:
        ENV
    resources:
        mem_mb=500,
        runtime=10,
    params:
        options=lambda w: fetch_options("tatoeba", code=w.code),
        source=lambda w: fetch_source("tatoeba", code=w.code),
    script:
        "../scripts/fetch.py"


rule fetch_ud:
    output:
        **raw_outputs("ud"),
    log:
        "logs/corpora/fetch_ud/{treebank}/{prefix}-{split}.log",
    benchmark:
        path("benchmark", job="corpora/fetch_ud/{treebank}/{prefix}-{split}")
    wildcard_constraints:
        treebank="UD_[A-Za-z_-]+",
        prefix="[a-z]{2,3}_[a-z]+",
        split="train|dev|test",
    localrule: True
    conda:
        ENV
    resources:
        mem_mb=500,
        runtime=10,
    params:
        options=lambda w: fetch_options("ud", treebank=w.treebank, prefix=w.prefix, split=w.split),
        source=lambda w: fetch_source("ud", treebank=w.treebank, prefix=w.prefix, split=w.split),
    script:
        "../scripts/fetch.py"


rule fetch_xnli:
    output:
        [path("raw", relpath=rel) for rel in _catalog.xnli_relpaths()],
        **xnli_corpus_outputs(),
    log:
        "logs/corpora/fetch_xnli.log",
    benchmark:
        path("benchmark", job="corpora/fetch_xnli")
    priority: 2  # see fetch_mono
    localrule: True
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=15,
    params:
        options=lambda w: fetch_options("xnli"),
        source=lambda w: fetch_source("xnli"),
        corpora=xnli_corpora(),
    script:
        "../scripts/fetch.py"


rule fetch_bucc:
    output:
        **raw_outputs("bucc2018"),
        corpus_xx=path("corpus", corpus="bucc_{xx}-en_{split}", lang="{xx}"),
        corpus_en=path("corpus", corpus="bucc_{xx}-en_{split}", lang="en"),
        corpus_gold=path("bucc_gold", corpus="bucc_{xx}-en_{split}"),
    log:
        "logs/corpora/fetch_bucc/{xx}-en_{split}.log",
    benchmark:
        path("benchmark", job="corpora/fetch_bucc/{xx}-en_{split}")
    wildcard_constraints:
        xx="|".join(_catalog.BUCC_LANGS),
        split="dev|test",
    localrule: True
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=20,
    params:
        options=lambda w: fetch_options("bucc2018", xx=w.xx, split=w.split),
        source=lambda w: fetch_source("bucc2018", xx=w.xx, split=w.split),
        corpora=lambda w: bucc_corpora(w.xx, w.split),
        bucc_sentences=DATA.bucc_sentences,
    script:
        "../scripts/fetch.py"


rule fetch_mono:
    output:
        **raw_outputs("mono"),
        corpus=path("corpus", corpus="mono", lang="{lang}"),
    log:
        "logs/corpora/fetch_mono/{lang}.log",
    benchmark:
        path("benchmark", job="corpora/fetch_mono/{lang}")
    wildcard_constraints:
        lang=MONO_TEXT_LANG,  # not a stand-in: normalize_corpus makes those from a UD or Tatoeba file
    priority: 2  # the mono corpora feed the language means, the MLM head and translation: the longest chain
    localrule: True
    conda:
        ENV
    resources:
        mem_mb=2000,
        # streaming Wikipedia for the paper's sizes takes a while; a mirror copy takes seconds
        runtime=60,
    params:
        options=lambda w: fetch_options("mono", lang=w.lang),
        source=lambda w: fetch_source("mono", lang=w.lang),
        corpora=lambda w: {"corpus": ("mono", w.lang)},
        mono_sentences=DATA.mono_sentences,
    script:
        "../scripts/fetch.py"


rule normalize_corpus:
    input:
        unpack(lambda w: _corpora.corpus_inputs(w.corpus, w.lang, DATA, raw_root=RAW_ROOT)),
    output:
        path("corpus"),
    log:
        "logs/corpora/normalize/{corpus}/{lang}.log",
    benchmark:
        path("benchmark", job="corpora/normalize/{corpus}/{lang}")
    wildcard_constraints:
        corpus="[^/]+",
        lang="[a-z]{2,3}",
    priority: 2  # see fetch_mono
    # seconds of work: on a cluster it runs on the submitting host, not as a SLURM job
    localrule: True
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        corpus="{corpus}",
        lang="{lang}",
        # per corpus kind, so that changing one cap does not re-normalize (and re-extract) the others
        mono_sentences=lambda w: DATA.mono_sentences if w.corpus == "mono" else None,
        bucc_sentences=lambda w: DATA.bucc_sentences if w.corpus.startswith("bucc_") else None,
    script:
        "../scripts/normalize_corpus.py"
