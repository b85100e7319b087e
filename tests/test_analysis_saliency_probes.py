"""Saliency (total state gradients checked by nudging a state mid-run, the input gradient against
StackedRNN.backward, geometric decay in a leaky integrator) and linear probes (exact, useless and
integrator readouts)."""
import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.analysis import best_unit, linear_probe, probe_layer, saliency, state_gradients
from minirnn.constructions import leaky_integrator_stack


def nudged_forward(net, x, layer, t, state, unit, eps):
    """Forward of a unidirectional, unclocked net with state `state` of `layer` at step t of
    sequence 0 nudged by eps (a nudged c_t also changes h_t = o_t tanh(c_t)). Returns y."""
    forward = net.spec.forward
    outputs = {0: x}
    for l in range(1, net.num_layers + 1):
        seq = sum(outputs[s] for s in net.layer_sources(l))
        states0 = [np.zeros((x.shape[0], net.hidden_sizes[l - 1]))] * len(net.spec.state_names)
        if l != layer:
            outputs[l], _ = forward(seq, *states0, *net.layer_params(l, "fwd"))
            continue
        h_a, cache_a = forward(seq[:, :t + 1], *states0, *net.layer_params(l, "fwd"))
        states_t = {name: cache_a[name][:, -1].copy() for name in net.spec.state_names}
        states_t[state][0, unit] += eps
        if state == "c":
            o = cache_a["ifgo"][:, -1, 3 * net.hidden_sizes[l - 1]:]
            states_t["h"] = o * np.tanh(states_t["c"])
        parts = [h_a[:, :-1], states_t["h"][:, None]]
        if t + 1 < x.shape[1]:
            h_b, _ = forward(seq[:, t + 1:], *[states_t[n] for n in net.spec.state_names],
                             *net.layer_params(l, "fwd"))
            parts.append(h_b)
        outputs[l] = np.concatenate(parts, axis=1)
    return outputs[net.num_layers]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_total_state_gradients_match_nudging_the_state(cell, rng):
    net = StackedRNN(cell, 2, [3, 3, 2], skip=[(1, 3)], backend="numpy", seed=7)
    x = rng.standard_normal((2, 6, 2))
    dy = rng.standard_normal((2, 6, 2))
    _, _, cache = net.forward(x)
    _, totals = state_gradients(net, cache, dy)
    eps = 1e-6
    for layer in (1, 2, 3):
        for state in net.spec.state_names:
            numeric = np.empty((6, net.hidden_sizes[layer - 1]))
            for t in range(6):
                for unit in range(numeric.shape[1]):
                    plus = np.sum(dy * nudged_forward(net, x, layer, t, state, unit, eps))
                    minus = np.sum(dy * nudged_forward(net, x, layer, t, state, unit, -eps))
                    numeric[t, unit] = (plus - minus) / (2 * eps)
            np.testing.assert_allclose(totals[layer][state][0], numeric, atol=1e-7)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_input_saliency_equals_the_stack_backward_with_both_directions_and_clocks(cell, rng):
    for kwargs in ({"bidirectional": True, "skip": "l-2"}, {"clock_periods": [1, 2, 3]},
                   {"return_sequences": False, "bidirectional": True}):
        net = StackedRNN(cell, 2, [2, 2, 2], backend="numpy", seed=2, **kwargs)
        x = rng.standard_normal((3, 7, 2))
        y, _, cache = net.forward(x)
        dy = rng.standard_normal(y.shape)
        dx, totals = state_gradients(net, cache, dy)
        np.testing.assert_allclose(dx, net.backward(dy, cache)[0], rtol=1e-12, atol=1e-14)
        assert totals[2]["h"].shape == (3, 7, net.output_widths()[1])


def test_saliency_map_of_leaky_integrators_decays_geometrically():
    """Near-linear: d h^2_{T-1} / d x_t and / d h^l_t fall by the factor a per step back."""
    a1, a2, T = 0.5, 0.8, 12
    x = 1e-6 * np.ones((1, T, 1))
    s = saliency(leaky_integrator_stack([a1, a2]), x)
    assert s.map.shape == (T, 3)
    np.testing.assert_allclose(s.map[:-1, 2] / s.map[1:, 2], a2, rtol=1e-6)
    k = np.arange(T)[::-1]  # steps before the output
    analytic = (a2 ** (k + 1) - a1 ** (k + 1)) / (a2 - a1)  # d h^2_{T-1} / d x_t
    np.testing.assert_allclose(s.map[:, 0], analytic, rtol=1e-6)
    np.testing.assert_allclose(s.map[:, 1], analytic, rtol=1e-6)  # layer 1 passes x with u = 1
    # an output in the middle of the run does not depend on later steps
    s = saliency(leaky_integrator_stack([a1, a2]), x, output_step=5)
    assert np.all(s.map[6:] == 0) and np.all(s.map[:6] > 0)


