"""Nothing the caller holds changes what backward computes (issue 13): the y that forward
returns, x and the parameters edited in place between forward and backward; a cache from another
network, or edited, is refused; the parameters are checked once per forward and named."""
import numpy as np
import pytest

from minirnn import StackedRNN

BACKENDS = ["numpy", "numba"]


def reference_gradients(net, x, dy):
    """The gradients of a clean forward and backward, nothing edited."""
    _, _, cache = net.forward(x.copy())
    return net.backward(dy, cache)


def assert_same(got, expected):
    (dx, grads), (dx0, grads0) = got, expected
    np.testing.assert_array_equal(dx, dx0)
    for key in grads0:
        np.testing.assert_array_equal(grads[key], grads0[key])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_the_natural_mse_gradient_written_in_place_into_y_is_right(backend, cell, rng):
    """y, _, cache = net.forward(x); y -= target; net.backward(y, cache): y is the caller's."""
    net = StackedRNN(cell, 3, [4, 5], backend=backend, seed=1)
    x, target = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 6, 5))
    y, _, cache = net.forward(x)
    expected = reference_gradients(net, x, y - target)
    y -= target
    assert_same(net.backward(y, cache), expected)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("N", [1, 3])
def test_editing_x_and_the_parameters_after_forward_changes_nothing(backend, N, rng):
    net = StackedRNN("lstm", 3, [4, 4], bidirectional=True, backend=backend, seed=2)
    x = rng.standard_normal((N, 5, 3))
    dy = rng.standard_normal((N, 5, 8))
    expected = reference_gradients(net, x, dy)
    _, _, cache = net.forward(x)
    x *= 3.0  # an in-place edit of the caller's input ...
    for p in net.params.values():  # ... and an optimizer-like step on every parameter
        p -= 0.1 * np.sign(p)
    assert_same(net.backward(dy, cache), expected)


def test_a_cache_from_another_network_is_refused(rng):
    x = rng.standard_normal((2, 4, 3))
    a, b = StackedRNN("gru", 3, [4], seed=1), StackedRNN("gru", 3, [4], seed=2)
    _, _, a_cache = a.forward(x)
    dy = rng.standard_normal((2, 4, 4))
    with pytest.raises(ValueError, match="cache was made by another network's forward"):
        b.backward(dy, a_cache)
    bidirectional = StackedRNN("gru", 3, [2], bidirectional=True)
    with pytest.raises(ValueError, match="another network"):
        bidirectional.backward(dy, a_cache)
    skips = StackedRNN("gru", 3, [4, 4, 4], skip="l-2")
    _, _, plain_cache = StackedRNN("gru", 3, [4, 4, 4]).forward(x)
    with pytest.raises(ValueError, match="another network"):
        skips.backward(dy, plain_cache)
    with pytest.raises(TypeError, match="cache must be the StackCache that this network's "
                                        "forward returned; got dict"):
        a.backward(dy, {"layers": {}})
    del a_cache.layers[1]["fwd"]["h0"]
    with pytest.raises(ValueError, match=r"cache.layers\[1\]\['fwd'\] lacks \['h0'\]"):
        a.backward(dy, a_cache)


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # the inf parameter's NaN
@pytest.mark.parametrize("backend", BACKENDS)
def test_parameters_are_checked_once_per_forward_and_named(backend, rng):
    x = rng.standard_normal((2, 4, 3))
    net = StackedRNN("lstm", 3, [4, 4], backend=backend)
    net.params["layers.2.fwd.b"] = net.params["layers.2.fwd.b"].astype(np.float32)
    with pytest.raises(TypeError, match=r"net.params\['layers.2.fwd.b'\] has dtype float32; "
                                        r"the network is float64"):
        net.forward(x)
    net = StackedRNN("lstm", 3, [4, 4], backend=backend)
    net.params["layers.1.fwd.Wh"][1, 2] = np.nan
    with pytest.raises(ValueError, match=r"net.params\['layers.1.fwd.Wh'\] contains non-finite "
                                         r"values \(nan or inf\), so y does too"):
        net.forward(x)
    net = StackedRNN("lstm", 3, [4, 4], backend=backend)
    net.params["layers.2.fwd.Wx"][0, 0] = np.inf  # y stays finite: sigmoid and tanh saturate
    y, _, cache = net.forward(x)
    with pytest.raises(ValueError, match=r"net.params\['layers.2.fwd.Wx'\] contains non-finite "
                                         r"values \(nan or inf\), so dx does too"):
        net.backward(np.ones_like(y), cache)
    net = StackedRNN("lstm", 3, [4, 4], backend=backend)
    net.params["layers.1.fwd.Wx"] = "weights"
    with pytest.raises(TypeError, match=r"net.params\['layers.1.fwd.Wx'\] must be a numpy array"):
        net.forward(x)
    net = StackedRNN("lstm", 3, [4, 4], backend=backend)
    net.params["layers.1.fwd.Wx"] = np.full((3, 16), 1e300)  # finite, though its sum is not
    y, _, _ = net.forward(x)
    assert y.shape == (2, 4, 4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_x_that_overflows_the_networks_dtype_is_refused(backend, rng):
    net = StackedRNN("rnn", 3, [4], dtype=np.float32, backend=backend)
    x = rng.standard_normal((2, 4, 3))
    x[1, 2, 0] = 1e39  # finite in float64, inf in float32
    with pytest.raises(ValueError, match=r"x contains non-finite values \(nan or inf\) \(after "
                                         r"conversion to float32\)"):
        net.forward(x)
