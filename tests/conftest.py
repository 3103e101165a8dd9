"""Shared fixtures: the offline data mirror and tiny random models built in code (no download)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # the suite also runs from a plain checkout

SHARED_DATA = Path(os.environ.get("LANGREP_DATA_MIRROR") or ROOT.parent / "shared" / "data")

WORDS = (
    "the a girl boy can help me is all way across town there no one who house dog cat "
    "der die das mädchen kann helfen mir ist la fille qui peut aider est maison chien "
    "и в не что он на я девочка может помочь 的 是 我 不 了 人 在 有 他 这 中 女孩 帮助 . , ! ?"
).split()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "SOURCES.md").exists():
        pytest.fail(f"the offline data mirror is missing: {SHARED_DATA} (expected ../shared/data)")
    return SHARED_DATA


@pytest.fixture
def no_env_mirror(monkeypatch):
    """No $LANGREP_DATA_MIRROR: tests that name their mirror (or none) mean it."""
    monkeypatch.delenv("LANGREP_DATA_MIRROR", raising=False)


def build_tiny_tokenizer(words=WORDS):
    """A WordPiece tokenizer over a small vocabulary, with BERT's special tokens and template."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = list(dict.fromkeys(words))
    # character pieces so that unseen words still tokenize into several subwords
    chars = sorted({c for w in pieces for c in w})
    vocab = {
        t: i
        for i, t in enumerate(specials + pieces + [c for c in chars if c not in pieces] + ["##" + c for c in chars])
    }
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=50))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def build_tiny_bert(vocab_size: int, masked_lm: bool = False, seed: int = 0, layers: int = 3, hidden: int = 32):
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertModel

    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        intermediate_size=2 * hidden,
        max_position_embeddings=128,
    )
    model = (BertForMaskedLM if masked_lm else BertModel)(cfg)
    return model.eval()


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tiny_tokenizer()


@pytest.fixture(scope="session")
def tiny_bert(tiny_tokenizer):
    return build_tiny_bert(len(tiny_tokenizer))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer):
    """A materialized model folder with a masked-LM head, as data/models/{model}/ would hold."""
    path = tmp_path_factory.mktemp("models") / "tiny"
    model = build_tiny_bert(len(tiny_tokenizer), masked_lm=True)
    model.save_pretrained(path)
    tiny_tokenizer.save_pretrained(path)
    return path


@pytest.fixture
def http_folder():
    """``serve(folder) -> base URL``: a real HTTP server on 127.0.0.1 (a thread) serving ``folder``."""
    import functools
    import http.server
    import threading

    servers = []

    def serve(folder: Path) -> str:
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        handler.log_message = lambda *a: None
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_port}"

    yield serve
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()
