# Helpers of workflow/rules/report.smk: its settings, input functions and targets
# (functions live apart from rules, as snakemake --lint asks).

import re as _re
REPORT_RUN = (config.get("report") or {}).get("run", "default")
REPORT_DIR = f"reports/{REPORT_RUN}"
# task -> [(figure file name, caption)]; names must match langrep.report.FIGURES.
REPORT_FIGURES = {
    "translation": [("translation_bleu1.png", "translation_heatmap.rst"),
                    ("translation_convert_rate.png", "translation_heatmap.rst")],
    "tatoeba": [("tatoeba_layers.png", "retrieval_layers.rst")],
    "bucc": [("bucc_layers.png", "retrieval_layers.rst")],
    "pos": [("pos_bars.png", "transfer_bars.rst")],
    "parsing": [("parsing_las.png", "transfer_bars.rst"), ("parsing_uas.png", "transfer_bars.rst")],
    "means": [(name, "means_analysis.rst") for name in ("means_cosine.png", "means_pca.png", "means_distance.png",
                                                        "means_identification.png", "means_convergence.png")],
}
_SCORE_RE = _re.compile(r"results/([^/]+)/scores/(translation|translation_vocab|tatoeba|bucc|pos|parsing|means)\.csv")


def report_score_files():
    """The score tables the configured stages produce (whichever stages are included)."""
    files = set()
    for name in ("retrieval_targets", "translation_targets", "transfer_targets", "analysis_targets"):
        targets = globals().get(name)
        if targets is not None:
            files.update(str(t) for t in targets() if _SCORE_RE.fullmatch(str(t)))
    return sorted(files)


def report_samples_files():
    """The translation samples tables (Table 7), if the translation stage lists them as targets."""
    targets = globals().get("translation_targets")
    return sorted({str(t) for t in (targets() if targets else [])
                   if str(t).startswith("results/") and "samples" in str(t) and str(t).endswith(".csv")})


def report_figures():
    """report()-wrapped figure outputs, one set per score table present in this run."""
    out = []
    for f in report_score_files():
        model, task = _SCORE_RE.fullmatch(f).groups()
        for name, caption in REPORT_FIGURES.get(task, []):
            out.append(report(f"{REPORT_DIR}/figures/{model}/{name}", caption=f"../report/{caption}",
                              category="Figures", subcategory=model,
                              labels={"model": model, "figure": name.removesuffix(".png")}))
    return out


def report_means():
    # the report states how many tokens each language mean was computed from
    mp = globals().get("means_path")
    return [mp(m, "mono", lang) for m in MODELS for lang in config["languages"]] if mp else []


def report_targets():
    return [f"{REPORT_DIR}/report.html", f"{REPORT_DIR}/report.md", f"{REPORT_DIR}/provenance.json"]
