"""Tests for minirnn.jacobians: one-step Jacobians against finite differences, products and
grid Jacobians against the real `StackedRNN.backward`, gradient-path counts, the path
decomposition, and the figures.

Witnesses that do not use the code under test:
  - finite differences (minirnn.gradcheck.numerical_gradient, one Jacobian row at a time);
  - `net.backward` with unit vectors injected at one output (dlayers) or on a final state
    (dstates), read at the input (dx) or at the initial states (return_dinitial=True);
  - the same, on a *restarted* run (the stack started at step u+1 from the states of step u,
    which reproduces the rest of the run exactly) to reach a state in the middle of the run, and
    on the *upper stack* (layers k+1..L as their own StackedRNN fed with out_k) to reach the
    gradient on a layer output. Between them they give dLoss/ds_t^l at any node.
"""
import os
import runpy

import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.cells.gru import gru_forward, gru_backward, gru_step_forward, gru_step_jacobians
from minirnn.cells.lstm import (lstm_backward, lstm_forward, lstm_step_forward,
                                lstm_step_jacobians)
from minirnn.cells.rnn import rnn_backward, rnn_forward, rnn_step_forward, rnn_step_jacobians
from minirnn.gradcheck import numerical_gradient, relative_error
from minirnn.jacobians import (backpropagate, count_gradient_paths, decay_rate, gradient_flow,
                               gradient_paths, output_jacobian,
                               path_decomposition, product_norms, sequence_jacobians,
                               singular_values, step_jacobians, temporal_product)
from minirnn.jacobians.steps import state_blocks, state_jacobians
from minirnn.stack import last_step_backward

CELLS = ("rnn", "lstm", "gru")
TOL = 1e-7  # finite differences in float64 with h = 1e-5


# ---- helpers ----------------------------------------------------------------------------------
def numerical_rows(f, p, n_out):
    """Centered-difference Jacobian rows: entry i is d(sum over the batch of f()[:, i]) / dp,
    shaped like p; with batch elements independent, that is row i for every element at once."""
    N = f().shape[0]
    rows = []
    for i in range(n_out):
        dout = np.zeros((N, n_out))
        dout[:, i] = 1.0
        rows.append(numerical_gradient(f, p, dout))
    return np.stack(rows)  # (n_out,) + p.shape


def make_net(cell, hidden_sizes, seed=0, **kw):
    return StackedRNN(cell, 3, hidden_sizes, seed=seed, backend="numpy", **kw)


def copy_stack(net, first, last, input_size, skip=None):
    """Layers first..last of net as their own StackedRNN (same parameters), numbered from 1."""
    sub = StackedRNN(net.cell, input_size, net.hidden_sizes[first - 1:last],
                     bidirectional=net.bidirectional, skip=skip, backend="numpy")
    sub.params = {f"layers.{l - first + 1}.{d}.{k}": net.params[f"layers.{l}.{d}.{k}"]
                  for l in range(first, last + 1) for d in net.directions
                  for k in net.spec.param_names}
    return sub


def upper_stack(net, k):
    """Layers k+1..L fed with out_k: its dx is the real backward's gradient on out_k."""
    if any(src < k < dst for src, dst in net.skip_edges):
        raise ValueError("a skip edge crosses layer k")
    edges = [(src - k, dst - k) for src, dst in net.skip_edges if dst > k]
    widths = [net.input_size] + net.output_widths()
    return copy_stack(net, k + 1, net.num_layers, widths[k], skip=edges or None)


def restart_states(net, cache, u):
    """Every layer's states after step u of a unidirectional run (u = -1: the initial states)."""
    states = []
    for l in range(1, net.num_layers + 1):
        layer = cache.layers[l]["fwd"]
        states.append({name: (layer[name + "0"] if u < 0 else layer[name][:, u])[None].copy()
                       for name in net.spec.state_names})
    return states


def backward_row(net, cache, layer, t, i, dtype=np.float64):
    """net.backward for the loss out_t^layer[i] (summed over the batch)."""
    g = np.zeros_like(cache.outputs[layer], dtype=dtype)
    g[:, t, i] = 1.0
    dy = np.zeros_like(cache.outputs[net.num_layers])
    return net.backward(dy, cache, dlayers={layer: g}, return_dinitial=True)


