"""The means analysis (the pipeline's ``analysis`` rule): what the language means say, layer by
layer, and how much text they need.

- :mod:`~langrep.analysis.means`: the means' geometry (cosines, cluster order, PCA), language
  identification from the means and from nearest neighbours, one model's analysis
  (:func:`analyse_model`) and the rule's call (:func:`run_means_analysis`);
- :mod:`~langrep.analysis.convergence`: means from prefixes of the corpus, their convergence, and
  Tatoeba retrieval with them.
"""

from langrep._exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "means": [
            "analyse_model",
            "cluster_order",
            "cosine_matrix",
            "geometry_rows",
            "identification_rows",
            "macro_accuracy",
            "nearest_centroid",
            "nearest_neighbour_labels",
            "pca_2d",
            "run_means_analysis",
            "two_fold_centroid_labels",
        ],
        "convergence": [
            "PrefixMeans",
            "convergence_rows",
            "prefix_means",
            "prefix_points",
            "prefix_retrieval_rows",
            "token_grid",
        ],
    },
)
