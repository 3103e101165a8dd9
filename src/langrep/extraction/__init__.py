"""Extraction (the pipeline's ``extract`` rules): one forward pass per corpus that writes the pooled
sentence vectors of the configured layers and the per-layer token sums the language means need.

- :mod:`~langrep.extraction.hidden_states`: the hot path, texts to pooled vectors and sums
  (:func:`extract`, :func:`extract_to_parquet`, :func:`read_pooled`);
- :mod:`~langrep.extraction.corpus`: file-to-file steps the rule scripts call
  (:func:`extract_corpus`, :func:`extract_parallel_corpus`, :func:`means_from_sums`).
"""

from langrep._exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "hidden_states": [
            "Extraction",
            "check_texts",
            "chunk_bounds",
            "extract",
            "extract_to_parquet",
            "iter_batches",
            "iter_chunks",
            "pooled_layers_in",
            "read_pooled",
        ],
        "corpus": ["extract_corpus", "extract_parallel_corpus", "means_from_sums", "rule_extraction"],
    },
)
