"""Tests for minirnn.auxiliary: the readout head's gradients, the injected layer gradients
against finite differences of the whole loss, and the measured effect on layer 1's gradient."""
import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.auxiliary import (auxiliary_losses, compare_auxiliary_losses, layer_gradient_norms,
                               readout_head, readout_mse)
from minirnn.gradcheck import check_gradients


def test_readout_mse_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    out, W = rng.standard_normal((3, 4, 5)), rng.standard_normal((5, 2))
    b, target = rng.standard_normal(2), rng.standard_normal((3, 4, 2))
    loss, dout, grads = readout_mse(out, W, b, target)
    assert loss == pytest.approx(0.5 * np.sum((out @ W + b - target) ** 2) / 3)
    errors = check_gradients(lambda: np.array(readout_mse(out, W, b, target)[0]),
                             {"out": out, "W": W, "b": b},
                             {"out": dout, "W": grads["W"], "b": grads["b"]}, np.array(1.0))
    assert max(errors.values()) < 1e-8, errors


def test_readout_head_on_chosen_steps():
    rng = np.random.default_rng(1)
    out, W, b = rng.standard_normal((2, 5, 3)), rng.standard_normal((3, 2)), np.zeros(2)
    target = rng.standard_normal((2, 2))
    loss, dout, _ = readout_head(W, b, target, steps=-1)(out)
    assert loss == pytest.approx(readout_mse(out[:, -1], W, b, target)[0])
    assert not np.any(dout[:, :-1]) and np.any(dout[:, -1])


def test_auxiliary_gradients_are_the_gradient_of_the_total_loss():
    """net.backward(dy, cache, dlayers) with the returned dlayers is the gradient of
    top loss + weight * sum of the auxiliary losses, by finite differences on the parameters."""
    rng = np.random.default_rng(2)
    net = StackedRNN("gru", 2, [3, 3, 2], skip="l-2", seed=1, backend="numpy")
    x = rng.standard_normal((2, 4, 2))
    target = rng.standard_normal((2, 4, 1))
    top = readout_head(rng.standard_normal((2, 1)), rng.standard_normal(1), target)
    heads = {l: readout_head(rng.standard_normal((3, 1)), rng.standard_normal(1), target)
             for l in (1, 2)}

    def total_loss():
        y, _, cache = net.forward(x)
        losses, _, _ = auxiliary_losses(cache, heads, weight=0.3)
        return np.array(top(y)[0] + sum(losses.values()))

    y, _, cache = net.forward(x)
    losses, dlayers, head_grads = auxiliary_losses(cache, heads, weight=0.3)
    assert set(dlayers) == {1, 2} and set(head_grads[1]) == {"W", "b"}
    assert losses[1] == pytest.approx(0.3 * heads[1](cache.outputs[1])[0])
    _, grads = net.backward(top(y)[1], cache, dlayers=dlayers)
    errors = check_gradients(total_loss, net.params, grads, np.array(1.0), num_coords=6)
    assert max(errors.values()) < 1e-7, errors
    _, grads_top_only = net.backward(top(y)[1], cache)
    assert not np.allclose(grads["layers.1.fwd.Wx"], grads_top_only["layers.1.fwd.Wx"])


def test_auxiliary_losses_reject_bad_heads():
    net = StackedRNN("rnn", 2, [3, 3], backend="numpy")
    _, _, cache = net.forward(np.ones((1, 2, 2)))
    with pytest.raises(ValueError, match="heads keys"):
        auxiliary_losses(cache, {3: lambda out: (0.0, out)})
    with pytest.raises(ValueError, match="heads keys"):
        auxiliary_losses(cache, {0: lambda out: (0.0, out)})
    with pytest.raises(ValueError, match="heads\\[1\\]"):
        auxiliary_losses(cache, {1: lambda out: (0.0, out[:, :1])})


def test_layer_gradient_norms():
    net = StackedRNN("lstm", 2, [2, 2], bidirectional=True, backend="numpy")
    grads = {k: np.full(v.shape, 0.5) for k, v in net.params.items()}
    norms = layer_gradient_norms(net, grads)
    for l in (1, 2):
        size = sum(v.size for k, v in net.params.items() if k.startswith(f"layers.{l}."))
        assert norms[l - 1] == pytest.approx(0.5 * np.sqrt(size))


def saturated(net, bias_scale):
    for name in net.params:
        if name.endswith(".b"):
            net.params[name] *= bias_scale
    return net


def test_auxiliary_losses_rescue_layer_one_in_a_saturated_deep_tanh_stack():
    """7 tanh layers with large biases (units pinned near +-1, small derivatives): the top loss
    alone leaves layer 1 a vanishing gradient; heads on layers 2..6 restore it. The top layer's
    own gradient cannot change (the heads sit below it)."""
    x = np.random.default_rng(3).standard_normal((4, 10, 3))
    net = saturated(StackedRNN("rnn", 3, [12] * 7, seed=0, backend="numpy"), 10.0)
    r = compare_auxiliary_losses(net, x, aux_layers=range(2, 7))
    assert r["without"][0] < 1e-2 * r["without"][-1]  # vanished on the way down
    assert r["ratio"] > 100
    assert r["with"][-1] == r["without"][-1]
    normal = compare_auxiliary_losses(StackedRNN("rnn", 3, [12] * 7, seed=0, backend="numpy"), x,
                                      aux_layers=range(2, 7))
    assert normal["ratio"] > 1
