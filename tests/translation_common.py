"""What the translation and MLM-head tests share: tiny parallel texts and a one-thread torch."""

from __future__ import annotations

import pytest
import torch

EN = ["the girl can help me", "there is no one who can help me", "the dog is in the house", "a boy", "the cat"]
DE = ["das mädchen kann mir helfen", "die katze ist da", "der hund ist in das haus", "ein junge", "die katze"]
ZH = ["女孩 帮助 我", "没有 人 帮助 我", "狗 在 房子", "男孩", "猫"]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny ops: a second OpenMP thread only adds synchronization (10x slower on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
