"""The evaluation data: official sources and the offline mirror (:mod:`.sources`), format readers
(:mod:`.readers`) and normalisation into ``data/corpora/{corpus}/{lang}.parquet`` (:mod:`.corpora`)."""
