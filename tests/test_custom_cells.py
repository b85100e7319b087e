"""A user's own cell, registered from its NumPy step functions, gets the whole library without an
edit to it: StackedRNN (bidirectional, skips, masks, dropout), check_model, the Jacobians (exact
from step_jacobians, else centered differences with a warning), saliency, fixed points, lesions,
fit, save/load, optional kernels, and clear errors where a framework has no such cell. The two
cells (a minimal gated unit and a peephole LSTM) live in custom_cells.py, not in the library."""
import numpy as np
import pytest

import minirnn
from minirnn import Recurrent, Sequential, StackedRNN
from minirnn.analysis import clamp_gate, find_fixed_points, state_gradients, visited_states
from minirnn.cells import CELLS, CellSpec, get_cell, register_cell, step_cache
from minirnn.gradcheck import check_gradients, check_model
from minirnn.jacobians import gradient_flow, numerical_step_jacobians, step_jacobians

from custom_cells import MGU, PEEPHOLE, mgu_step_forward

CUSTOM = {"mgu": MGU, "peephole_lstm": PEEPHOLE}


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    """Both cells registered for the test, and gone after it."""
    for spec in CUSTOM.values():
        monkeypatch.setitem(CELLS, spec.name, spec)


def random_params(spec, D, H, rng, scale=0.5):
    return [scale * rng.standard_normal(shape) for shape in spec.param_shapes(D, H).values()]


@pytest.mark.parametrize("cell", CUSTOM)
def test_step_backward_matches_finite_differences(cell, rng):
    spec = get_cell(cell)
    N, D, H = 3, 4, 5
    x = rng.standard_normal((N, D))
    states = [0.5 * rng.standard_normal((N, H)) for _ in spec.state_names]
    params = random_params(spec, D, H, rng)
    rmask = rng.choice([0.0, 2.0], size=(N, H))

    def run():
        return list(spec.step_forward(x, *states, *params, rmask)[:-1])

    douts = [rng.standard_normal((N, H)) for _ in spec.state_names]
    dx, *rest = spec.step_backward(*douts, spec.step_forward(x, *states, *params, rmask)[-1])
    names = ["x"] + [f"prev_{s}" for s in spec.state_names] + list(spec.param_names)
    errors = check_gradients(run, dict(zip(names, [x, *states, *params])),
                             dict(zip(names, [dx, *rest])), douts)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("cell", CUSTOM)
def test_check_model_on_a_full_stack(cell, rng):
    """Bidirectional, three layers of different widths, a skip edge: every gradient of the stack
    the registry built from the user's step functions, in float64."""
    net = StackedRNN(cell, 3, [4, 4, 3], bidirectional=True, skip=[(1, 3)], seed=1,
                     backend="numpy")
    report = check_model(net, rng.standard_normal((2, 5, 3)))
    assert len(report) == len(net.params) + 1 + 3 * len(get_cell(cell).state_names)
    assert report.worst()[1] < 1e-6, report


@pytest.mark.parametrize("cell", CUSTOM)
def test_masks_and_dropout_gradients_match_finite_differences(cell, rng):
    """A padded batch and a training run's dropout and recurrent-dropout masks (fixed by the
    seed), checked on the user's cell through the stack."""
    net = StackedRNN(cell, 2, [3, 3], dropout=0.3, recurrent_dropout=0.3, seed=2,
                     backend="numpy")
    x = rng.standard_normal((3, 6, 2))
    mask = np.ones((3, 6), bool)
    mask[1, 4:] = False
    run = lambda: net.forward(x, mask=mask, train=True, rng=np.random.default_rng(5))[0]  # noqa
    y = run()
    dy = rng.standard_normal(y.shape)
    _, _, cache = net.forward(x, mask=mask, train=True, rng=np.random.default_rng(5))
    dx, grads = net.backward(dy, cache)
    errors = check_gradients(run, dict(net.params, x=x), dict(grads, x=dx), dy)
    assert max(errors.values()) < 1e-6, errors
    assert np.all(dx[1, 4:] == 0)  # padded steps get no gradient


