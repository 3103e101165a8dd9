"""Cross-lingual sentence retrieval (paper, Sec. 4, Tables 2-3) with mean-pooled embeddings and the
three methods (original, Zero-mean, MDS).

- :mod:`~langrep.retrieval.comparison`: the methods and the embeddings and means they read;
- :mod:`~langrep.retrieval.knn_search`: exact cosine k-nearest neighbours (FAISS on a CPU, blocked
  matmul + top-k on a GPU);
- :mod:`~langrep.retrieval.tatoeba`: Tatoeba accuracy@1 with paired bootstrap intervals;
- :mod:`~langrep.retrieval.mining`: LASER's margin-based bitext mining;
- :mod:`~langrep.retrieval.bucc`: BUCC2018 mining and F1 at the dev-chosen threshold.

Each task's ``add_intervals`` stays in its module (:mod:`~langrep.retrieval.tatoeba`,
:mod:`~langrep.retrieval.bucc`): the two resample different units.
"""

from langrep._exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "comparison": [
            "align_rows",
            "apply_method",
            "check_methods",
            "load_side",
            "mean_at",
            "method_means",
            "resolve_layers",
            "texts_by_id",
        ],
        "knn_search": ["check_finite", "knn", "normalize", "set_threads"],
        "tatoeba": ["accuracy_at_1", "correct_at_1", "run_tatoeba", "tatoeba_rows"],
        "mining": [
            "Candidates",
            "bucc_evaluate",
            "evaluate_pairs",
            "mine",
            "mine_unified",
            "precision_recall_f1",
            "ratio_margin",
            "read_gold",
            "read_gold_table",
            "select_threshold",
        ],
        "bucc": [
            "MinedSplit",
            "bucc_candidates",
            "bucc_rows",
            "bucc_scores",
            "read_candidates",
            "run_bucc_mine",
            "run_bucc_scores",
            "source_units",
            "unit_counts",
            "write_candidates",
        ],
    },
)
