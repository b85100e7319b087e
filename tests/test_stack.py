"""StackedRNN: finite-difference checks of every combination, gradient injection, final states,
the bidirectional summary, masks, clocks, dropout, float32, the cache and the state gradients."""
import itertools

import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.gradcheck import check_gradients, check_model
from minirnn.stack import run_order

TOL = 1e-6
COMBOS = list(itertools.product(["rnn", "lstm", "gru"], [1, 3], [False, True], [None, "l-2"],
                                [True, False]))


def make_net(cell, layers=3, **kw):
    sizes = [3, 3, 2][:layers] if layers <= 3 else [3] * layers
    return StackedRNN(cell, input_size=4, hidden_sizes=sizes, backend="numpy", seed=7, **kw)


@pytest.mark.parametrize("cell,layers,bidirectional,skip,return_sequences", COMBOS)
def test_every_gradient_matches_finite_differences(cell, layers, bidirectional, skip,
                                                   return_sequences, rng):
    net = make_net(cell, layers, bidirectional=bidirectional, skip=skip,
                   return_sequences=return_sequences)
    x = rng.standard_normal((2, 4, 4))
    report = check_model(net, x, seed=3)  # random initial states, dstates, and dlayers injected
    expected = set(net.params) | {"x"} | {f"initial_states.{l}.{k}" for l in range(1, layers + 1)
                                          for k in net.spec.state_names}
    assert set(report) == expected
    assert report.worst()[1] < TOL, str(report)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_gradient_injected_at_intermediate_layer_only(cell, rng):
    """A loss on layer 1's output alone: the layers above get zero gradient, layer 1 the FD one."""
    net = make_net(cell, 3, skip="l-2")
    x = rng.standard_normal((2, 5, 4))
    y, _, cache = net.forward(x)
    g = rng.standard_normal(cache.outputs[1].shape)
    dx, grads = net.backward(np.zeros_like(y), cache, dlayers={1: g})
    assert all(np.all(grads[k] == 0) for k in grads if k.startswith(("layers.2", "layers.3")))
    params = {k: v for k, v in net.params.items() if k.startswith("layers.1")}
    errors = check_gradients(lambda: net.forward(x)[2].outputs[1], dict(params, x=x),
                             dict({k: grads[k] for k in params}, x=dx), g)
    assert max(errors.values()) < TOL


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_bidirectional_summary_is_each_directions_final_state(cell, rng):
    net = make_net(cell, 2, bidirectional=True, return_sequences=False)
    x = rng.standard_normal((2, 6, 4))
    y, states, cache = net.forward(x)
    top = states[-1]["h"]  # (2 directions, N, H)
    np.testing.assert_array_equal(y, np.concatenate([top[0], top[1]], axis=1))
    out = cache.outputs[2]
    np.testing.assert_array_equal(y[:, 3:], out[:, 0, 3:])  # reverse direction read the whole x
    # the reverse direction is the forward cell run on the reversed sequence
    rev = StackedRNN(cell, 4, [3], backend="numpy")
    rev.params = {k.replace("bwd", "fwd"): v for k, v in net.params.items() if "layers.1.bwd" in k}
    h_rev, _, _ = rev.forward(x[:, ::-1].copy())
    np.testing.assert_allclose(cache.outputs[1][:, :, 3:], h_rev[:, ::-1], atol=1e-14)


def test_layers_may_differ_in_width_and_params_are_named_by_place(rng):
    net = StackedRNN("lstm", input_size=3, hidden_sizes=[3, 2], seed=0, backend="numpy")
    assert sorted(net.params) == sorted(f"layers.{l}.fwd.{n}" for l in (1, 2) for n in ("Wx", "Wh", "b"))
    assert net.params["layers.1.fwd.Wx"].shape == (3, 12)
    assert net.params["layers.2.fwd.Wx"].shape == (3, 8) and net.params["layers.2.fwd.Wh"].shape == (2, 8)
    y, states, _ = net.forward(rng.standard_normal((5, 7, 3)))
    assert y.shape == (5, 7, 2)
    assert [s["h"].shape for s in states] == [(1, 5, 3), (1, 5, 2)]
    assert [s["c"].shape for s in states] == [(1, 5, 3), (1, 5, 2)]