def test_exact_step_jacobians_match_centered_differences(rng):
    net = StackedRNN("mgu", 2, [4], recurrent_dropout=0.5, backend="numpy", seed=3)
    _, _, cache = net.forward(rng.standard_normal((3, 4, 2)), train=True, rng=rng)
    cell_cache = cache.layers[1]["fwd"]
    assert np.any(cell_cache["recurrent_mask"] == 0)
    for t in range(4):
        step = step_cache(MGU, cell_cache, t)
        exact, numeric = MGU.step_jacobians(step), numerical_step_jacobians(MGU, step)
        for name in exact:
            np.testing.assert_allclose(exact[name], numeric[name], rtol=1e-6, atol=1e-8)


def test_a_cell_without_step_jacobians_gets_centered_differences_with_a_warning(rng):
    """The peephole LSTM gives none: the run's Jacobians come from differences of its step
    forward, and their product over a span equals what its own step backward says about that
    span (unit gradients on the final state, read on the initial state)."""
    net = StackedRNN("peephole_lstm", 2, [3], backend="numpy", seed=4)
    x = rng.standard_normal((2, 5, 2))
    initial = net.random_states(2, rng)
    _, _, cache = net.forward(x, initial)
    with pytest.warns(UserWarning, match="no step_jacobians"):
        jac = step_jacobians(net, cache)
    J = jac.temporal[1]["fwd"]  # (N, T, 6, 6): the state [h, c]
    product = np.broadcast_to(np.eye(6), (2, 6, 6))
    for t in range(5):
        product = J[:, t] @ product
    for i in range(6):
        dfinal = [{"h": np.zeros((1, 2, 3)), "c": np.zeros((1, 2, 3))}]
        dfinal[0]["hc"[i // 3]][0, :, i % 3] = 1.0
        _, _, dinitial = net.backward(np.zeros((2, 5, 3)), cache, dstates=dfinal,
                                      return_dinitial=True)
        row = np.concatenate([dinitial[0]["h"][0], dinitial[0]["c"][0]], axis=1)
        np.testing.assert_allclose(product[:, i], row, atol=1e-7)
    with pytest.warns(UserWarning):
        assert gradient_flow(net, x).shape == (1, 5)


def test_saliency_totals_match_nudging_a_state(rng):
    """The total gradient on h_t of layer 2 (the stack's backward records it) against nudging
    h_t mid-run and rerunning the rest."""
    net = StackedRNN("mgu", 2, [3, 3], backend="numpy", seed=6)
    x, dy = rng.standard_normal((2, 5, 2)), rng.standard_normal((2, 5, 3))
    _, _, cache = net.forward(x)
    _, totals = state_gradients(net, cache, dy)
    top = cache.outputs[1]
    params = net.layer_params(2, "fwd")
    h_first, _ = MGU.forward(top[:, :3], np.zeros((2, 3)), *params)  # layer 2 up to t = 2

    def loss(nudge):
        h_t = h_first[:, -1] + nudge
        rest, _ = MGU.forward(top[:, 3:], h_t, *params)
        return np.sum(dy * np.concatenate([h_first[:, :-1], h_t[:, None], rest], axis=1))

    numeric = np.zeros((2, 3))
    for n in range(2):
        for j in range(3):
            e = np.zeros((2, 3))
            e[n, j] = 1e-6
            numeric[n, j] = (loss(e) - loss(-e)) / 2e-6
    np.testing.assert_allclose(totals[2]["h"][:, 2], numeric, atol=1e-7)


def test_fixed_points_of_a_custom_cell_are_fixed(rng):
    net = StackedRNN("mgu", 2, [3], backend="numpy", seed=7)
    _, _, cache = net.forward(rng.standard_normal((4, 20, 2)))
    points = find_fixed_points(net, 1, starts=visited_states(net, cache, 1, count=8))
    assert points and points[0].fixed
    for point in points:
        x0 = np.zeros((1, 2))
        next_h, _ = mgu_step_forward(x0, point.state[None], *net.layer_params(1, "fwd"))
        assert np.max(np.abs(next_h[0] - point.state)) < 1e-5


def test_clamping_the_custom_gate_closed_freezes_the_state(rng):
    """MGU with f held at 0: h_t = h_{t-1}, whatever the input."""
    net = clamp_gate(StackedRNN("mgu", 2, [3], backend="numpy"), 1, "f", "closed")
    initial = net.random_states(2, rng)
    y, _, _ = net.forward(rng.standard_normal((2, 6, 2)), initial)
    np.testing.assert_array_equal(y, np.broadcast_to(initial[0]["h"][0][:, None], y.shape))


def test_fit_trains_a_custom_cell():
    from minirnn.data.tasks import two_timescale

    train, val = two_timescale(64, T=40, seed=0), two_timescale(32, T=40, seed=1)
    model = Sequential([Recurrent(StackedRNN("mgu", 1, [8, 8], backend="numpy", seed=0)),
                        ("head", minirnn.Dense(8, 2, seed=0))])
    history = minirnn.train.fit(model, "mse", (train["x"], train["y"]),
                                val=(val["x"], val["y"]), epochs=8, batch_size=16,
                                optimizer=minirnn.optim.Adam(lr=1e-2), progress=False)
    assert history["val_loss"][-1] < 0.6 * history["val_loss"][0], history["val_loss"]


def test_save_and_load_a_custom_cell_model(tmp_path, rng):
    net = StackedRNN("peephole_lstm", 2, [3, 2], seed=8, backend="numpy")
    minirnn.io.save(net, tmp_path / "peephole.npz")
    loaded = minirnn.io.load(tmp_path / "peephole.npz", backend="numpy")
    assert loaded.cell == "peephole_lstm" and loaded.params.keys() == net.params.keys()
    x = rng.standard_normal((2, 4, 2))
    np.testing.assert_array_equal(loaded.forward(x)[0], net.forward(x)[0])


def test_kernels_are_optional_and_used_when_given(monkeypatch, rng):
    """No kernels: backend='numba' is a clear error. With kernels (here the reference wrapped to
    count its calls, standing in for compiled code), the stack calls them."""
    net = StackedRNN("mgu", 2, [3], backend="numba")
    with pytest.raises(ValueError, match="cell 'mgu' has no numba kernels; use backend='numpy'"):
        net.forward(rng.standard_normal((1, 3, 2)))
    calls = []

    def counted(function):
        return lambda *args, **kwargs: calls.append(function) or function(*args, **kwargs)

    with_kernels = CellSpec("mgu_fast", gates=2, state_names=("h",),
                            step_forward=MGU.step_forward, step_backward=MGU.step_backward,
                            kernels=lambda: (counted(MGU.forward), counted(MGU.backward)))
    monkeypatch.setitem(CELLS, "mgu_fast", with_kernels)
    fast = StackedRNN("mgu_fast", 2, [3], backend="numba")
    fast.params = dict(zip(fast.params, net.params.values()))
    x = rng.standard_normal((2, 3, 2))
    y, _, cache = fast.forward(x)
    fast.backward(np.ones_like(y), cache)
    assert len(calls) == 2
    np.testing.assert_array_equal(y, net.forward(x, backend="numpy")[0])


def test_frameworks_without_the_cell_say_so():
    net = StackedRNN("mgu", 2, [3])
    with pytest.raises(ValueError, match="cell 'mgu' has no PyTorch module"):
        minirnn.interop.to_torch(net)
    with pytest.raises(ValueError, match="cell 'mgu' has no Keras layer"):
        minirnn.interop.to_keras(net)


def test_register_cell_rejects_what_the_library_could_not_use():
    with pytest.raises(ValueError, match="already registered"):
        register_cell(MGU)
    with pytest.raises(TypeError, match="spec must be a CellSpec"):
        register_cell("mgu")
    bad = dict(name="bad", gates=2, step_forward=MGU.step_forward, step_backward=MGU.step_backward)
    with pytest.raises(ValueError, match="state_names must be a tuple .* starting with 'h'"):
        CellSpec(state_names=("c", "h"), **bad)
    with pytest.raises(ValueError, match=r"gate blocks must lie in 0..1"):
        CellSpec(state_names=("h",), sigmoid_gates={"f": 2}, **bad)
    with pytest.raises(ValueError, match="memory_gate must be one of sigmoid_gates"):
        CellSpec(state_names=("h",), memory_gate="z", **bad)
    with pytest.raises(TypeError, match="step_jacobians must be callable"):
        CellSpec(state_names=("h",), step_jacobians={}, **bad)
    with pytest.raises(ValueError, match="extra_params must map new names"):
        CellSpec(state_names=("h",), extra_params={"b": 1}, **bad)
    with pytest.raises(ValueError, match="cell must be one of .*; got 'nope'"):
        StackedRNN("nope", 2, [3])
