"""The settings of each stage: one frozen dataclass per config section the library reads.

Built with ``from_config(section)`` from the validated config or from any part of a section; every
default comes from the schema (:mod:`langrep.schema`). The ``data:`` section's settings are in
:mod:`langrep.settings.data`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from langrep.errors import LangrepError
from langrep.settings.base import Settings

# the word poolings of transfer.word_pooling (the schema's enum)
POOLINGS = ("first", "mean")


def check_pooling(pooling: str) -> str:
    """``pooling`` if it is a known word pooling (first, mean), else a LangrepError."""
    if pooling not in POOLINGS:
        raise LangrepError(f"transfer.word_pooling: expected one of {list(POOLINGS)}, got {pooling!r}")
    return pooling


@dataclass(frozen=True)
class ExtractionSettings(Settings):
    """``extraction:``: the forward passes that give pooled sentence vectors and language sums."""

    SECTION = ("extraction",)
    device: str
    dtype: str
    token_budget: int
    max_length: int
    include_special_tokens: bool
    pooled_layers: list[int] | None
    pool_mono: bool


@dataclass(frozen=True)
class TatoebaSettings(Settings):
    """``retrieval.tatoeba``: the languages paired with English and the directions."""

    SECTION = ("retrieval", "tatoeba")
    langs: list[str]
    directions: list[str]


@dataclass(frozen=True)
class BuccSettings(Settings):
    """``retrieval.bucc``: pairs, splits, layers, the margin's k and unify."""

    SECTION = ("retrieval", "bucc")
    pairs: list[str]
    splits: list[str]
    layers: str | list[int] | None
    k: int
    unify: bool


@dataclass(frozen=True)
class RetrievalSettings(Settings):
    """``retrieval:``: Tatoeba and BUCC (``layer`` is always scored; ``layers`` is the sweep)."""

    SECTION = ("retrieval",)
    NESTED = {"tatoeba": TatoebaSettings, "bucc": BuccSettings}
    layer: int
    layers: str | list[int]
    methods: list[str]
    means: list[str]
    block_size: int
    device: str
    tatoeba: TatoebaSettings
    bucc: BuccSettings

    @property
    def bucc_layers(self) -> str | list[int]:
        """The layers BUCC is mined at: ``bucc.layers``, or ``layers`` where that is null."""
        return self.layers if self.bucc.layers is None else self.bucc.layers


@dataclass(frozen=True)
class HeadSettings(Settings):
    """``translation.head:``: the MLM head fitted on an encoder without one."""

    SECTION = ("translation", "head")
    sentences_per_lang: int
    heldout_per_lang: int
    steps: int
    batch_size: int
    negatives: int
    width: int
    lr: float
    mask_prob: float
    max_length: int
    token_budget: int
    seed: int
    curve_steps: int
    curve_sentences: int
    decode_reconstruction: float


@dataclass(frozen=True)
class TranslationSettings(Settings):
    """``translation:``: token translation by MDS (``head``: the mlm_head rule's)."""

    SECTION = ("translation",)
    NESTED = {"head": HeadSettings}
    source: str
    targets: list[str]
    both_directions: bool
    n_sentences: int | None
    sweep_sentences: int | None
    alphas: list[float]
    layer: int
    layers: list[int] | None
    decode_layer: str | int
    max_length: int
    token_budget: int
    bleu_tokenize: dict[str, str]
    n_samples: int
    device: str
    head: HeadSettings

    def directions(self) -> list[str]:
        """Every direction ``"src-tgt"`` scored, in the score table's order: the source to each
        target, then (``both_directions``) each target back to the source."""
        pairs = [(self.source, t) for t in self.targets]
        if self.both_directions:
            pairs += [(t, self.source) for t in self.targets]
        return list(dict.fromkeys(f"{s}-{t}" for s, t in pairs))


def direction_langs(direction: str) -> tuple[str, str]:
    """The (source, target) languages of a translation direction ``"src-tgt"`` (as
    :meth:`TranslationSettings.directions` names them)."""
    source, sep, target = direction.partition("-")
    if not (sep and source and target):
        raise LangrepError(f"translation direction {direction!r}: expected <source>-<target>, e.g. en-de")
    return source, target


@dataclass(frozen=True)
class TransferSettings(Settings):
    """``transfer:``: POS tagging and parsing; ``train`` and each task's section stay mappings (the
    fine-tuning settings of a task, ``langrep.transfer.TrainSettings``, merge them)."""

    SECTION = ("transfer",)
    device: str
    dtype: str
    seed: int
    test_sentences: int | None
    word_pooling: str
    bootstrap: int
    alphas: list[float]
    mem_mb: int
    protect_checkpoints: bool
    train_runtime: int
    eval_runtime: int
    train: dict
    pos: dict
    parsing: dict

    def task_train(self, task: str) -> dict:
        """The fine-tuning settings of ``task`` (langrep.transfer.TrainSettings): ``word_pooling``,
        ``train``, then the task's own ``train`` overrides."""
        return {"word_pooling": self.word_pooling, **self.train, **getattr(self, task)["train"]}


@dataclass(frozen=True)
class AnalysisSettings(Settings):
    """``analysis:``: the language-means analysis."""

    SECTION = ("analysis",)
    heldout_sentences: int
    tokens_from: int


@dataclass(frozen=True)
class ReportSettings(Settings):
    """``report``: the report's title and the run name (``reports/{run}/``)."""

    SECTION = ("report",)
    title: str
    run: str


@dataclass(frozen=True)
class TrainSettings(Settings):
    """Fine-tuning settings of a task: ``transfer.train`` (defaults from the schema) and
    ``transfer.word_pooling``; the workflow merges a task's ``transfer.{task}.train`` overrides in."""

    SECTION = ("transfer", "train")
    BORROWED = {"word_pooling": ("transfer", "word_pooling")}
    seed: int
    max_length: int
    epochs: float
    max_steps: int | None
    batch_size: int
    lr: float  # encoder layers
    head_lr: float  # task head (randomly initialized)
    weight_decay: float
    warmup_ratio: float
    grad_clip: float
    read_layer: int | str  # the hidden state the task head reads
    train_top_layers: int | None  # None: fine-tune every layer; N: only the top N up to read_layer
    word_pooling: str  # "first" | "mean" of a word's character pieces
    train_sentences: int | None  # seeded subset of the training treebank; None: all
    dev_sentences: int | None
    eval_every: int | None  # steps between dev evaluations; None: once per epoch
    eval_tokens: int  # padded tokens per prediction batch
    dropout: float
    arc_dim: int
    rel_dim: int

    @classmethod
    def from_config(cls, mapping: Mapping | TrainSettings | None = None, key: str | None = None) -> TrainSettings:
        """The fine-tuning settings of a config section, checked (positive sizes)."""
        if isinstance(mapping, cls):
            return mapping
        key = key or ".".join(cls.SECTION)
        s = super().from_config(mapping, key)
        for name in ("batch_size", "max_length", "eval_tokens"):
            if int(getattr(s, name)) < 1:
                raise LangrepError(f"{key}.{name} must be positive, got {getattr(s, name)}")
        if s.train_top_layers is not None and int(s.train_top_layers) < 0:
            raise LangrepError(f"{key}.train_top_layers must be >= 0 or null, got {s.train_top_layers}")
        check_pooling(s.word_pooling)
        return s
