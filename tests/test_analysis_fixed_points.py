"""Fixed points on systems whose fixed points are known: the 1-D tanh map h = tanh(w h + b),
rotations, a saddle, and an LSTM line attractor; the private one-step Jacobian against finite
differences of the cells' step functions."""
import numpy as np
import pytest
from scipy.optimize import brentq

from minirnn import StackedRNN
from minirnn.analysis import classify_eigenvalues, find_fixed_points, visited_states
from minirnn.analysis.fixed_points import LayerMap
from minirnn.constructions import leaky_integrator_stack, set_layer


def one_unit(w, b):
    net = leaky_integrator_stack([w])
    net.params["layers.1.fwd.b"][:] = b
    return net


def test_one_dimensional_tanh_map_with_w_above_one_has_three_fixed_points():
    w, b = 2.0, 0.1
    g = lambda h: np.tanh(w * h + b) - h  # noqa: E731  (the fixed-point equation)
    roots = sorted([brentq(g, -2, -0.5), brentq(g, -0.5, 0.5), brentq(g, 0.5, 2)])
    points = sorted(find_fixed_points(one_unit(w, b), 1, num_starts=30, scale=2.0),
                    key=lambda p: p.state[0])
    assert len(points) == 3 and all(p.fixed for p in points)
    np.testing.assert_allclose([p.state[0] for p in points], roots, atol=1e-10)
    assert [p.stability for p in points] == ["stable", "unstable", "stable"]
    slopes = [w * (1 - h ** 2) for h in roots]  # d tanh(w h + b) / dh = w (1 - h^2) at h*
    np.testing.assert_allclose([p.eigenvalues[0].real for p in points], slopes, rtol=1e-8)
    assert not any(p.oscillatory for p in points)


def test_one_dimensional_map_with_w_below_one_has_one_stable_fixed_point():
    points = find_fixed_points(one_unit(0.5, 0.3), 1, num_starts=20, scale=2.0)
    h = brentq(lambda h: np.tanh(0.5 * h + 0.3) - h, -1, 1)
    assert len(points) == 1 and points[0].state[0] == pytest.approx(h, abs=1e-10)
    assert points[0].stability == "stable"


def two_units(Wh, b=(0.0, 0.0)):
    net = StackedRNN("rnn", 1, [2], backend="numpy")
    set_layer(net, 1, [[0.0, 0.0]], Wh, b)
    return net


def rotation(scale, angle):
    return scale * np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])


def test_contracting_rotation_has_one_stable_spiral_with_known_eigenvalues():
    s, angle, dt = 0.9, 0.7, 0.1
    points = find_fixed_points(two_units(rotation(s, angle)), 1, dt=dt)
    assert len(points) == 1
    p = points[0]
    np.testing.assert_allclose(p.state, 0.0, atol=1e-12)
    assert p.stability == "stable" and p.oscillatory
    expected = s * np.exp(1j * angle * np.array([1, -1]))
    np.testing.assert_allclose(np.sort_complex(p.eigenvalues), np.sort_complex(expected),
                               atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(p.continuous_eigenvalues),
                               np.sort_complex((expected - 1) / dt), atol=1e-10)
    assert np.all(p.continuous_eigenvalues.real < 0)


def test_expanding_rotation_makes_the_origin_an_unstable_spiral():
    points = find_fixed_points(two_units(rotation(1.3, 0.7)), 1)
    origin = [p for p in points if np.allclose(p.state, 0, atol=1e-10)]
    assert len(origin) == 1
    assert origin[0].stability == "unstable" and origin[0].oscillatory
    np.testing.assert_allclose(np.abs(origin[0].eigenvalues), 1.3, rtol=1e-12)


