import numpy as np
import pytest
import torch

from langrep import mean_difference_shift, zero_mean
from langrep.errors import LangrepError
from langrep.means.representations import LayerSums


def test_zero_mean_and_mds_by_hand_numpy():
    h = np.array([[1.0, 2.0], [3.0, 5.0]])
    r_src, r_tgt = np.array([1.0, 1.0]), np.array([0.0, 3.0])
    np.testing.assert_array_equal(zero_mean(h, r_src), [[0.0, 1.0], [2.0, 4.0]])
    # h + alpha * (R_tgt - R_src) with alpha = 2: the shift is 2 * (-1, 2) = (-2, 4)
    np.testing.assert_array_equal(mean_difference_shift(h, r_src, r_tgt, alpha=2.0), [[-1.0, 6.0], [1.0, 9.0]])
    np.testing.assert_array_equal(mean_difference_shift(h, r_src, r_tgt, alpha=0.0), h)


def test_shifts_on_torch_keep_dtype_and_agree_with_numpy():
    rng = np.random.default_rng(1)
    h = rng.normal(size=(2, 3, 4))
    r1, r2 = rng.normal(size=4), rng.normal(size=4)
    t = torch.tensor(h, dtype=torch.bfloat16)
    out = mean_difference_shift(t, r1, r2, alpha=1.5)
    assert out.dtype == torch.bfloat16 and out.shape == t.shape
    np.testing.assert_allclose(out.float().numpy(), h + 1.5 * (r2 - r1), atol=0.1)
    z = zero_mean(torch.tensor(h), torch.tensor(r1))
    np.testing.assert_allclose(z.numpy(), h - r1)
    with pytest.raises(TypeError):
        zero_mean([1.0, 2.0], r1)


def test_empty_sums_have_no_mean():
    with pytest.raises(LangrepError, match="no tokens"):
        _ = LayerSums(np.zeros((2, 3)), 0).means


@pytest.mark.parametrize("bad", [np.float64(1.0), np.ones((2, 4)), np.ones((1, 4)), np.ones(3), np.ones(5)])
def test_means_that_would_broadcast_wrongly_are_refused(bad):
    h = np.zeros((2, 4))
    for op in (
        lambda m: zero_mean(h, m),
        lambda m: mean_difference_shift(h, m, np.ones(4)),
        lambda m: mean_difference_shift(h, np.ones(4), m),
    ):
        with pytest.raises(LangrepError, match=r"shape \(4,\)"):
            op(bad)
    with pytest.raises(LangrepError, match="shape"):
        zero_mean(torch.zeros(2, 4), torch.ones(2, 4))  # per-row "means" on torch too
    with pytest.raises(LangrepError, match="alpha"):
        mean_difference_shift(h, np.ones(4), np.ones(4), alpha=np.ones(4))
