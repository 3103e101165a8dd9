"""Biaffine dependency parser (Dozat & Manning, 2017) on the encoder's read layer.

Each word is its pooled piece states (``transfer.word_pooling``); the root is the first token
([CLS] / <s>). Four MLPs give arc-dependent, arc-head, label-dependent and label-head views; arc
scores are biaffine (``d_i W h_j + b . h_j``), label scores bilinear plus linear
(``d_i U_r h_j + V_r [d_i; h_j] + c_r``). Training uses the gold heads for the labels. Decoding
takes the best projective tree with one root under the arc log-probabilities (Eisner,
:mod:`langrep.transfer.decode`), then each word's best label for its head.
"""

from __future__ import annotations

import torch
from torch import nn

from langrep.transfer.alignment import gather_words
from langrep.transfer.data import DEPRELS
from langrep.transfer.decode import eisner
from langrep.transfer.stack import EncoderReader


def _mlp(d_in: int, d_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_out), nn.LeakyReLU(0.1), nn.Dropout(dropout))


class BiaffineParser(EncoderReader):
    """Dozat & Manning's biaffine dependency parser on an encoder layer (arc and relation scores)."""

    task = "parsing"

    def __init__(
        self,
        encoder,
        n_rels: int = len(DEPRELS),
        arc_dim: int = 500,
        rel_dim: int = 100,
        dropout: float = 0.33,
        **reader,
    ):
        # reader: read_layer and frozen_layers, as EncoderReader takes them
        super().__init__(encoder, **reader)
        hidden = int(encoder.config.hidden_size)
        self.arc_dep, self.arc_head = _mlp(hidden, arc_dim, dropout), _mlp(hidden, arc_dim, dropout)
        self.rel_dep, self.rel_head = _mlp(hidden, rel_dim, dropout), _mlp(hidden, rel_dim, dropout)
        # Zero-initialized arc weights (as Dozat & Manning do): all heads start equally likely.
        self.arc_weight = nn.Parameter(torch.zeros(arc_dim, arc_dim))
        self.arc_bias = nn.Parameter(torch.zeros(arc_dim))
        self.rel_bilinear = nn.Bilinear(rel_dim, rel_dim, n_rels)
        self.rel_linear = nn.Linear(2 * rel_dim, n_rels, bias=False)

    def forward(self, input_ids, attention_mask, word_pool, prefix=None):
        """Arc scores (B, W, W+1) — column 0 is the root — and the label views of words/nodes."""
        hidden = self.read(input_ids, attention_mask, prefix)
        words = gather_words(hidden, word_pool)
        nodes = torch.cat([hidden[:, :1], words], dim=1)
        dep, head = self.arc_dep(words), self.arc_head(nodes)
        arcs = torch.einsum("bia,ac,bjc->bij", dep, self.arc_weight, head) + (head @ self.arc_bias).unsqueeze(1)
        return arcs, self.rel_dep(words), self.rel_head(nodes)

    def rel_scores(self, rel_dep, rel_head, heads):
        """Label scores (B, W, n_rels) of each word attached to ``heads`` (B, W; 0 = root)."""
        chosen = rel_head.gather(1, heads.clamp(min=0).unsqueeze(-1).expand(-1, -1, rel_head.size(-1)))
        return self.rel_bilinear(rel_dep, chosen) + self.rel_linear(torch.cat([rel_dep, chosen], -1))

    @staticmethod
    def arc_mask(word_mask):
        """(B, W, W+1): candidate heads are the root and present words, never the word itself."""
        b, w = word_mask.shape
        heads_ok = torch.cat([torch.ones(b, 1, dtype=torch.bool, device=word_mask.device), word_mask], 1)
        idx = torch.arange(w + 1, device=word_mask.device)
        not_self = idx.unsqueeze(0) != (idx[:w] + 1).unsqueeze(1)  # node j = word j - 1
        return heads_ok.unsqueeze(1) & not_self.unsqueeze(0)

    def loss(self, outputs, heads, rels, word_mask):
        """Arc cross-entropy plus label cross-entropy at the gold head, over the words present whose
        gold head is present too (a head cut off by truncation cannot be predicted)."""
        arcs, rel_dep, rel_head = outputs
        allowed = self.arc_mask(word_mask)
        arcs = arcs.masked_fill(~allowed, torch.finfo(arcs.dtype).min)
        valid = word_mask & allowed.gather(2, heads.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        arc_loss = nn.functional.cross_entropy(arcs[valid], heads[valid])
        rel_loss = nn.functional.cross_entropy(self.rel_scores(rel_dep, rel_head, heads)[valid], rels[valid])
        return arc_loss + rel_loss

    def decode(self, outputs, word_mask):
        """Heads of the best single-root projective tree over each sentence's present words, and
        their best labels (B, W); -1 where the word is absent. Absent words are a suffix (cut off
        by truncation), so the present ones are numbered as in the sentence."""
        arcs, rel_dep, rel_head = outputs
        logp = arcs.float().masked_fill(~self.arc_mask(word_mask), float("-inf")).log_softmax(-1)
        logp = logp.cpu().numpy()  # one copy to the host: Eisner runs there, sentence by sentence
        heads = torch.zeros(word_mask.shape, dtype=torch.long)
        for b, n in enumerate(word_mask.sum(1).tolist()):
            if n:
                heads[b, :n] = torch.as_tensor(eisner(logp[b, :n, : n + 1]))
        heads = heads.to(arcs.device)
        rels = self.rel_scores(rel_dep, rel_head, heads).argmax(-1)
        return heads.masked_fill(~word_mask, -1), rels.masked_fill(~word_mask, -1)
