"""Losses: values against formulas and PyTorch, gradients against finite differences, stability."""
import numpy as np
import pytest

from minirnn.gradcheck import numerical_gradient, relative_error
from minirnn.losses import (binary_cross_entropy_with_logits, mean_squared_error,
                            softmax_cross_entropy)


def gradcheck_loss(loss_fn, logits, *args, **kwargs):
    _, analytic = loss_fn(logits, *args, **kwargs)
    numeric = numerical_gradient(lambda: loss_fn(logits, *args, **kwargs)[0], logits, 1.0)
    return relative_error(analytic, numeric)


def test_mse_value_and_gradient():
    pred = np.array([[1.0, 2.0], [3.0, 5.0]])
    target = np.array([[0.0, 2.0], [3.0, 1.0]])
    loss, dpred = mean_squared_error(pred, target)
    assert loss == pytest.approx((1 + 0 + 0 + 16) / 4)
    np.testing.assert_allclose(dpred, 2 * (pred - target) / 4)
    rng = np.random.default_rng(0)
    p = rng.standard_normal((3, 4, 2))
    assert gradcheck_loss(mean_squared_error, p, rng.standard_normal((3, 4, 2))) < 1e-8


def test_mse_accepts_target_without_trailing_one():
    loss, _ = mean_squared_error(np.array([[1.0], [3.0]]), np.array([0.0, 1.0]))
    assert loss == pytest.approx((1 + 4) / 2)


def test_bce_value_gradient_and_stability():
    a, y = np.array([[0.3], [-1.2]]), np.array([1.0, 0.0])
    p = 1 / (1 + np.exp(-a[:, 0]))
    loss, _ = binary_cross_entropy_with_logits(a, y)
    assert loss == pytest.approx(-(np.log(p[0]) + np.log(1 - p[1])) / 2)
    rng = np.random.default_rng(1)
    logits = 3 * rng.standard_normal((4, 3))
    assert gradcheck_loss(binary_cross_entropy_with_logits, logits, rng.uniform(0, 1, (4, 3))) < 1e-8
    loss, d = binary_cross_entropy_with_logits(np.array([1000.0, -1000.0, 1000.0, -1000.0]),
                                               np.array([0.0, 1.0, 1.0, 0.0]))
    assert loss == pytest.approx((1000 + 1000 + 0 + 0) / 4)
    np.testing.assert_allclose(d, [0.25, -0.25, 0.0, 0.0])


def test_softmax_cross_entropy_value_gradient_and_stability():
    logits = np.array([[1.0, 2.0, 0.5]])
    loss, d = softmax_cross_entropy(logits, np.array([1]))
    e = np.exp(logits[0])
    assert loss == pytest.approx(-np.log(e[1] / e.sum()))
    np.testing.assert_allclose(d[0], e / e.sum() - [0, 1, 0])
    rng = np.random.default_rng(2)
    logits = 2 * rng.standard_normal((3, 5, 4))
    labels = rng.integers(0, 4, (3, 5))
    assert gradcheck_loss(softmax_cross_entropy, logits, labels) < 1e-8
    loss, d = softmax_cross_entropy(np.array([[1000.0, -1000.0], [1000.0, -1000.0]]),
                                    np.array([1, 0]))
    assert loss == pytest.approx(1000.0) and np.all(np.isfinite(d))
    np.testing.assert_allclose(d, [[0.5, -0.5], [0.0, 0.0]])


def test_masked_sequence_loss_ignores_padding():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((2, 4, 3))
    labels = rng.integers(0, 3, (2, 4))
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=bool)
    loss, d = softmax_cross_entropy(logits, labels, mask)
    # the same loss from the unpadded items alone
    kept_loss, _ = softmax_cross_entropy(logits[mask], labels[mask])
    assert loss == pytest.approx(kept_loss)
    assert np.all(d[~mask] == 0.0)
    assert gradcheck_loss(softmax_cross_entropy, logits, labels, mask) < 1e-8
    # padded logits may hold anything without changing the loss
    logits2 = logits.copy()
    logits2[~mask] = 1e6
    assert softmax_cross_entropy(logits2, labels, mask)[0] == pytest.approx(loss)
    pred, target = rng.standard_normal((2, 4, 1)), rng.standard_normal((2, 4, 1))
    loss, d = mean_squared_error(pred, target, mask)
    assert loss == pytest.approx(np.mean((pred[mask] - target[mask]) ** 2))
    assert gradcheck_loss(binary_cross_entropy_with_logits, pred, rng.uniform(0, 1, (2, 4, 1)),
                          mask) < 1e-8
    assert mean_squared_error(pred, target, np.zeros((2, 4), bool))[0] == 0.0


def test_losses_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(4)
    logits, labels = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    assert softmax_cross_entropy(logits, labels)[0] == pytest.approx(
        F.cross_entropy(torch.tensor(logits), torch.tensor(labels)).item(), rel=1e-12)
    targets = rng.uniform(0, 1, (6, 5))
    assert binary_cross_entropy_with_logits(logits, targets)[0] == pytest.approx(
        F.binary_cross_entropy_with_logits(torch.tensor(logits), torch.tensor(targets)).item(),
        rel=1e-12)
    assert mean_squared_error(logits, targets)[0] == pytest.approx(
        F.mse_loss(torch.tensor(logits), torch.tensor(targets)).item(), rel=1e-12)


def test_losses_reject_bad_inputs():
    with pytest.raises(ValueError, match="target must have shape"):
        mean_squared_error(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(TypeError, match="labels"):
        softmax_cross_entropy(np.ones((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        softmax_cross_entropy(np.ones((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="labels must have shape"):
        softmax_cross_entropy(np.ones((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binary_cross_entropy_with_logits(np.ones((2, 1)), np.array([0.0, 2.0]))
    with pytest.raises(ValueError, match="mask"):
        mean_squared_error(np.ones((2, 3)), np.ones((2, 3)), mask=np.ones(3, bool))
    with pytest.raises(ValueError, match="non-finite"):
        mean_squared_error(np.ones((2, 3)), np.full((2, 3), np.nan))
