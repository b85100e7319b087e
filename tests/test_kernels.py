"""The Numba kernels against the NumPy reference: the same outputs, caches and gradients (to 1e-12
of each array's scale in float64), interchangeable caches, the same input checks; then whole
stacks on both backends over a seeded random sweep of shapes; float32; backend selection."""
import functools
import itertools

import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.backends import resolve_backend
from minirnn.cells import CELLS, sequence_backward, sequence_forward
from minirnn.gradcheck import check_gradients
from minirnn.kernels import blas, gru, lstm, rnn
from minirnn.kernels.arrays import recurrent_weights_T
from minirnn.kernels.blas import FEW_ROWS
from minirnn.kernels.products import small_matmul

from conftest import random_cell_params, random_states

CELL_NAMES = ["rnn", "lstm", "gru"]
TOL64 = 1e-12


def kernels(cell):
    """(forward, backward) of the cell's Numba kernels, as its CellSpec hands them out."""
    return CELLS[cell].sequence_functions("numba")


def scaled_error(actual, expected):
    """max |actual - expected| / max |expected|; the plain max |actual| where expected is all 0."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape
    scale = np.max(np.abs(expected), initial=0.0)
    return float(np.max(np.abs(actual - expected), initial=0.0) / (scale if scale > 0 else 1.0))


def cell_problem(cell, N, T, D, H, rng, dtype=np.float64, masked=False):
    """Random inputs for one cell: x, initial states, parameters (scaled like PyTorch's init so
    the recurrence neither explodes nor dies), a mask or None."""
    x = rng.standard_normal((N, T, D)).astype(dtype)
    states0 = random_states(cell, N, H, rng, dtype=dtype)
    params = random_cell_params(cell, D, H, rng, scale=1.0 / np.sqrt(H), dtype=dtype)
    mask = rng.random((N, T)) < 0.7 if masked else None
    return x, states0, params, mask


def final_gradients(cell, N, H, rng, given):
    return [rng.standard_normal((N, H)) if given else None for _ in CELLS[cell].state_names]


def assert_caches_match(kernel_cache, reference_cache, tol):
    assert set(kernel_cache) == set(reference_cache)
    for key, expected in reference_cache.items():
        if expected is None:
            assert kernel_cache[key] is None, key
        elif expected.dtype == bool:
            np.testing.assert_array_equal(kernel_cache[key], expected)
        else:
            assert scaled_error(kernel_cache[key], expected) < tol, key


def assert_gradients_match(kernel_grads, reference_grads, tol):
    assert len(kernel_grads) == len(reference_grads)
    for k, (got, expected) in enumerate(zip(kernel_grads, reference_grads)):
        assert scaled_error(got, expected) < tol, f"gradient #{k}: {scaled_error(got, expected)}"


# ---- one cell, kernel against reference ------------------------------------------------------
@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("finals_given", [False, True])
@pytest.mark.parametrize("N, few_row_loop",
                         [(1, False), (4, True), (4, False), (FEW_ROWS + 1, True)])
@pytest.mark.parametrize("recurrent_dropout", [False, True])
def test_kernel_matches_reference(cell, masked, finals_given, N, few_row_loop, recurrent_dropout,
                                  rng, monkeypatch):
    """N=1 runs matrix-vector products (the backward from a view of Wh.T); N=4 runs the per-step
    products through the few-row loop and through BLAS (whichever this machine's BLAS would pick);
    N=FEW_ROWS+1 always through BLAS."""
    limit = FEW_ROWS if few_row_loop else 0
    for module in (rnn, lstm, gru):
        monkeypatch.setattr(module, "few_rows_limit", lambda: limit)
    spec, (forward, backward) = CELLS[cell], kernels(cell)
    T, D, H = 9, 5, 7
    x, states0, params, mask = cell_problem(cell, N, T, D, H, rng, masked=masked)
    rmask = rng.choice([0.0, 2.0], size=(N, H)) if recurrent_dropout else None
    h_ref, cache_ref = spec.forward(x, *states0.values(), *params.values(), mask=mask,
                                    recurrent_mask=rmask)
    h, cache = forward(x, *states0.values(), *params.values(), mask=mask, recurrent_mask=rmask)
    assert h.shape == h_ref.shape and scaled_error(h, h_ref) < TOL64
    assert_caches_match(cache, cache_ref, TOL64)

    dh = rng.standard_normal(h.shape)
    finals = final_gradients(cell, N, H, rng, finals_given)
    expected = spec.backward(dh, cache_ref, *finals)
    assert_gradients_match(backward(dh, cache, *finals), expected, TOL64)
    # the caches are interchangeable: each backward accepts the other backend's cache
    assert_gradients_match(backward(dh, cache_ref, *finals), expected, TOL64)
    assert_gradients_match(spec.backward(dh, cache, *finals), expected, TOL64)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_kernel_backward_matches_finite_differences(cell, rng):
    forward, backward = kernels(cell)
    spec = CELLS[cell]
    N, T, D, H = 3, 5, 4, 5
    x, states0, params, mask = cell_problem(cell, N, T, D, H, rng, masked=True)
    params = {k: v * np.sqrt(H) * 0.5 for k, v in params.items()}  # nonzero biases of size ~0.5
    mask[0] = False  # a sequence that never steps keeps its initial state

    def run():
        h, cache = forward(x, *states0.values(), *params.values(), mask=mask)
        return [h, *spec.final_states(cache)]

    douts = [rng.standard_normal(o.shape) for o in run()]
    _, cache = forward(x, *states0.values(), *params.values(), mask=mask)
    dx, *rest = backward(douts[0], cache, *douts[1:])
    analytic = {"x": dx, **dict(zip(states0, rest)), **dict(zip(params, rest[len(states0):]))}
    errors = check_gradients(run, {"x": x, **states0, **params}, analytic, douts)
    assert set(errors) == set(analytic)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_kernel_accepts_reversed_views_and_leaves_inputs_alone(cell, rng):
    """The stack runs the reverse direction on x[:, ::-1] and dh[:, ::-1]."""
    spec, (forward, backward) = CELLS[cell], kernels(cell)
    x, states0, params, _ = cell_problem(cell, 3, 6, 4, 5, rng)
    x_rev = x[:, ::-1]
    h_ref, cache_ref = spec.forward(x_rev, *states0.values(), *params.values())
    h, cache = forward(x_rev, *states0.values(), *params.values())
    assert scaled_error(h, h_ref) < TOL64
    dh = rng.standard_normal(h.shape)[:, ::-1]
    finals = final_gradients(cell, 3, 5, rng, given=True)
    kept = [f.copy() for f in finals] + [x.copy(), dh.copy()]
    assert_gradients_match(backward(dh, cache, *finals), spec.backward(dh, cache_ref, *finals),
                           TOL64)
    for before, after in zip(kept, finals + [x, dh]):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_one_step_and_one_unit(cell, rng):
    spec, (forward, backward) = CELLS[cell], kernels(cell)
    x, states0, params, _ = cell_problem(cell, 1, 1, 1, 1, rng)
    h_ref, cache_ref = spec.forward(x, *states0.values(), *params.values())
    h, cache = forward(x, *states0.values(), *params.values())
    assert_caches_match(cache, cache_ref, TOL64)
    dh = rng.standard_normal(h.shape)
    assert_gradients_match(backward(dh, cache), spec.backward(dh, cache_ref), TOL64)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_float32_kernel_agrees_with_float64_reference(cell, rng):
    spec, (forward, backward) = CELLS[cell], kernels(cell)
    N, T, D, H = 4, 12, 6, 16
    x, states0, params, mask = cell_problem(cell, N, T, D, H, rng, masked=True)
    h_ref, cache_ref = spec.forward(x, *states0.values(), *params.values(), mask=mask)
    as32 = lambda arrays: [a.astype(np.float32) for a in arrays]
    h, cache = forward(x.astype(np.float32), *as32(states0.values()), *as32(params.values()),
                       mask=mask)
    assert h.dtype == np.float32
    assert scaled_error(h, h_ref) < 1e-5
    dh = rng.standard_normal(h.shape)
    grads = backward(dh.astype(np.float32), cache)
    assert all(g.dtype == np.float32 for g in grads)
    for got, expected in zip(grads, spec.backward(dh, cache_ref)):
        assert scaled_error(got, expected) < 1e-4


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_kernel_rejects_what_the_reference_rejects(cell, rng):
    spec, (forward, backward) = CELLS[cell], kernels(cell)
    x, states0, params, _ = cell_problem(cell, 2, 3, 4, 5, rng)
    states, weights = list(states0.values()), list(params.values())
    bad_calls = {
        "x": (x[:, :, :3], states, weights),
        "h0": (x, [states[0][:, :4]] + states[1:], weights),
        "Wh": (x, states, [weights[0], weights[1][:, 1:]] + weights[2:]),
    }
    for name, (bad_x, bad_states, bad_weights) in bad_calls.items():
        with pytest.raises(ValueError, match=name):
            spec.forward(bad_x, *bad_states, *bad_weights)
        with pytest.raises(ValueError, match=name):
            forward(bad_x, *bad_states, *bad_weights)
    with pytest.raises(ValueError, match="mask"):
        forward(x, *states, *weights, mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="non-finite"):
        forward(np.full_like(x, np.nan), *states, *weights)
    # the kernel also checks what a compiled loop would otherwise read out of bounds
    with pytest.raises(ValueError, match="b must have shape"):
        forward(x, *states, weights[0], weights[1], weights[2][:-1], *weights[3:])
    with pytest.raises(TypeError, match="float32 or float64"):
        forward(x.astype(np.float16), *states, *weights)
    h, cache = forward(x, *states, *weights)
    with pytest.raises(ValueError, match="dh must have shape"):
        backward(np.ones((2, 3, 4)), cache)
    with pytest.raises(ValueError, match="dhT must have shape"):
        backward(np.ones_like(h), cache, np.ones((2, 4)))


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_checked_kernels_still_check_what_keeps_the_loops_in_bounds(cell, rng):
    """With checked=True (the stack's calls) the kernels skip the scans of values the stack has
    checked, but every shape a compiled loop indexes with is still checked, with the same
    messages."""
    forward, backward = (functools.partial(f, checked=True) for f in kernels(cell))
    x, states0, params, _ = cell_problem(cell, 2, 3, 4, 5, rng)
    states, weights = list(states0.values()), list(params.values())
    bad_forward_calls = {
        r"x must have shape \(N, T, 4\)": (x[:, :, :3], states, weights),
        "h0 must have shape": (x, [states[0][:1]] + states[1:], weights),
        "Wh must have shape": (x, states, [weights[0], weights[1][:, 1:]] + weights[2:]),
        "b must have shape": (x, states, weights[:2] + [weights[2][:-1]] + weights[3:]),
    }
    for message, (bad_x, bad_states, bad_weights) in bad_forward_calls.items():
        with pytest.raises(ValueError, match=message):
            forward(bad_x, *bad_states, *bad_weights)
    with pytest.raises(ValueError, match="mask must have shape"):
        forward(x, *states, *weights, mask=np.ones((2, 4), bool))
    h, cache = forward(x, *states, *weights)
    expected_h, _ = kernels(cell)[0](x, *states, *weights)
    np.testing.assert_array_equal(h, expected_h)
    with pytest.raises(ValueError, match="dh must have shape"):
        backward(np.ones((2, 3, 4)), cache)
    with pytest.raises(ValueError, match="dhT must have shape"):
        backward(np.ones_like(h), cache, np.ones((2, 4)))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_stack_with_a_replaced_parameter_of_the_wrong_shape_raises(backend, rng):
    net = StackedRNN("lstm", 3, [4, 4], backend=backend)
    net.params["layers.2.fwd.Wh"] = rng.standard_normal((4, 12))
    with pytest.raises(ValueError, match=r"net.params\['layers.2.fwd.Wh'\] has shape \(4, 12\); "
                                         r"expected \(4, 16\)"):
        net.forward(rng.standard_normal((2, 6, 3)))


# ---- whole stacks on both backends -----------------------------------------------------------
def stack_configs(count_extra=6, seed=2024):
    """Every (cell, bidirectional, skip, return_sequences) combination once, plus a few more,
    each with random sizes: N in 1..8, T in 1..20, H in 1..40, 1..4 layers."""
    rng = np.random.default_rng(seed)
    combos = list(itertools.product(CELL_NAMES, [False, True], [False, True], [True, False]))
    combos += [(CELL_NAMES[k % 3], bool(rng.integers(2)), bool(rng.integers(2)),
                bool(rng.integers(2))) for k in range(count_extra)]
    configs = []
    for cell, bidirectional, skip, return_sequences in combos:
        layers = int(rng.integers(1, 5))
        if skip:  # a skip edge adds outputs of equal width, so one H for all layers
            hidden = [int(rng.integers(1, 41))] * layers
        else:
            hidden = [int(h) for h in rng.integers(1, 41, size=layers)]
        configs.append(dict(cell=cell, input_size=int(rng.integers(1, 9)), hidden_sizes=hidden,
                            bidirectional=bidirectional, skip="l-2" if skip else None,
                            return_sequences=return_sequences, N=int(rng.integers(1, 9)),
                            T=int(rng.integers(1, 21)), seed=int(rng.integers(1000))))
    return configs


@pytest.mark.parametrize("config", stack_configs(),
                         ids=lambda c: "{cell}-bi{bidirectional:d}-skip{s}-seq{return_sequences:d}"
                         .format(s=c["skip"] is not None, **c))
def test_stack_numba_matches_numpy(config):
    config = dict(config)
    N, T, seed = config.pop("N"), config.pop("T"), config.pop("seed")
    rng = np.random.default_rng(seed)
    net = StackedRNN(**config, seed=seed, backend="numpy")
    x = rng.standard_normal((N, T, net.input_size))
    initial = net.random_states(N, rng)
    y_ref, states_ref, cache_ref = net.forward(x, initial)
    y, states, cache = net.forward(x, initial, backend="numba")
    assert scaled_error(y, y_ref) < TOL64
    for layer, layer_ref in zip(states, states_ref):
        for name in layer_ref:
            assert scaled_error(layer[name], layer_ref[name]) < TOL64, name

    dy = rng.standard_normal(y.shape)
    dstates = [{name: rng.standard_normal(s.shape) for name, s in layer.items()}
               for layer in states]
    dx_ref, grads_ref, dinit_ref = net.backward(dy, cache_ref, dstates, return_dinitial=True)
    dx, grads, dinit = net.backward(dy, cache, dstates, return_dinitial=True)
    assert cache.backend == "numba" and cache_ref.backend == "numpy"
    assert scaled_error(dx, dx_ref) < TOL64
    assert set(grads) == set(grads_ref) == set(net.params)
    for name in grads_ref:
        assert scaled_error(grads[name], grads_ref[name]) < TOL64, name
    for layer, layer_ref in zip(dinit, dinit_ref):
        for name in layer_ref:
            assert scaled_error(layer[name], layer_ref[name]) < TOL64, name


def test_stack_numba_float32_close_to_float64(rng):
    net = StackedRNN("lstm", 3, [8, 8], bidirectional=True, seed=1, backend="numpy")
    x = rng.standard_normal((4, 10, 3))
    y_ref, _, cache_ref = net.forward(x)
    net32 = net.astype(np.float32)
    y, _, cache = net32.forward(x.astype(np.float32), backend="numba")
    assert y.dtype == np.float32 and scaled_error(y, y_ref) < 1e-5
    dy = rng.standard_normal(y.shape)
    _, grads_ref = net.backward(dy, cache_ref)
    _, grads = net32.backward(dy.astype(np.float32), cache)
    for name in grads_ref:
        assert grads[name].dtype == np.float32
        assert scaled_error(grads[name], grads_ref[name]) < 1e-4, name


# ---- backend selection -----------------------------------------------------------------------
def test_backend_default_comes_from_environment(monkeypatch):
    monkeypatch.delenv("MINIRNN_BACKEND", raising=False)
    assert resolve_backend(None) == "numba"
    assert StackedRNN("gru", 2, [3]).backend == "numba"
    monkeypatch.setenv("MINIRNN_BACKEND", "numpy")
    assert resolve_backend(None) == "numpy"
    assert StackedRNN("gru", 2, [3]).backend == "numpy"
    assert resolve_backend("numba") == "numba"  # an explicit choice beats the environment
    assert CELLS["lstm"].sequence_functions("numba") == (lstm.lstm_forward, lstm.lstm_backward)
    forward, backward = CELLS["lstm"].sequence_functions(None)  # the environment's: numpy
    assert forward.func is sequence_forward and backward.func is sequence_backward
    assert forward.args == backward.args == (CELLS["lstm"],)


def test_unknown_backend_is_a_value_error(monkeypatch):
    with pytest.raises(ValueError, match="backend must be one of"):
        resolve_backend("torch")
    with pytest.raises(ValueError, match="backend must be one of"):
        StackedRNN("rnn", 2, [3], backend="cuda")
    monkeypatch.setenv("MINIRNN_BACKEND", "fortran")
    with pytest.raises(ValueError, match="MINIRNN_BACKEND"):
        StackedRNN("rnn", 2, [3])


def test_per_call_backend_overrides_the_network(rng):
    net = StackedRNN("rnn", 2, [3], seed=0, backend="numpy")
    x = rng.standard_normal((2, 4, 2))
    _, _, cache = net.forward(x, backend="numba")
    assert cache.backend == "numba"
    _, _, cache = net.forward(x)
    assert cache.backend == "numpy"


# ---- few-row products --------------------------------------------------------------------------
@pytest.mark.parametrize("N, K, M", [(2, 3, 5), (7, 16, 64), (4, 64, 16)])
def test_small_matmul_is_the_matrix_product(N, K, M, rng):
    a, W = rng.standard_normal((N, K)), rng.standard_normal((K, M))
    out = np.full((N, M), np.nan)
    small_matmul(a, W, out)
    np.testing.assert_allclose(out, a @ W, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("K, M", [(1, 1), (7, 28), (16, 64), (13, 9)])
def test_recurrent_weights_T(K, M, rng):
    """Wh.T: a view for one row per product call, else a C-contiguous copy made in tiles."""
    Wh = rng.standard_normal((K, M)).astype(np.float32)
    view, copy = recurrent_weights_T(Wh, 1), recurrent_weights_T(Wh, 4)
    assert np.shares_memory(view, Wh) and view.shape == (M, K)
    assert copy.flags.c_contiguous and not np.shares_memory(copy, Wh)
    np.testing.assert_array_equal(copy, Wh.T)
    np.testing.assert_array_equal(view, Wh.T)


def test_few_row_products_follow_the_blas_kernel_family():
    """The loop only for OpenBLAS's AVX2 families, measured to pack small matrices; BLAS for its
    AVX-512 families (a small-matrix path), for an unknown family and for no OpenBLAS."""
    assert blas.loop_below("Haswell") == blas.loop_below("ZEN") == FEW_ROWS
    assert blas.loop_below("SkylakeX") == blas.loop_below("Cooperlake") == 0
    assert blas.loop_below(None) == 0
    family = blas.scipy_openblas_family()
    assert family is None or (isinstance(family, str) and family)
    assert blas.few_rows_limit() == blas.loop_below(family)
