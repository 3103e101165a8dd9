"""Task models built on a model folder, and their checkpoints.

A checkpoint holds only what training changed (the trainable parameters) plus the settings that
made it; the frozen rest is reloaded from the model folder. The frozen bottom runs in
``frozen_dtype`` (bf16 where the CPU or GPU has it, :func:`langrep.models.resolve_dtype`); the
trainable layers and the head stay float32.
"""

from __future__ import annotations

from dataclasses import asdict

import torch

from langrep.artifacts import read_torch
from langrep.errors import LangrepError
from langrep.io import atomic_write
from langrep.settings import TransferSettings
from langrep.transfer.stack import freeze_bottom
from langrep.transfer.train import TrainSettings, build_task_model, trainable_state

CHECKPOINT_FORMAT = 2
DTYPE = TransferSettings.defaults().dtype  # config transfer.dtype


def _encoder_shape(encoder) -> dict:
    cfg = encoder.config
    return {
        "num_hidden_layers": int(cfg.num_hidden_layers),
        "hidden_size": int(cfg.hidden_size),
        "vocab_size": int(cfg.vocab_size),
    }


def task_model(task: str, encoder, settings: TrainSettings, dtype=DTYPE, key: str = "transfer.train.read_layer"):
    """The tagger or parser on a float32 ``encoder`` with a fresh head, the bottom frozen and cast
    to ``dtype`` (``auto``: bf16 where native; see :func:`langrep.transfer.stack.freeze_bottom`)."""
    from langrep.models import resolve_dtype

    model = build_task_model(task, encoder, settings, key).to(encoder.device)
    freeze_bottom(model, dtype if isinstance(dtype, torch.dtype) else resolve_dtype(dtype, encoder.device.type))
    return model


def load_task_model(
    task: str,
    model_dir,
    settings: TrainSettings,
    device: str = "cpu",
    dtype=DTYPE,
    key: str = "transfer.train.read_layer",
):
    """``(task model, tokenizer)``: :func:`task_model` on the encoder of ``model_dir``."""
    from langrep.models import load_encoder

    encoder, tokenizer = load_encoder(model_dir, device=device, dtype=torch.float32)
    return task_model(task, encoder, settings, dtype, key), tokenizer


def save_checkpoint(path, task: str, model, settings: TrainSettings, meta: dict | None = None) -> None:
    """Save a task model's trainable weights, settings and encoder shape to ``path``."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "task": task,
        "settings": asdict(settings),
        "encoder": _encoder_shape(model.encoder_model),
        "state": trainable_state(model),
        "meta": dict(meta or {}),
    }
    with atomic_write(path) as tmp:
        torch.save(payload, tmp)


def _read_checkpoint(path) -> dict:
    ckpt = read_torch(path)  # a missing, truncated or foreign file: an error with the remedy
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise LangrepError(f"{path}: not a transfer checkpoint of format {CHECKPOINT_FORMAT} (retrain it)")
    return ckpt


def _same_architecture(a: dict, b: dict) -> bool:
    keys = ("read_layer", "train_top_layers", "arc_dim", "rel_dim", "max_length")
    return (
        a["task"] == b["task"]
        and set(a["state"]) == set(b["state"])
        and all(a["settings"].get(k) == b["settings"].get(k) for k in keys)
    )


def load_checkpoint(path, model_dir, device: str | None = "cpu", reuse=None, dtype=DTYPE):
    """``(task model, tokenizer, checkpoint dict)``: the model folder's encoder with the trained
    parameters of ``path`` on top. ``reuse`` = an earlier result whose checkpoint has the same
    architecture and trained the same parameters: its model (and so the cache of its frozen
    bottom) is overwritten in place instead of reloading the encoder."""
    ckpt = _read_checkpoint(path)
    settings = TrainSettings(**ckpt["settings"])
    if reuse is not None and _same_architecture(reuse[2], ckpt):
        model, tokenizer = reuse[0], reuse[1]
    else:
        model, tokenizer = load_task_model(ckpt["task"], model_dir, settings, device or "cpu", dtype)
        have = _encoder_shape(model.encoder_model)
        if have != ckpt["encoder"]:
            raise LangrepError(f"{path} was trained on an encoder {ckpt['encoder']}, but {model_dir} has {have}")
    result = model.load_state_dict(ckpt["state"], strict=False)
    if result.unexpected_keys:
        raise LangrepError(f"{path}: parameters the task model does not have: {result.unexpected_keys[:5]}")
    head_missing = [k for k in result.missing_keys if not k.startswith("encoder_model.")]
    if head_missing:
        raise LangrepError(f"{path}: the task head lacks trained parameters {head_missing[:5]}")
    model.eval()
    return model, tokenizer, ckpt