def test_linear_probe_recovers_an_exact_readout_and_rejects_noise(rng):
    features = rng.standard_normal((20, 30, 4))
    W, b = rng.standard_normal((4, 2)), np.array([0.5, -1.0])
    probe = linear_probe(features, features @ W + b)
    assert probe.r2_test == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(probe.weights, W, atol=1e-10)
    np.testing.assert_allclose(probe.bias, b, atol=1e-10)
    unrelated = linear_probe(features, rng.standard_normal((20, 30)))
    assert unrelated.r2_test < 0.05
    noisy = linear_probe(features, features @ W[:, 0] + rng.standard_normal((20, 30)))
    signal = np.var(features @ W[:, 0])
    assert noisy.r2_test == pytest.approx(signal / (signal + 1.0), abs=0.05)
    ridged = linear_probe(features, features @ W + b, ridge=1e3)
    assert np.linalg.norm(ridged.weights) < np.linalg.norm(W)
    with pytest.raises(ValueError, match="target"):
        linear_probe(features, np.zeros((20, 29)))
    with pytest.raises(ValueError, match="test_fraction"):
        linear_probe(features[:1], np.zeros((1, 30)))


def test_probe_finds_the_running_sum_in_an_integrator_layer(rng):
    net = leaky_integrator_stack([1.0, 0.0])  # layer 1 integrates, layer 2 forgets
    x = 1e-3 * rng.choice([-1.0, 1.0], size=(40, 50, 1))
    running_sum = np.cumsum(x[..., 0], axis=1)
    assert probe_layer(net, x, running_sum, layer=1).r2_test > 0.999
    assert probe_layer(net, x, running_sum, layer=0).r2_test < 0.3  # the input alone cannot


def test_every_probe_figure_is_written(tmp_path, rng):
    pytest.importorskip("matplotlib")
    from minirnn import plot as figures
    from minirnn.analysis import find_fixed_points, frequency_response, impulse_response
    from minirnn.analysis import lesion_study
    net = leaky_integrator_stack([0.9, 0.3])
    x = 1e-3 * rng.standard_normal((6, 20, 1))
    paths = [
        figures.plot_frequency_response(frequency_response(net, [0.1, 1.0, 3.0], amplitude=1e-3),
                                        tmp_path / "freq.png"),
        figures.plot_impulse_response(impulse_response(net, magnitude=1e-3), tmp_path / "imp.png"),
        figures.plot_lesions(lesion_study(net, lambda n: float(np.mean(n.forward(x)[0] ** 2))),
                             tmp_path / "lesions.png"),
        figures.plot_fixed_points(find_fixed_points(StackedRNN("rnn", 1, [3], backend="numpy"), 1),
                                  tmp_path / "fixed.png"),
        figures.plot_saliency(saliency(net, x), tmp_path / "saliency.png"),
    ]
    features = rng.standard_normal((10, 5, 2))
    probe = linear_probe(features, features[..., 0])
    paths.append(figures.plot_probe(probe, features, features[..., 0], tmp_path / "probe.png"))
    for path in paths:
        assert path.stat().st_size > 1000


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_cell_trace_on_one_cells_cache(cell, rng):
    """The per-step parameter gradients sum to the cell's gradients, step t's equals the step
    backward on the total state gradient at t, and the total state gradients are those the
    stack records for the same layer."""
    from minirnn.analysis import cell_trace
    from minirnn.cells import get_cell, step_cache

    net = StackedRNN(cell, 3, [4], backend="numpy", seed=2)
    x = rng.standard_normal((2, 5, 3))
    y, _, cache = net.forward(x, initial_states=net.random_states(2, rng))
    dy = rng.standard_normal(y.shape)
    spec, cell_cache = get_cell(cell), cache.layers[1]["fwd"]
    trace = cell_trace(cell, dy, cell_cache)
    num_states = len(spec.state_names)
    for name, g in zip(spec.param_names, trace.grads[1 + num_states:]):
        np.testing.assert_allclose(trace.parameter_steps[name].sum(axis=0), g, rtol=1e-12)
    _, _, totals = net.backward(dy, cache, return_state_gradients=True)
    for name in spec.state_names:
        np.testing.assert_allclose(trace.states[name], totals[1][name], rtol=1e-12)
    # step t's part is the step backward on the gradients arriving at step t: at the last step,
    # dy alone (and zero on c); at every step of a one-state cell, the total dh_t
    T = x.shape[1]
    for t in range(T) if num_states == 1 else [T - 1]:
        arriving = [trace.states["h"][:, t]] + [np.zeros_like(dy[:, t])] * (num_states - 1)
        step_grads = spec.step_backward(*arriving, step_cache(spec, cell_cache, t))[1 + num_states:]
        for name, g in zip(spec.param_names, step_grads):
            np.testing.assert_allclose(trace.parameter_steps[name][t], g, rtol=1e-12)


def test_best_unit_finds_the_unit_most_correlated_with_the_target():
    rng = np.random.default_rng(3)
    target = rng.standard_normal((4, 25))                          # (N, T)
    features = rng.standard_normal((4, 25, 5))
    features[..., 3] = -2.0 * target + 0.1 * rng.standard_normal((4, 25))   # anticorrelated
    features[..., 1] = 7.0                                          # constant: r = 0, not nan
    unit, r = best_unit(features, target)
    expected = np.corrcoef(features[..., 3].ravel(), target.ravel())[0, 1]
    assert unit == 3 and r < -0.9 and np.isclose(r, expected, rtol=1e-12)
    others = [abs(np.corrcoef(features[..., j].ravel(), target.ravel())[0, 1]) for j in (0, 2, 4)]
    assert abs(r) > max(others)
    with pytest.raises(ValueError, match="target must have shape"):
        best_unit(features, target[:, :-1])
