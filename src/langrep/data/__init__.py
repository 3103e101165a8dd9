"""The evaluation data: what each data set is and where it comes from (:mod:`.catalog`), placing its
files from the offline mirror or the official source (:mod:`.fetch`), the ``data:`` config section
(:mod:`.settings`), format readers (:mod:`.readers`) and normalization into
``data/corpora/{corpus}/{lang}.parquet`` (:mod:`.corpora`)."""
