"""Frequency response, impulse response and lesions, tested on networks whose answers are known:
1-unit tanh layers driven by small inputs are first-order linear filters,
h_t = a h_{t-1} + u in_t, with transfer u / (1 - a e^{-iw}) and impulse decay a^k."""
import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.analysis import (clamp_gate, decay_time_constant, frequency_response,
                              impulse_response, lesion_recurrence, lesion_study,
                              remove_skip_edge, standard_lesions)
from minirnn.constructions import leaky_integrator_stack, set_layer

W = np.linspace(0.05, np.pi, 15)


def first_order(a, u, w):
    return np.abs(u / (1.0 - a * np.exp(-1j * w)))


# ---- frequency response -------------------------------------------------------------------------
def test_frequency_response_matches_the_analytic_filters_strong_then_weak():
    net = leaky_integrator_stack([0.9, 0.1], [1.0, 2.0])
    r = frequency_response(net, W, amplitude=1e-3)
    H1, H2 = first_order(0.9, 1.0, W), first_order(0.1, 2.0, W)
    np.testing.assert_allclose(r.transfer[0], H1, rtol=1e-3)
    np.testing.assert_allclose(r.transfer[1], H2, rtol=1e-3)
    np.testing.assert_allclose(r.gain[1], H1 * H2, rtol=1e-3)
    np.testing.assert_allclose(r.input_amplitude, 1e-3, rtol=1e-9)
    # the strongly recurrent layer prefers the slowest signal and cuts high frequencies ...
    assert r.preferred_frequencies("transfer")[0] == W[0]
    assert r.transfer[0, -1] / r.transfer[0, 0] < 0.1
    # ... the weak one passes high frequencies nearly unchanged
    assert r.transfer[1, -1] / r.transfer[1, 0] > 0.8


def test_weak_then_strong_and_a_negative_recurrence_that_prefers_the_fastest_signal():
    r = frequency_response(leaky_integrator_stack([0.1, 0.95]), W, amplitude=1e-3)
    np.testing.assert_allclose(r.transfer[1], first_order(0.95, 1.0, W), rtol=1e-3)
    assert r.transfer[0, -1] / r.transfer[0, 0] > 0.8
    assert r.preferred_frequencies("gain")[1] == W[0]
    r = frequency_response(leaky_integrator_stack([-0.8]), W, amplitude=1e-3)
    np.testing.assert_allclose(r.gain[0], first_order(-0.8, 1.0, W), rtol=1e-3)
    assert r.preferred_frequencies()[0] == pytest.approx(np.pi)


def perfect_integrator_lstm(k=1.0):
    """1-unit LSTM with i = f = o = 1 and g = tanh(k x): c_t = c_{t-1} + tanh(k x_t)."""
    net = StackedRNN("lstm", input_size=1, hidden_sizes=[1], backend="numpy")
    set_layer(net, 1, [[0.0, 0.0, k, 0.0]], [[0.0] * 4], [50.0, 50.0, 0.0, 50.0])
    return net


def test_lstm_cell_state_of_a_perfect_integrator_has_gain_k_over_2_sin_half_w():
    r = frequency_response(perfect_integrator_lstm(k=0.5), W, amplitude=1e-4, state="c")
    np.testing.assert_allclose(r.gain[0], 0.5 / (2 * np.sin(W / 2)), rtol=1e-6)


def test_frequency_response_rejects_bad_arguments():
    net = leaky_integrator_stack([0.5])
    with pytest.raises(ValueError, match="frequencies"):
        frequency_response(net, [0.0, 1.0])
    with pytest.raises(ValueError, match="transient"):
        frequency_response(net, [1.0], num_steps=10, transient=10)
    with pytest.raises(ValueError, match="state"):
        frequency_response(net, [1.0], state="c")
    with pytest.raises(ValueError, match="direction"):
        frequency_response(net, [1.0], direction=[1.0, 0.0])


