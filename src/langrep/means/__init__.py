"""Language means (paper, Sec. 2): ``R_L^l``, the mean of a language's token states at layer l, and
what is built on them.

- :mod:`~langrep.means.representations`: the means from token sums (:func:`language_means`), their
  files, and the two operations, :func:`zero_mean` (``h - R_L``) and :func:`mean_difference_shift`
  (``h + alpha * (R_L2 - R_L1)``);
- :mod:`~langrep.means.layer_shift`: layer numbering, and either operation applied at one layer of a
  model through a forward hook (:class:`LayerShift`).

What the means say, layer by layer, is the analysis stage's (:mod:`langrep.analysis`).
"""

from langrep._exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "representations": [
            "LanguageMeans",
            "LayerSums",
            "combine_sums",
            "language_means",
            "mean_difference_shift",
            "read_means",
            "read_sums",
            "write_means",
            "write_sums",
            "zero_mean",
        ],
        "layer_shift": [
            "LayerShift",
            "base_encoder",
            "check_layer",
            "encoder_layers",
            "layer_module",
            "layer_span",
            "map_hidden",
            "n_hidden_states",
            "n_layers",
            "resolve_layer",
            "shift_at_layer",
        ],
    },
)