def test_diagonal_map_has_a_saddle_between_two_attractors():
    points = find_fixed_points(two_units(np.diag([2.0, 0.5])), 1, num_starts=40, scale=1.5)
    h = brentq(lambda h: np.tanh(2 * h) - h, 0.5, 2)
    assert len(points) == 3
    by_x = sorted(points, key=lambda p: p.state[0])
    np.testing.assert_allclose([p.state for p in by_x], [[-h, 0], [0, 0], [h, 0]], atol=1e-10)
    assert [p.stability for p in by_x] == ["stable", "saddle", "stable"]
    np.testing.assert_allclose(by_x[1].eigenvalues, [2.0, 0.5], atol=1e-12)


def test_lstm_line_attractor_is_marginal():
    """i closed, f and o open, no weights: F(h, c) = (tanh(c), c); every such point is fixed
    and J = [[0, 1 - tanh(c)^2], [0, 1]] has eigenvalues {1, 0}."""
    net = StackedRNN("lstm", 1, [1], backend="numpy")
    set_layer(net, 1, [[0.0] * 4], [[0.0] * 4], [-50.0, 50.0, 0.0, 50.0])
    points = find_fixed_points(net, 1, num_starts=10, scale=2.0)
    assert len(points) >= 5
    for p in points:
        h, c = p.state
        assert h == pytest.approx(np.tanh(c), abs=1e-10)
        assert p.stability == "marginal"
        np.testing.assert_allclose(sorted(p.eigenvalues.real), [0.0, 1.0], atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fixed_points_of_random_cells_are_fixed_and_the_jacobian_is_exact(cell, rng):
    net = StackedRNN(cell, 2, [3, 3], backend="numpy", seed=5)
    net.params["layers.2.fwd.Wh"] *= 3.0  # richer dynamics: several fixed points
    x = rng.standard_normal((4, 10, 2))
    _, _, cache = net.forward(x)
    u = np.array([0.3, -0.2, 0.1])  # layer 2's input held constant
    starts = visited_states(net, cache, 2, count=20)
    assert starts.shape == (20, 6 if cell == "lstm" else 3)
    points = find_fixed_points(net, 2, layer_input=u, starts=starts)
    assert points and points[0].fixed
    # independent witness: one step of the sequence function from each point returns it
    forward = net.spec.forward
    for p in (p for p in points if p.fixed):
        states0 = np.split(p.state[None], len(net.spec.state_names), axis=-1)
        _, step_cache = forward(u[None, None], *states0, *net.layer_params(2, "fwd"))
        after = np.concatenate([step_cache[k][:, -1] for k in net.spec.state_names], axis=-1)
        np.testing.assert_allclose(after[0], p.state, atol=1e-9)
    # the Jacobian built from the cells' one-step backward against centered differences
    layer_map = LayerMap(net, 2, u)
    s = starts[:3]
    numeric = np.empty((3, layer_map.size, layer_map.size))
    for j in range(layer_map.size):
        e = np.zeros(layer_map.size)
        e[j] = 1e-6
        numeric[:, :, j] = (layer_map(s + e)[0] - layer_map(s - e)[0]) / 2e-6
    np.testing.assert_allclose(layer_map.jacobian(s), numeric, atol=1e-8)


def test_classify_eigenvalues_and_argument_checks():
    assert classify_eigenvalues(np.array([0.5, -0.3])) == ("stable", False)
    assert classify_eigenvalues(np.array([1.5, -3.0])) == ("unstable", False)
    assert classify_eigenvalues(np.array([1.5, 0.2])) == ("saddle", False)
    assert classify_eigenvalues(np.array([1.0, 0.2])) == ("marginal", False)
    assert classify_eigenvalues(np.array([0.5 + 0.5j, 0.5 - 0.5j])) == ("stable", True)
    net = leaky_integrator_stack([0.5])
    with pytest.raises(ValueError, match="layer_input"):
        find_fixed_points(net, 1, layer_input=[1.0, 2.0])
    with pytest.raises(ValueError, match="starts"):
        find_fixed_points(net, 1, starts=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="layer"):
        find_fixed_points(net, 2)