# ---- impulse response ---------------------------------------------------------------------------
def test_decay_time_constant_of_known_curves():
    t = np.arange(60.0)
    assert decay_time_constant(0.8 ** t) == pytest.approx(-1 / np.log(0.8), rel=1e-12)
    rising = np.concatenate([[0.0, 0.5], 0.9 ** t])  # the peak is found first
    assert decay_time_constant(rising) == pytest.approx(-1 / np.log(0.9), rel=1e-12)
    # an oscillating decay is judged by its envelope, not its first dip
    ringing = 0.9 ** t * np.abs(np.cos(1.3 * t))
    tau = decay_time_constant(ringing)
    assert tau > 5 and tau <= -1 / np.log(0.9) + 1
    assert decay_time_constant(np.ones(10)) == np.inf
    assert np.isnan(decay_time_constant(np.zeros(10)))


def test_impulse_response_of_leaky_integrators():
    a1, a2, m, t0 = 0.5, 0.95, 1e-4, 10
    r = impulse_response(leaky_integrator_stack([a1, a2]), t0=t0, num_steps=120, magnitude=m)
    k = np.arange(60)
    assert np.all(r.distance[:, :t0] == 0)
    np.testing.assert_allclose(r.distance[0, t0:t0 + 60], m * a1 ** k, rtol=1e-6)
    layer2 = m * (a2 ** (k + 1) - a1 ** (k + 1)) / (a2 - a1)  # the two filters convolved
    np.testing.assert_allclose(r.distance[1, t0:t0 + 60], layer2, rtol=1e-6)
    assert r.time_constant[0] == pytest.approx(-1 / np.log(a1), rel=1e-4)
    assert -1 / np.log(a2) < r.time_constant[1] < -1 / np.log(a2) + 3
    assert list(r.peak_time) == [t0, t0 + np.argmax(layer2)]  # layer 2 peaks at k = 3
    assert r.kinds == ["filtering", "filtering"]
    r = impulse_response(leaky_integrator_stack([a1, a2]), t0=t0, num_steps=120, magnitude=m,
                         threshold=10.0)
    assert r.kinds == ["filtering", "accumulating"]


def test_a_perfect_integrator_accumulates_forever():
    r = impulse_response(perfect_integrator_lstm(), num_steps=50, magnitude=1e-3, state="c")
    assert r.time_constant[0] == np.inf
    assert r.persistence[0] == pytest.approx(1.0, abs=1e-12)
    assert r.kinds == ["accumulating"]


def test_impulse_response_on_a_batch_of_baseline_inputs_and_initial_states(rng):
    net = StackedRNN("gru", 2, [3, 2], backend="numpy", seed=3)
    x = rng.standard_normal((4, 30, 2))
    states = net.random_states(4, rng)
    r = impulse_response(net, t0=5, x=x, initial_states=states, magnitude=0.1)
    assert r.distance.shape == (2, 30)
    assert np.all(r.distance[:, :5] == 0) and np.all(r.distance[:, 5:8] > 0)
    with pytest.raises(ValueError, match="t0"):
        impulse_response(net, t0=30, x=x)


# ---- lesions ------------------------------------------------------------------------------------
def linear_filter(x, a, u):
    """The analytic linear filter h_t = a h_{t-1} + u x_t, x: (N, T)."""
    h, out = np.zeros(x.shape[0]), np.empty_like(x)
    for t in range(x.shape[1]):
        h = a * h + u * x[:, t]
        out[:, t] = h
    return out