def test_initial_states_are_used_and_final_states_are_last_steps(rng):
    net = make_net("gru", 2)
    x = rng.standard_normal((2, 5, 4))
    init = net.random_states(2, rng)
    y0, _, _ = net.forward(x)
    y1, states, cache = net.forward(x, init)
    assert not np.allclose(y0, y1)
    np.testing.assert_array_equal(states[0]["h"][0], cache.outputs[1][:, -1])
    np.testing.assert_array_equal(states[1]["h"][0], y1[:, -1])


def test_same_seed_same_params_and_different_seed_differs():
    a, b, c = (StackedRNN("rnn", 2, [4, 4], seed=s, backend="numpy") for s in (1, 1, 2))
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not np.array_equal(a.params["layers.1.fwd.Wh"], c.params["layers.1.fwd.Wh"])
    bound = 1 / np.sqrt(4)
    assert all(np.abs(v).max() <= bound for v in a.params.values())


def test_orthogonal_init_and_forget_bias():
    net = StackedRNN("lstm", 2, [5], init="orthogonal", forget_bias=1.0, backend="numpy")
    Wh = net.params["layers.1.fwd.Wh"]
    for g in range(4):
        block = Wh[:, 5 * g:5 * (g + 1)]
        np.testing.assert_allclose(block.T @ block, np.eye(5), atol=1e-12)
    assert net.params["layers.1.fwd.b"][5:10].min() > 1 - 1 / np.sqrt(5) - 1e-12


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_batch_matches_unpadded_runs(cell, bidirectional, rng):
    """Masked and unmasked runs agree on the unpadded data; the reverse pass starts at the true end."""
    net = make_net(cell, 2, bidirectional=bidirectional, return_sequences=False)
    lengths = [6, 3]
    x = rng.standard_normal((2, 6, 4))
    mask = np.arange(6)[None, :] < np.array(lengths)[:, None]
    y, states, cache = net.forward(x, mask=mask)
    for n, length in enumerate(lengths):
        y_n, states_n, _ = net.forward(x[n:n + 1, :length])
        np.testing.assert_allclose(y[n], y_n[0], atol=1e-13)
        for s, s_n in zip(states, states_n):
            np.testing.assert_allclose(s["h"][:, n], s_n["h"][:, 0], atol=1e-13)
    dy = rng.standard_normal(y.shape)
    dx, _ = net.backward(dy, cache)
    assert np.all(dx[1, 3:] == 0)
    report = check_model_masked(net, x, mask, rng)
    assert max(report.values()) < TOL, report


def check_model_masked(net, x, mask, rng):
    y, _, cache = net.forward(x, mask=mask)
    dy = rng.standard_normal(y.shape)
    dx, grads = net.backward(dy, cache)
    return check_gradients(lambda: net.forward(x, mask=mask)[0], dict(net.params, x=x),
                           dict(grads, x=dx), dy)


