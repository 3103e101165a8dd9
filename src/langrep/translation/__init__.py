"""Unsupervised token translation by Mean Difference Shift (paper, Sec. 3, Tables 1, 6, 7; Figures
1-2): shift the source sentence's states at layer l toward the target language, run the remaining
layers and the MLM head, decode.

- :mod:`~langrep.translation.data`: the XNLI test lines and the token sets ``V_L``;
- :mod:`~langrep.translation.mlm_head`: the MLM head a run decodes with (a pretrained one, or one
  fitted on a frozen encoder that has none), :mod:`~langrep.translation.mlm_head_fitting` (fitting
  it), :mod:`~langrep.translation.mlm_head_quality` (its held-out quality),
  :mod:`~langrep.translation.decode_layer` (the reconstruction curve and the layer a fitted head
  decodes) and :mod:`~langrep.translation.mlm_head_preparation` (the ``mlm_head`` rule's step);
- :mod:`~langrep.translation.decoding`: the shift and the decoding of every alpha;
- :mod:`~langrep.translation.metrics`: BLEU-1, the convert rate and their intervals;
- :mod:`~langrep.translation.run`: the experiment as the pipeline runs it, one job per direction.
"""

from langrep._exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "data": [
            "ParallelLines",
            "parallel_lines",
            "prepare_vocab",
            "read_vocab_sets",
            "read_xnli_lines",
            "write_vocab_sets",
            "xnli_vocab",
        ],
        "mlm_head": [
            "Decoder",
            "FittedMLMHead",
            "corpus_vocab",
            "fast_dtype",
            "head_kind",
            "head_vocab_size",
            "input_embeddings",
            "load_decoder",
            "load_decoders",
            "load_head",
            "read_head_record",
            "save_head",
            "split_masked_lm",
            "write_pretrained_marker",
        ],
        "mlm_head_fitting": [
            "FitPositions",
            "HeadFit",
            "encode_positions",
            "fit_head",
            "fit_mlm_head",
            "training_positions",
        ],
        "mlm_head_quality": [
            "HeldoutPositions",
            "evaluate_head",
            "heldout_positions",
            "heldout_quality",
            "split_heldout",
        ],
        "decode_layer": ["choose_decode_layer", "min_reconstruction_by_layer", "reconstruction_curve"],
        "mlm_head_preparation": ["prepare_head"],
        "decoding": ["direction_outputs", "sweep_outputs", "translate"],
        "metrics": [
            "bleu1",
            "bleu1_from_sums",
            "bleu1_with_line_stats",
            "convert_rate",
            "convert_rate_from_sums",
            "neither_share",
            "neither_share_from_sums",
            "reference_alpha",
            "token_line_counts",
        ],
        "run": ["gather_translation", "run_translation", "run_translation_direction", "score_directions"],
    },
)