def split_state(net, s):
    """(..., S) -> {state name: (..., H)}."""
    H = s.shape[-1] // len(net.spec.state_names)
    return {name: s[..., k * H:(k + 1) * H] for k, name in enumerate(net.spec.state_names)}


# ---- one-step Jacobians of each cell ----------------------------------------------------------
def random_step(cell, rng, N=3, D=4, H=5):
    G = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    p = {"x": rng.standard_normal((N, D)), "prev_h": rng.standard_normal((N, H)),
         "Wx": rng.standard_normal((D, G * H)) * 0.7, "Wh": rng.standard_normal((H, G * H)) * 0.7,
         "b": rng.standard_normal(G * H) * 0.5}
    if cell == "lstm":
        p["prev_c"] = rng.standard_normal((N, H))
    if cell == "gru":
        p["bhn"] = rng.standard_normal(H) * 0.5
    return p


def run_step(cell, p):
    """(next state [h] or [h, c] as (N, S), step cache)."""
    m = p.get("recurrent_mask")
    if cell == "rnn":
        h, cache = rnn_step_forward(p["x"], p["prev_h"], p["Wx"], p["Wh"], p["b"], m)
        return h, cache
    if cell == "gru":
        h, cache = gru_step_forward(p["x"], p["prev_h"], p["Wx"], p["Wh"], p["b"], p["bhn"], m)
        return h, cache
    h, c, cache = lstm_step_forward(p["x"], p["prev_h"], p["prev_c"], p["Wx"], p["Wh"], p["b"], m)
    return np.concatenate([h, c], axis=1), cache


STEP_JACOBIANS = {"rnn": rnn_step_jacobians, "lstm": lstm_step_jacobians, "gru": gru_step_jacobians}


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("recurrent_dropout", [False, True])
def test_one_step_jacobians_match_finite_differences(cell, recurrent_dropout):
    p = random_step(cell, np.random.default_rng(1))
    if recurrent_dropout:
        p["recurrent_mask"] = np.random.default_rng(2).choice([0.0, 2.0], p["prev_h"].shape)
    state, cache = run_step(cell, p)
    named = STEP_JACOBIANS[cell](cache)
    H = p["prev_h"].shape[1]
    outputs = ("h", "c") if cell == "lstm" else ("h",)
    inputs = (("prev_h", "prev_c", "x") if cell == "lstm" else ("prev_h", "x"))
    for name in inputs:
        rows = numerical_rows(lambda: run_step(cell, p)[0], p[name], state.shape[1])
        numeric = np.moveaxis(rows, 0, 1)  # (N, S, Z)
        for k, out in enumerate(outputs):
            analytic = named[f"dnext_{out}/d{name}"]
            assert analytic.shape == (p["x"].shape[0], H, p[name].shape[1])
            assert relative_error(analytic, numeric[:, k * H:(k + 1) * H]) < TOL, (out, name)
    # the assembled state Jacobians are the same numbers, blocks in the documented places
    temporal, inputs_jac = state_jacobians(cell, named)
    assert temporal.shape == (3, len(outputs) * H, len(outputs) * H)
    assert np.array_equal(temporal[:, :H, :H], named["dnext_h/dprev_h"])
    assert np.array_equal(inputs_jac[:, :H], named["dnext_h/dx"])
    if cell == "lstm":
        for key, block in state_blocks(temporal, "lstm").items():
            assert np.array_equal(block, named[key]), key


