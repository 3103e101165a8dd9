"""Zero-shot cross-lingual transfer (paper Sec. 5): POS tagging and biaffine dependency parsing
fine-tuned on English UD, with Zero-mean and MDS applied at layer l through forward hooks
(:mod:`langrep.means.layer_shift`)."""

from langrep.means.layer_shift import LayerShift, layer_span
from langrep.transfer.alignment import EncodedSentence, encode_words
from langrep.transfer.baselines import attach_next, attach_prev, baseline_predictions, majority_tag
from langrep.transfer.bootstrap import excludes_zero, paired_difference, score_interval
from langrep.transfer.checkpoint import load_checkpoint, load_task_model, save_checkpoint, task_model
from langrep.transfer.data import DEPRELS, UPOS, Sentence, read_ud, universal
from langrep.transfer.decode import eisner, is_tree
from langrep.transfer.metrics import attachment_scores, pos_accuracy, score
from langrep.transfer.parser import BiaffineParser
from langrep.transfer.pos import Tagger
from langrep.transfer.run import evaluate_task, finetuned_means, train_task
from langrep.transfer.train import TrainSettings, build_task_model, fit, predict

__all__ = [
    "BiaffineParser",
    "DEPRELS",
    "EncodedSentence",
    "LayerShift",
    "Sentence",
    "Tagger",
    "TrainSettings",
    "UPOS",
    "attach_next",
    "attach_prev",
    "attachment_scores",
    "baseline_predictions",
    "build_task_model",
    "eisner",
    "encode_words",
    "evaluate_task",
    "excludes_zero",
    "finetuned_means",
    "fit",
    "is_tree",
    "layer_span",
    "load_checkpoint",
    "load_task_model",
    "majority_tag",
    "paired_difference",
    "pos_accuracy",
    "predict",
    "read_ud",
    "save_checkpoint",
    "score",
    "score_interval",
    "task_model",
    "train_task",
    "universal",
]
