"""The run's settings, in one home: the config's overlays and checks, and one frozen dataclass per
config section the library reads.

- :mod:`~langrep.settings.base`: :class:`Settings`, the base (fields are a section's keys; every
  default comes from the schema, :mod:`langrep.schema`);
- :mod:`~langrep.settings.stages`: each stage's section (:class:`ExtractionSettings`,
  :class:`RetrievalSettings`, :class:`TranslationSettings`, :class:`TrainSettings`, ...);
- :mod:`~langrep.settings.data`: the ``data:`` section and the offline mirror it names;
- :mod:`~langrep.settings.config`: how ``--configfile`` and ``--config`` overlays merge, and the
  checks the schema cannot express (:func:`check_config`).

Importing it loads no array or model library (a fetch job reads its settings too).
"""

from langrep.settings.base import Settings
from langrep.settings.config import (
    MODEL_STAGES,
    check_config,
    check_model_source,
    check_values,
    merge,
    merged_config,
    model_stages,
    parse_config_args,
    tatoeba_langs,
)
from langrep.settings.data import (
    AUTO,
    MIRROR_ENV,
    DataSettings,
    DownloadSettings,
    check_mirror,
    describe_source,
    naming_mirror_files,
    resolve_mirror,
)
from langrep.settings.stages import (
    POOLINGS,
    AnalysisSettings,
    BuccSettings,
    ExtractionSettings,
    HeadSettings,
    ReportSettings,
    RetrievalSettings,
    TatoebaSettings,
    TrainSettings,
    TransferSettings,
    TranslationSettings,
    check_pooling,
    direction_langs,
)

__all__ = [
    "AUTO",
    "MIRROR_ENV",
    "MODEL_STAGES",
    "POOLINGS",
    "AnalysisSettings",
    "BuccSettings",
    "DataSettings",
    "DownloadSettings",
    "ExtractionSettings",
    "HeadSettings",
    "ReportSettings",
    "RetrievalSettings",
    "Settings",
    "TatoebaSettings",
    "TrainSettings",
    "TransferSettings",
    "TranslationSettings",
    "check_config",
    "check_mirror",
    "check_model_source",
    "check_pooling",
    "check_values",
    "describe_source",
    "direction_langs",
    "merge",
    "merged_config",
    "model_stages",
    "naming_mirror_files",
    "parse_config_args",
    "resolve_mirror",
    "tatoeba_langs",
]