def test_lesion_study_on_leaky_integrators_reports_known_losses_and_time_constants(rng):
    a1, a2 = 0.8, 0.9
    net = leaky_integrator_stack([a1, a2])
    x = 1e-3 * rng.standard_normal((8, 80))
    target = linear_filter(linear_filter(x, a1, 1.0), a2, 1.0)  # what the intact stack computes

    def loss(n):
        y, _, _ = n.forward(x[..., None])
        return np.mean((y[..., 0] - target) ** 2) / np.mean(target ** 2)

    study = lesion_study(net, loss, impulse={"t0": 5, "num_steps": 150, "magnitude": 1e-4})
    assert study.names == ["intact", "layer 1 recurrence", "layer 2 recurrence"]
    lesioned1 = linear_filter(x, a2, 1.0)  # layer 1 passes x straight through
    lesioned2 = linear_filter(x, a1, 1.0)
    expected = [0.0] + [np.mean((z - target) ** 2) / np.mean(target ** 2)
                        for z in (lesioned1, lesioned2)]
    np.testing.assert_allclose(study.loss, expected, atol=1e-4)
    assert np.all(study.delta_loss[1:] > 0.1)
    tau = study.time_constant
    assert tau[0, 0] == pytest.approx(-1 / np.log(a1), rel=1e-3)
    assert tau[1, 0] < 0.01 and tau[1, 1] == pytest.approx(-1 / np.log(a2), rel=1e-3)
    assert tau[2, 1] < tau[0, 1] and tau[2, 1] == pytest.approx(-1 / np.log(a1), rel=1e-3)
    assert "layer 2 recurrence" in study.table()
    # the original network is untouched
    assert net.params["layers.1.fwd.Wh"][0, 0] == a1


def test_clamped_gates_hold_their_value_and_change_the_memory(rng):
    net = StackedRNN("lstm", 2, [3], backend="numpy", seed=1)
    x = rng.standard_normal((2, 6, 2))
    half = clamp_gate(net, 1, "f", 0.3)
    _, _, cache = half.forward(x)
    np.testing.assert_allclose(cache.layers[1]["fwd"]["ifgo"][..., 3:6], 0.3, rtol=1e-12)
    # forget gate open and no recurrent matrix: a kick to c is never forgotten
    keeper = clamp_gate(lesion_recurrence(net, 1), 1, "f", "open")
    r = impulse_response(keeper, num_steps=40, state="c")
    assert r.time_constant[0] == np.inf and r.persistence[0] == pytest.approx(1.0, abs=1e-9)
    # memoryless: no Wh and forget gate closed, the kick is gone one step later
    for cell, seed in (("lstm", 1), ("gru", 2)):
        net = StackedRNN(cell, 2, [3], backend="numpy", seed=seed)
        r = impulse_response(lesion_recurrence(net, 1, memoryless=True), t0=3, num_steps=20)
        assert r.distance[0, 3] > 0 and np.all(r.distance[0, 4:] == 0)
        assert r.time_constant[0] < 0.01 and r.kinds == ["filtering"]
    with pytest.raises(ValueError, match="gate"):
        clamp_gate(net, 1, "g", "open")
    with pytest.raises(ValueError, match="value"):
        clamp_gate(net, 1, "z", 1.5)


def test_removing_a_skip_edge_equals_a_network_built_without_it(rng):
    net = StackedRNN("rnn", 2, [2, 2, 2], skip=[(0, 2), (1, 3)], backend="numpy", seed=4)
    plain = StackedRNN("rnn", 2, [2, 2, 2], skip=[(1, 3)], backend="numpy", seed=4)
    plain.params = {k: v.copy() for k, v in net.params.items()}
    x = rng.standard_normal((3, 7, 2))
    cut = remove_skip_edge(net, (0, 2))
    np.testing.assert_array_equal(cut.forward(x)[0], plain.forward(x)[0])
    assert net.skip_edges == [(0, 2), (1, 3)]
    assert not np.allclose(net.forward(x)[0], cut.forward(x)[0])
    assert sorted(standard_lesions(net)) == ["layer 1 recurrence", "layer 2 recurrence",
                                             "layer 3 recurrence", "skip 0->2", "skip 1->3"]
    with pytest.raises(ValueError, match="edge"):
        remove_skip_edge(net, (0, 3))
