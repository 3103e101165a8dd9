"""POS tagger: the encoder's last layer, first subword of each word, one linear layer (17 UPOS)."""
from __future__ import annotations

import torch
from torch import nn

from langrep.transfer.alignment import gather_words
from langrep.transfer.data import UPOS


class Tagger(nn.Module):
    task = "pos"

    def __init__(self, encoder, n_labels: int = len(UPOS), dropout: float = 0.1):
        super().__init__()
        self.encoder_model = encoder
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(int(encoder.config.hidden_size), n_labels)

    def forward(self, input_ids, attention_mask, word_pos):
        hidden = self.encoder_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.out(self.dropout(gather_words(hidden, word_pos)))  # (B, W, n_labels)

    @staticmethod
    def loss(logits, labels, word_mask):
        """Cross-entropy over the words present (first subwords only; other subwords never enter)."""
        return nn.functional.cross_entropy(logits[word_mask], labels[word_mask])

    @staticmethod
    def decode(logits, word_mask):
        return logits.argmax(-1).masked_fill(~word_mask, -1)