def test_clocked_layer_updates_every_period_steps(rng):
    net = StackedRNN("rnn", 2, [3, 3], clock_periods=[1, 4], backend="numpy", seed=2)
    x = rng.standard_normal((2, 12, 2))
    _, _, cache = net.forward(x)
    top = cache.outputs[2]
    changes = [t for t in range(1, 12) if not np.array_equal(top[:, t], top[:, t - 1])]
    assert changes == [3, 7, 11]
    assert np.all(top[:, :3] == 0)  # zero initial state carried until the first tick
    report = check_model(net, x)
    assert report.worst()[1] < TOL


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_dropout_is_inverted_between_layers_and_off_at_evaluation(cell, rng):
    net = make_net(cell, 3, dropout=0.5, skip="l-2")
    x = rng.standard_normal((2, 5, 4))
    y_eval, _, cache_eval = net.forward(x)
    assert cache_eval.dropout == {}
    y_train, _, cache = net.forward(x, train=True, rng=np.random.default_rng(0))
    assert sorted(cache.dropout) == [1, 2]  # never after the top layer
    m = cache.dropout[1]
    assert set(np.unique(m)) <= {0.0, 2.0} and 0.3 < np.mean(m == 0) < 0.7
    assert not np.allclose(y_eval, y_train)
    # fixed masks (same seed each call): gradients match finite differences
    run = lambda: net.forward(x, train=True, rng=np.random.default_rng(0))  # noqa: E731
    y, _, cache = run()
    dy = rng.standard_normal(y.shape)
    dx, grads = net.backward(dy, cache)
    errors = check_gradients(lambda: run()[0], dict(net.params, x=x), dict(grads, x=dx), dy)
    assert max(errors.values()) < TOL


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_float32_network_agrees_with_float64(cell, rng):
    net64 = make_net(cell, 3, bidirectional=True, skip="l-2")
    net32 = net64.astype(np.float32)
    x = rng.standard_normal((3, 6, 4))
    y64, _, c64 = net64.forward(x)
    y32, _, c32 = net32.forward(x.astype(np.float32))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, y64, atol=2e-6)
    dy = rng.standard_normal(y64.shape)
    dx64, g64 = net64.backward(dy, c64)
    dx32, g32 = net32.backward(dy.astype(np.float32), c32)
    assert dx32.dtype == np.float32 and all(g.dtype == np.float32 for g in g32.values())
    for k in g64:
        assert np.max(np.abs(g32[k] - g64[k])) <= 1e-5 * max(1.0, np.max(np.abs(g64[k]))), k


def test_skip_edges_patterns():
    net = StackedRNN("rnn", 3, [3] * 5, skip="l-2", backend="numpy")
    assert net.skip_edges == [(1, 3), (2, 4), (3, 5)]
    assert net.layer_sources(4) == [3, 2]
    dense = StackedRNN("rnn", 3, [3] * 4, skip=[(0, 2), (1, 4), (2, 4)], backend="numpy")
    assert dense.layer_sources(4) == [3, 1, 2] and dense.layer_sources(2) == [1, 0]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_recurrent_dropout_is_one_mask_per_sequence_and_gradient_checked(cell, backend, rng):
    net = StackedRNN(cell, 4, [3, 3], bidirectional=True, recurrent_dropout=0.5, seed=5,
                     backend=backend)
    x = rng.standard_normal((2, 5, 4))
    y_eval, _, cache_eval = net.forward(x)
    assert all(c["recurrent_mask"] is None for layer in cache_eval.layers.values()
               for c in layer.values())
    run = lambda: net.forward(x, train=True, rng=np.random.default_rng(1))  # noqa: E731
    y, _, cache = run()
    masks = [c["recurrent_mask"] for layer in cache.layers.values() for c in layer.values()]
    assert all(m.shape == (2, 3) and set(np.unique(m)) <= {0.0, 2.0} for m in masks)
    assert not np.allclose(y, y_eval)
    dy = rng.standard_normal(y.shape)
    dx, grads = net.backward(dy, cache)
    errors = check_gradients(lambda: run()[0], dict(net.params, x=x), dict(grads, x=dx), dy)
    assert max(errors.values()) < TOL
    assert net.config["recurrent_dropout"] == 0.5