@pytest.mark.parametrize("cell", CELLS)
def test_masked_steps_are_identity_and_products_match_cell_backward(cell):
    """A whole masked sequence: the product of the temporal Jacobians is d s_T / d s_0 from the
    cell's own backward (unit vectors on the final state, read on the initial state)."""
    rng = np.random.default_rng(2)
    N, T, D, H = 3, 6, 2, 3
    p = random_step(cell, rng, N, D, H)
    x = rng.standard_normal((N, T, D))
    mask = rng.random((N, T)) > 0.35
    mask[0, 2] = False
    params = [p["Wx"], p["Wh"], p["b"]] + ([p["bhn"]] if cell == "gru" else [])
    states0 = [p["prev_h"]] + ([p["prev_c"]] if cell == "lstm" else [])
    forward = {"rnn": rnn_forward, "lstm": lstm_forward, "gru": gru_forward}[cell]
    backward = {"rnn": rnn_backward, "lstm": lstm_backward, "gru": gru_backward}[cell]
    _, cache = forward(x, *states0, *params, mask=mask)
    J, J_in = sequence_jacobians(cell, cache)
    S = J.shape[-1]
    assert np.array_equal(J[0, 2], np.eye(S)) and not np.any(J_in[0, 2])
    assert mask.any() and (~mask).any()  # both kinds of step occur
    product = np.broadcast_to(np.eye(S), (N, S, S))
    for t in range(T):
        product = J[:, t] @ product
    for i in range(S):
        dfinal = [np.zeros((N, H)) for _ in states0]
        dfinal[i // H][:, i % H] = 1.0
        _, *dinitial = backward(np.zeros((N, T, H)), cache, *dfinal)[:1 + len(states0)]
        assert np.allclose(np.concatenate(dinitial, axis=1), product[:, i], atol=1e-13)


# ---- the whole run: time order, directions, depth and skip Jacobians ---------------------------
def state_after(net, cache, l, d, t):
    """State of layer l, direction d at original time t ({name: (N, H)}); t = -1 (fwd) or T (bwd)
    is the initial state."""
    layer = cache.layers[l][d]
    T = layer["x"].shape[1]
    k = t if d == "fwd" else T - 1 - t  # the step index in the order the cell ran
    return {name: layer[name + "0"] if k < 0 else layer[name][:, k]
            for name in net.spec.state_names}


@pytest.mark.parametrize("cell", CELLS)
def test_run_jacobians_match_finite_differences_bidirectional_with_skip(cell):
    """Depth and temporal Jacobians of layer 3 of a bidirectional stack with a skip edge 1 -> 3,
    by finite differences on a one-layer copy of layer 3 run for the single step t (forward from
    s_{t-1}, reverse from s_{t+1}) on the layer's real input in_t = out_2 + out_1."""
    net = make_net(cell, [2, 2, 3], bidirectional=True, skip=[(1, 3)])
    rng = np.random.default_rng(3)
    N, T = 2, 4
    _, _, cache = net.forward(rng.standard_normal((N, T, 3)), net.random_states(N, rng))
    jac = step_jacobians(net, cache)
    assert jac.skip[(1, 3)] is jac.depth[3]
    l, H = 3, 3
    layer = copy_stack(net, l, l, net.output_widths()[1])
    layer_input = cache.outputs[2] + cache.outputs[1]
    for t in (0, 2, T - 1):
        x_t = layer_input[:, t:t + 1].copy()
        initial = [{name: np.stack([state_after(net, cache, l, "fwd", t - 1)[name],
                                    state_after(net, cache, l, "bwd", t + 1)[name]])
                    for name in net.spec.state_names}]

        def states():  # (N, dirs * S): each direction's state at t, [h (, c)] per direction
            _, final, _ = layer.forward(x_t, initial)
            return np.concatenate([np.concatenate([final[0][n][k] for n in net.spec.state_names],
                                                  axis=1) for k in range(2)], axis=1)

        y_rows = numerical_rows(lambda: layer.forward(x_t, initial)[0][:, 0], x_t, 2 * H)
        assert relative_error(jac.depth[l][:, t], np.moveaxis(y_rows[:, :, 0], 0, 1)) < TOL
        S = H * len(net.spec.state_names)
        for k, d in enumerate(net.directions):
            numeric = np.concatenate([numerical_rows(states, initial[0][name], 2 * S)[:, k]
                                      for name in net.spec.state_names], axis=-1)  # (2S, N, S)
            analytic = jac.temporal[l][d][:, t]
            assert relative_error(analytic, np.moveaxis(numeric[k * S:(k + 1) * S], 0, 1)) < TOL
            in_rows = np.moveaxis(numerical_rows(states, x_t, 2 * S)[k * S:(k + 1) * S, :, 0], 0, 1)
            assert relative_error(jac.inputs[l][d][:, t], in_rows) < TOL


# ---- products and grid Jacobians against the real backward ------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_whole_run_products_match_backward_both_directions(cell):
    """temporal_product over the whole run = d final state / d initial state from net.backward
    (a unit vector on one final state via dstates, read from return_dinitial)."""
    net = make_net(cell, [3, 2], bidirectional=True)
    rng = np.random.default_rng(4)
    N, T = 2, 5
    _, _, cache = net.forward(rng.standard_normal((N, T, 3)), net.random_states(N, rng))
    jac = step_jacobians(net, cache)
    for l in (1, 2):
        H = net.hidden_sizes[l - 1]
        for k, d in enumerate(net.directions):
            product = (temporal_product(jac, l, -1, T - 1, "fwd") if d == "fwd"
                       else temporal_product(jac, l, T, 0, "bwd"))
            for i, (name, j) in enumerate((n, j) for n in net.spec.state_names for j in range(H)):
                dstates = [{} for _ in range(net.num_layers)]
                dstates[l - 1] = {name: np.zeros(net.state_shape(l, N))}
                dstates[l - 1][name][k, :, j] = 1.0
                dy = np.zeros_like(cache.outputs[2])
                _, _, dinitial = net.backward(dy, cache, dstates, return_dinitial=True)
                row = np.concatenate([dinitial[l - 1][n][k] for n in net.spec.state_names], axis=1)
                assert np.allclose(product[:, i], row, atol=1e-13), (l, d, i)


@pytest.mark.parametrize("cell", CELLS)
def test_span_products_match_backward_of_restarted_run(cell):
    """d s_t / d s_u for a span in the middle of a run, with a restarted run as the witness."""
    net = make_net(cell, [3, 3, 2])
    rng = np.random.default_rng(5)
    N, T, u, l = 2, 7, 2, 2
    x = rng.standard_normal((N, T, 3))
    _, _, cache = net.forward(x, net.random_states(N, rng))
    jac = step_jacobians(net, cache)
    _, _, rest = net.forward(x[:, u + 1:], restart_states(net, cache, u))
    assert np.allclose(rest.outputs[3], cache.outputs[3][:, u + 1:], atol=1e-14)
    H = net.hidden_sizes[l - 1]
    for t in (u, u + 1, T - 1):
        product = temporal_product(jac, l, u, t)
        if t == u:
            assert np.array_equal(product[0], np.eye(product.shape[-1]))
            continue
        for i in range(H):  # rows of the h part, injected at layer l's output at t
            _, _, dinitial = backward_row(net, rest, l, t - u - 1, i)
            row = np.concatenate([dinitial[l - 1][n][0] for n in net.spec.state_names], axis=1)
            assert np.allclose(product[:, i], row, atol=1e-13), (t, i)


@pytest.mark.parametrize("cell,bidirectional,skip", [
    ("rnn", False, "l-2"), ("lstm", True, None), ("gru", False, [(0, 2), (1, 4)]),
    ("lstm", False, "l-2")])
def test_output_jacobian_matches_backward_across_layers_and_time(cell, bidirectional, skip):
    """d out_t^L / d x_u and d out_t^L / d (initial state of every layer), through every path of
    time and depth, against net.backward with a unit vector injected at (L, t)."""
    net = make_net(cell, [3, 3, 3, 3], bidirectional=bidirectional, skip=skip)
    rng = np.random.default_rng(6)
    N, T, t = 2, 5, 3
    _, _, cache = net.forward(rng.standard_normal((N, T, 3)), net.random_states(N, rng))
    L, W = net.num_layers, net.output_widths()[-1]
    grid = output_jacobian(net, step_jacobians(net, cache), L, t)
    for i in range(W):
        dx, _, dinitial = backward_row(net, cache, L, t, i)
        assert np.allclose(grid.doutputs[0][:, i], dx, atol=1e-13)
        for l in range(1, L + 1):
            for k, d in enumerate(net.directions):
                expected = np.concatenate([dinitial[l - 1][n][k] for n in net.spec.state_names], 1)
                assert np.allclose(grid.initial[l][d][:, i], expected, atol=1e-13), (l, d, i)
    if not bidirectional:  # nothing at later steps reaches back
        assert not np.any(grid.doutputs[0][:, :, t + 1:])


@pytest.mark.parametrize("cell", CELLS)
def test_gradient_on_every_state_matches_upper_stack_plus_restart(cell):
    """The total dLoss/ds_t^l in the middle of the grid = (the real backward of the layers above,
    fed with out_l) + (what is injected at (l, t)) + (the real backward of the run restarted at
    t+1, on layer l's initial state). backpropagate must give exactly that, for every node."""
    net = make_net(cell, [3, 2, 3])
    rng = np.random.default_rng(7)
    N, T = 2, 5
    x = rng.standard_normal((N, T, 3))
    initial = net.random_states(N, rng)
    y, _, cache = net.forward(x, initial)
    dy = rng.standard_normal(y.shape)
    dlayers = {l: rng.standard_normal(cache.outputs[l].shape) for l in (1, 2)}
    seeds = {l: g[:, None] for l, g in dlayers.items()}
    seeds[3] = dy[:, None]
    grid = backpropagate(net, step_jacobians(net, cache), seeds)
    for l in (1, 2, 3):
        if l < net.num_layers:
            upper = upper_stack(net, l)
            up_cache = upper.forward(cache.outputs[l], initial[l:])[2]
            from_above = upper.backward(dy, up_cache, dlayers={m - l: dlayers[m] for m in dlayers
                                                               if m > l} or None)[0]
        else:
            from_above = np.zeros_like(dy)  # nothing above the top; dy is injected at (L, t)
        injected = dy if l == net.num_layers else dlayers[l]
        for t in range(T):
            expected = {name: np.zeros((N, net.hidden_sizes[l - 1]))
                        for name in net.spec.state_names}
            expected["h"] += from_above[:, t] + injected[:, t]
            if t < T - 1:
                _, _, rest = net.forward(x[:, t + 1:], restart_states(net, cache, t))
                _, _, dinit = net.backward(dy[:, t + 1:], rest, return_dinitial=True,
                                           dlayers={m: g[:, t + 1:] for m, g in dlayers.items()})
                for name in net.spec.state_names:
                    expected[name] += dinit[l - 1][name][0]
            got = split_state(net, grid.states[l]["fwd"][:, 0, t])
            for name in net.spec.state_names:
                assert np.allclose(got[name], expected[name], atol=1e-12), (l, t, name)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("options", [
    {"skip": "l-2"},
    {"skip": "l-2", "bidirectional": True},
    {"skip": [(0, 2), (1, 3)], "dropout": 0.4, "clock_periods": [1, 2, 3]},
    {"bidirectional": True, "dropout": 0.3, "clock_periods": [2, 1, 1]},
    {"skip": "l-2", "bidirectional": True, "recurrent_dropout": 0.5}])
def test_backpropagate_reproduces_backward_on_inputs_and_initial_states(cell, options):
    """Including a padding mask, clocked layers and a training run's dropout and recurrent-dropout
    masks."""
    net = make_net(cell, [3, 3, 3], **options)
    rng = np.random.default_rng(8)
    N, T = 3, 5
    x = rng.standard_normal((N, T, 3))
    mask = np.arange(T) < np.array([[5], [3], [4]])  # padded at the end
    y, _, cache = net.forward(x, net.random_states(N, rng), mask=mask, train=True, rng=rng)
    dy = rng.standard_normal(y.shape)
    dl = {2: rng.standard_normal(cache.outputs[2].shape)}
    dx, _, dinitial = net.backward(dy, cache, dlayers=dl, return_dinitial=True)
    jac = step_jacobians(net, cache)
    grid = backpropagate(net, jac, {3: dy[:, None], 2: dl[2][:, None]})
    assert np.allclose(grid.doutputs[0][:, 0], dx, atol=1e-14)
    for l in range(1, 4):
        for k, d in enumerate(net.directions):
            got = split_state(net, grid.initial[l][d][:, 0])
            for name in net.spec.state_names:
                assert np.allclose(got[name], dinitial[l - 1][name][k], atol=1e-14)
    if "dropout" in options:
        assert set(jac.dropout) == {1, 2}
        assert np.array_equal(jac.edges[(1, 2)], jac.depth[2] * cache.dropout[1][:, :, None])


# ---- norms, singular values, validation -------------------------------------------------------
def test_product_norms_and_singular_values():
    net = make_net("lstm", [3])
    rng = np.random.default_rng(9)
    _, _, cache = net.forward(rng.standard_normal((2, 6, 3)), net.random_states(2, rng))
    jac = step_jacobians(net, cache)
    norms = product_norms(jac, 1)
    assert list(norms["span"]) == [1, 2, 3, 4, 5, 6]
    for k in (1, 4, 6):
        P = temporal_product(jac, 1, -1, k - 1)
        assert np.allclose(norms["spectral"][:, k - 1], [np.linalg.norm(p, 2) for p in P])
        assert np.allclose(norms["frobenius"][:, k - 1], [np.linalg.norm(p) for p in P])
    later = product_norms(jac, 1, start=2)
    assert list(later["span"]) == [1, 2, 3]
    assert np.allclose(later["spectral"][:, -1], np.linalg.norm(temporal_product(jac, 1, 2, 5),
                                                                2, axis=(1, 2)))
    sv = singular_values(jac.temporal[1]["fwd"])
    assert sv.shape == (2, 6, 6) and np.all(np.diff(sv, axis=-1) <= 1e-15)
    assert np.allclose(sv[..., 0], np.linalg.norm(jac.temporal[1]["fwd"], 2, axis=(2, 3)))
    assert decay_rate(np.arange(1, 9), 3.0 * 0.7 ** np.arange(1, 9)) == pytest.approx(0.7)
    with pytest.raises(ValueError, match="start"):
        temporal_product(jac, 1, 3, 1)
    with pytest.raises(ValueError, match="direction"):
        temporal_product(jac, 1, -1, 2, direction="up")
    with pytest.raises(ValueError, match="no step"):
        product_norms(jac, 1, start=5)


# ---- the gradient-flow map --------------------------------------------------------------------
def test_gradient_flow_map():
    net = make_net("gru", [3, 3, 2], skip="l-2")
    x = np.random.default_rng(10).standard_normal((3, 6, 3))
    grid = gradient_flow(net, x, loss_layer=2, loss_time=3)
    assert grid.shape == (3, 6)
    assert grid[1, 3] == pytest.approx(1.0)  # a unit vector at the loss node
    assert not np.any(grid[2]) and not np.any(grid[:, 4:])  # nothing above or later
    assert np.all(grid[:2, :4] > 0)
    # with explicit gradients: the norm of what backpropagate returns, averaged over the batch
    y, _, cache = net.forward(x)
    dy = np.random.default_rng(11).standard_normal(y.shape)
    dl = {1: np.random.default_rng(12).standard_normal(cache.outputs[1].shape)}
    flow = gradient_flow(net, x, dy=dy, dlayers=dl)
    states = backpropagate(net, step_jacobians(net, cache), {3: dy[:, None], 1: dl[1][:, None]})
    assert np.allclose(flow[0], np.linalg.norm(states.states[1]["fwd"][:, 0], axis=-1).mean(0))
    with pytest.raises(ValueError, match="state"):
        gradient_flow(net, x, state="c")


def test_gradient_flow_bidirectional_lstm_and_summary_output():
    """One sequence (so the batch mean is that sequence's norm): ||(dh, dc)||^2 = ||dh||^2 +
    ||dc||^2 at every node; dy on the summary y (N, W_L) reaches the top layer's reverse
    direction at t = 0 and its forward direction at t = T-1."""
    net = make_net("lstm", [2, 2], bidirectional=True, return_sequences=False)
    x = np.random.default_rng(13).standard_normal((1, 5, 3))
    y, _, cache = net.forward(x)
    dy = np.ones_like(y)
    h, c = gradient_flow(net, x, dy=dy), gradient_flow(net, x, dy=dy, state="c")
    both = gradient_flow(net, x, dy=dy, state="state")
    assert h.shape == (2, 5) and np.allclose(both ** 2, h ** 2 + c ** 2)
    grid = backpropagate(net, step_jacobians(net, cache), {2: np.zeros((1, 1, 5, 4))})
    assert not np.any(grid.states[2]["fwd"])  # sanity: no loss, no gradient
    sequence_dy = np.zeros_like(cache.outputs[2])
    last_step_backward(dy, sequence_dy, net.hidden_sizes[-1], net.bidirectional)
    assert np.allclose(h, gradient_flow(make_net("lstm", [2, 2], bidirectional=True), x,
                                        dy=sequence_dy))


# ---- gradient paths ---------------------------------------------------------------------------
def fibonacci(n):
    a, b = 1, 1
    for _ in range(n - 1):
        a, b = b, a + b
    return a


def test_fibonacci_path_counts_from_real_models():
    expected = [1, 1]
    while len(expected) < 25:
        expected.append(expected[-1] + expected[-2])
    for L in range(1, 26):
        net = StackedRNN("rnn", 1, [1] * L, skip="l-2", backend="numpy")
        assert count_gradient_paths(net, L, 1) == expected[L - 1], L
        if L <= 12:
            paths = gradient_paths(net, L, 1)
            assert len(paths) == len(set(paths)) == expected[L - 1]
            for path in paths:
                assert path[0] == L and path[-1] == 1
                assert all(b in net.layer_sources(a) for a, b in zip(path, path[1:]))


def test_path_counts_other_graphs():
    plain = StackedRNN("rnn", 1, [1] * 5, backend="numpy")
    assert count_gradient_paths(plain, 5, 1) == 1 == len(gradient_paths(plain, 5, 1))
    custom = StackedRNN("rnn", 1, [1] * 3, skip=[(0, 2), (0, 3), (1, 3)], backend="numpy")
    assert sorted(gradient_paths(custom, 3, 0)) == [(3, 0), (3, 1, 0), (3, 2, 0), (3, 2, 1, 0)]
    assert count_gradient_paths(custom, 3, 0) == 4 and count_gradient_paths(custom, 3, 1) == 2
    with pytest.raises(ValueError, match="target_layer"):
        count_gradient_paths(custom, 1, 3)
    with pytest.raises(ValueError, match="source_layer"):
        count_gradient_paths(custom, 4, 1)


def test_unrolled_path_counts():
    from math import comb
    plain = StackedRNN("rnn", 1, [1] * 4, backend="numpy")
    for (s, ts), (u, tu) in (((4, 5), (1, 0)), ((3, 4), (2, 1)), ((4, 2), (1, 2)),
                             ((2, 0), (1, 3))):
        expected = comb(s - u + ts - tu, s - u) if ts >= tu else 0
        assert count_gradient_paths(plain, s, u, unrolled=True, num_steps=6, source_time=ts,
                                    target_time=tu) == expected
    skip = StackedRNN("rnn", 1, [1] * 7, skip="l-2", backend="numpy")
    assert count_gradient_paths(skip, 7, 1, unrolled=True, num_steps=4, source_time=2,
                                target_time=2) == fibonacci(7)  # same step: the layer graph
    # by hand: 2 bidirectional layers, T = 2, from (2, t=1) to (1, t=0): 3 paths start in the
    # forward direction ((2f,1)->(2f,0)->(1f,0) | (1b,0), (2f,1)->(1f,1)->(1f,0)), 1 in the
    # reverse one ((2b,1)->(1f,1)->(1f,0))
    bi = StackedRNN("rnn", 1, [1, 1], bidirectional=True, backend="numpy")
    assert count_gradient_paths(bi, 2, 1, unrolled=True, num_steps=2, source_time=1) == 4
    with pytest.raises(ValueError, match="num_steps"):
        count_gradient_paths(plain, 4, 1, unrolled=True)
    with pytest.raises(ValueError, match="source_time"):
        count_gradient_paths(plain, 4, 1, unrolled=True, num_steps=3, source_time=3)


@pytest.mark.parametrize("L", range(1, 9))
def test_path_decomposition_sums_to_the_jacobian(L):
    """For L = 1..8 with skip edges l-2 -> l: the sum over the Fibonacci(L) paths of the products
    of edge Jacobians at one step equals d out_t^L / d out_t^1 from the real backward of the
    stack above layer 1, to 1e-10."""
    cell = CELLS[L % 3]
    net = StackedRNN(cell, 3, [3] * L, skip="l-2", seed=L, backend="numpy")
    rng = np.random.default_rng(L)
    N, T, t = 2, 4, 2
    initial = net.random_states(N, rng)
    _, _, cache = net.forward(rng.standard_normal((N, T, 3)), initial)
    decomposition = path_decomposition(net, cache, t)
    assert len(decomposition.paths) == fibonacci(L)
    assert sum(count for count, _ in decomposition.by_length().values()) == fibonacci(L)
    if L == 1:
        assert np.array_equal(decomposition.total, np.broadcast_to(np.eye(3), (N, 3, 3)))
        return
    upper = upper_stack(net, 1)
    up_cache = upper.forward(cache.outputs[1], initial[1:])[2]
    rows = []
    for i in range(3):
        dy = np.zeros_like(cache.outputs[L])
        dy[:, t, i] = 1.0
        rows.append(upper.backward(dy, up_cache)[0][:, t])
    witness = np.stack(rows, axis=1)  # (N, W_L, W_1)
    assert np.max(np.abs(decomposition.total - witness)) < 1e-10
    assert relative_error(decomposition.total, witness) < 1e-10
    assert relative_error(decomposition.full, witness) < 1e-10
    assert np.max(np.abs(witness)) > 1e-6  # not a trivially zero Jacobian


def test_path_decomposition_to_the_input_and_errors():
    net = StackedRNN("lstm", 3, [3, 3, 3, 3], skip=[(0, 2), (1, 3), (2, 4)], backend="numpy")
    rng = np.random.default_rng(14)
    _, _, cache = net.forward(rng.standard_normal((2, 4, 3)), net.random_states(2, rng))
    decomposition = path_decomposition(net, cache, t=-1, target_layer=0)
    assert len(decomposition.paths) == count_gradient_paths(net, 4, 0) == 5
    dx = np.stack([backward_row(net, cache, 4, 3, i)[0][:, 3] for i in range(3)], axis=1)
    assert relative_error(decomposition.total, dx) < 1e-10
    # a training run with dropout: each edge carries its source's mask
    dropped = StackedRNN("gru", 3, [3, 3, 3], skip="l-2", dropout=0.5, backend="numpy")
    _, _, cache = dropped.forward(rng.standard_normal((2, 4, 3)), train=True, rng=rng)
    decomposition = path_decomposition(dropped, cache, t=1, target_layer=0)
    dx = np.stack([backward_row(dropped, cache, 3, 1, i)[0][:, 1] for i in range(3)], axis=1)
    assert relative_error(decomposition.total, dx) < 1e-10 and np.any(dx)
    with pytest.raises(NotImplementedError, match="unidirectional"):
        path_decomposition(make_net("rnn", [2, 2], bidirectional=True),
                           make_net("rnn", [2, 2], bidirectional=True).forward(
                               rng.standard_normal((1, 3, 3)))[2], t=0)


# ---- figures and the demo ---------------------------------------------------------------------
def test_figures_are_written(tmp_path):
    pytest.importorskip("matplotlib")
    from minirnn import plot
    rng = np.random.default_rng(15)
    paths = [
        plot.plot_gradient_flow({"a": rng.random((3, 5)), "b": rng.random((3, 5))},
                                str(tmp_path / "flow.png")),
        plot.plot_vanishing_products(
            {"rnn": {"span": np.arange(1, 4), "spectral": rng.random((2, 3)),
                     "frobenius": rng.random((2, 3)), "singular_values": rng.random((2, 3, 4))}},
            str(tmp_path / "products.png")),
        plot.plot_gradient_paths([1, 2, 3], [1, 1, 2], {1: (1, rng.random((2, 2, 2))),
                                                        2: (1, rng.random((2, 2, 2)))},
                                 str(tmp_path / "paths.png")),
        plot.plot_auxiliary_comparison({"r": {"without": np.ones(3), "with": 2 * np.ones(3),
                                              "ratio": 2.0}}, str(tmp_path / "sub" / "aux.png")),
    ]
    for path in paths:
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_demo_writes_its_figures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    demo = os.path.join(os.path.dirname(__file__), "..", "demos", "gradient_flow.py")
    runpy.run_path(demo, run_name="demo")["main"]([str(tmp_path)])
    names = {"gradient_flow_heatmap.png", "vanishing_products.png", "fibonacci_paths.png",
             "auxiliary_losses.png"}
    assert names <= set(os.listdir(tmp_path))
    printed = capsys.readouterr().out
    assert "75025" in printed and "per-step factor" in printed
