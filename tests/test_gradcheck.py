"""The gradient checker itself: it agrees with known derivatives and catches wrong ones."""
import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.gradcheck import (check_gradients, check_model, numerical_gradient, random_indices,
                               relative_error)


def test_numerical_gradient_of_a_known_function(rng):
    W = rng.standard_normal((3, 4))
    x = rng.standard_normal((5, 3))
    dout = rng.standard_normal((5, 4))
    numeric = numerical_gradient(lambda: np.tanh(x @ W), W, dout)
    exact = x.T @ (dout * (1 - np.tanh(x @ W) ** 2))
    assert relative_error(exact, numeric) < 1e-9
    assert not np.shares_memory(numeric, W) and np.all(np.isfinite(W))


def test_sparse_mode_checks_only_the_chosen_coordinates(rng):
    p = rng.standard_normal((6, 7))
    indices = random_indices(p.shape, 5, rng)
    assert len(set(indices)) == 5
    numeric = numerical_gradient(lambda: p ** 3, p, np.ones_like(p), indices=indices)
    np.testing.assert_allclose(numeric, [3 * p[i] ** 2 for i in indices], rtol=1e-8)


def test_relative_error_floor_and_scale():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0, 0.0]), np.array([1.0, 1e-12])) < 1e-11
    assert relative_error(np.array([1.0]), np.array([2.0])) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="differ in shape"):
        relative_error(np.zeros(2), np.zeros(3))


def test_a_wrong_gradient_is_caught(rng):
    x = rng.standard_normal(4)
    dout = rng.standard_normal(4)
    errors = check_gradients(lambda: np.sin(x), {"x": x}, {"x": dout * np.cos(x) * 1.01}, dout)
    assert errors["x"] > 1e-3
    errors = check_gradients(lambda: np.sin(x), {"x": x}, {"x": dout * np.cos(x)}, dout)
    assert errors["x"] < 1e-9


def test_check_model_reports_a_broken_backward(rng, monkeypatch):
    net = StackedRNN("rnn", 2, [3, 3], backend="numpy")
    x = rng.standard_normal((2, 4, 2))
    assert check_model(net, x).worst()[1] < 1e-6
    original = net.backward

    def broken(*args, **kwargs):  # a classic bug: forgetting the second source of gradient
        dx, grads, dinit = original(*args, **kwargs)
        grads["layers.1.fwd.Wh"] = grads["layers.1.fwd.Wh"] * 0.5
        return dx, grads, dinit

    monkeypatch.setattr(net, "backward", broken)
    report = check_model(net, x)
    assert report.worst()[0] == "layers.1.fwd.Wh" and report.worst()[1] > 0.1
    assert "worst: layers.1.fwd.Wh" in str(report)


def test_check_model_sparse_mode_and_float32_net(rng):
    net = StackedRNN("gru", 3, [4], dtype=np.float32, backend="numpy")
    report = check_model(net, rng.standard_normal((2, 3, 3)), num_coords=4)
    assert report.worst()[1] < 1e-6
    assert net.params["layers.1.fwd.Wx"].dtype == np.float32  # the net itself is untouched
