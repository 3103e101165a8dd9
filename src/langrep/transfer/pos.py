"""POS tagger: one linear layer (17 UPOS) on each word's state at the read layer."""

from __future__ import annotations

from torch import nn

from langrep.transfer.alignment import gather_words
from langrep.transfer.data import UPOS
from langrep.transfer.stack import EncoderReader


class Tagger(EncoderReader):
    """A linear UPOS tagger on an encoder layer's word vectors."""

    task = "pos"

    def __init__(self, encoder, n_labels: int = len(UPOS), dropout: float = 0.1, **reader):
        # reader: read_layer and frozen_layers, as EncoderReader takes them
        super().__init__(encoder, **reader)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(int(encoder.config.hidden_size), n_labels)

    def forward(self, input_ids, attention_mask, word_pool, prefix=None):
        """Tag logits (B, W, n_labels) of the words of a batch."""
        hidden = self.read(input_ids, attention_mask, prefix)
        return self.out(self.dropout(gather_words(hidden, word_pool)))  # (B, W, n_labels)

    @staticmethod
    def loss(logits, labels, word_mask):
        """Cross-entropy over the words present."""
        return nn.functional.cross_entropy(logits[word_mask], labels[word_mask])

    @staticmethod
    def decode(logits, word_mask):
        """The best tag of every word; -1 where there is no word."""
        return logits.argmax(-1).masked_fill(~word_mask, -1)
