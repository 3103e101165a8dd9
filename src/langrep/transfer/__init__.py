"""Zero-shot cross-lingual transfer (paper Sec. 5): POS tagging and biaffine dependency parsing
fine-tuned on English UD, with Zero-mean and MDS applied at layer l through forward hooks."""
from langrep.transfer.alignment import EncodedSentence, encode_words
from langrep.transfer.data import DEPRELS, UPOS, Sentence, read_ud, universal
from langrep.transfer.metrics import attachment_scores, pos_accuracy
from langrep.transfer.parser import BiaffineParser
from langrep.transfer.pos import Tagger
from langrep.transfer.run import evaluate_task, finetuned_means, train_task
from langrep.transfer.shift import layer_module, mds_at, resolve_layer, shift_at_layer, zero_mean_at
from langrep.transfer.train import (TrainSettings, build_task_model, fit, load_checkpoint, predict,
                                    save_checkpoint, score)

__all__ = [
    "BiaffineParser", "DEPRELS", "EncodedSentence", "Sentence", "Tagger", "TrainSettings", "UPOS",
    "attachment_scores", "build_task_model", "encode_words", "evaluate_task", "finetuned_means", "fit",
    "layer_module", "load_checkpoint", "mds_at", "pos_accuracy", "predict", "read_ud", "resolve_layer",
    "save_checkpoint", "score", "shift_at_layer", "train_task", "universal", "zero_mean_at",
]