def test_recurrent_dropout_drops_only_the_recurrent_input(rng):
    """tanh RNN: h_t = tanh(x_t Wx + (h_{t-1} * m) Wh + b) with the run's cached mask m."""
    net = StackedRNN("rnn", 2, [4], recurrent_dropout=0.3, seed=2, backend="numpy")
    x = rng.standard_normal((3, 4, 2))
    _, _, cache = net.forward(x, train=True, rng=np.random.default_rng(0))
    c = cache.layers[1]["fwd"]
    Wx, Wh, b = net.layer_params(1, "fwd")
    expected = np.tanh(x[:, 2] @ Wx + (c["h"][:, 1] * c["recurrent_mask"]) @ Wh + b)
    np.testing.assert_allclose(c["h"][:, 2], expected, atol=1e-14)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_backward_leaves_its_inputs_alone_and_repeats_exactly(backend, bidirectional, rng):
    """The stack passes dy, dlayers and the layer outputs to the cells without copying them;
    nothing may write into them, and a second backward must give the same gradients."""
    net = StackedRNN("lstm", 4, [3, 3, 3], bidirectional=bidirectional, skip="l-2",
                     dropout=0.3, backend=backend, seed=2)
    x = rng.standard_normal((2, 5, 4))
    y, _, cache = net.forward(x, train=True, rng=np.random.default_rng(0))
    dy, dmid = rng.standard_normal(y.shape), rng.standard_normal(cache.outputs[2].shape)
    before = [a.copy() for a in (x, dy, dmid, *cache.outputs.values())]
    dx, grads = net.backward(dy, cache, dlayers={2: dmid})
    after = [x, dy, dmid, *cache.outputs.values()]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    dx2, grads2 = net.backward(dy, cache, dlayers={2: dmid})
    assert np.array_equal(dx, dx2) and all(np.array_equal(grads[k], grads2[k]) for k in grads)
    assert not np.shares_memory(dx, dy) and not np.shares_memory(dx, x)


def test_the_cache_holds_what_its_docstring_says(rng):
    net = StackedRNN("lstm", 2, [3, 4], bidirectional=True, backend="numpy", seed=1)
    x = rng.standard_normal((2, 5, 2))
    y, states, cache = net.forward(x)
    assert list(cache.outputs) == [0, 1, 2] and cache.network() is net
    np.testing.assert_array_equal(cache.outputs[0], x)
    assert not np.shares_memory(cache.outputs[0], x)  # the cache owns a copy
    assert cache.final_states is states and cache.backend == "numpy" and cache.dropout == {}
    assert list(cache.layers[2]) == ["fwd", "bwd"]
    bwd = cache.layers[2]["bwd"]  # ran on reversed time; run_order turns it back
    np.testing.assert_array_equal(run_order(bwd["h"], "bwd"), cache.outputs[2][:, :, 4:])
    np.testing.assert_array_equal(bwd["x"], cache.outputs[1][:, ::-1])
    np.testing.assert_array_equal(states[1]["c"][1], bwd["c"][:, -1])


def test_state_gradients_come_from_the_reference_whatever_ran_forward(rng):
    """return_state_gradients on a cache the kernels made: the NumPy reference's BPTT records
    them; its dx and grads agree with the kernels' own backward."""
    net = StackedRNN("lstm", 2, [3, 3], bidirectional=True, seed=3, backend="numba")
    x = rng.standard_normal((2, 5, 2))
    y, _, cache = net.forward(x)
    dy = rng.standard_normal(y.shape)
    dx, grads, totals = net.backward(dy, cache, return_state_gradients=True)
    _, _, cache_ref = net.forward(x, backend="numpy")
    dx_ref, grads_ref, totals_ref = net.backward(dy, cache_ref, return_state_gradients=True)
    dx_fast, grads_fast = net.backward(dy, cache)
    for a, b, c in [(dx, dx_ref, dx_fast)] + [(grads[k], grads_ref[k], grads_fast[k])
                                              for k in grads]:
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a, c, rtol=0, atol=1e-12)
    for l in (1, 2):
        for name in ("h", "c"):
            assert totals[l][name].shape == (2, 5, 6)
            np.testing.assert_allclose(totals[l][name], totals_ref[l][name], atol=1e-12)


def test_backward_with_no_loss_on_y(rng):
    """dy=None: only the injected gradients, the same as a zero dy."""
    net = StackedRNN("gru", 2, [3, 3], backend="numpy", seed=2)
    y, _, cache = net.forward(rng.standard_normal((2, 4, 2)))
    g = rng.standard_normal(cache.outputs[1].shape)
    dx, grads = net.backward(None, cache, dlayers={1: g})
    dx0, grads0 = net.backward(np.zeros_like(y), cache, dlayers={1: g})
    np.testing.assert_array_equal(dx, dx0)
    assert all(np.array_equal(grads[k], grads0[k]) for k in grads) and np.any(dx)
