"""Finite-difference checks of every cell's step and sequence functions (float64, nonzero biases
and initial states), masks, and float32 against float64."""
import numpy as np
import pytest

from minirnn.cells import (CELLS, gru_step_backward, gru_step_forward, lstm_step_backward,
                           lstm_step_forward, rnn_step_backward, rnn_step_forward,
                           sequence_backward, sequence_forward, step_cache)
from minirnn.gradcheck import check_gradients

from conftest import random_cell_params, random_states

N, T, D, H = 3, 5, 4, 5
TOL = 1e-7


def check_sequence_gradients(cell, rng, mask=None, final_grads=True, recurrent_mask=None):
    spec = CELLS[cell]
    x = rng.standard_normal((N, T, D))
    params = random_cell_params(cell, D, H, rng)
    states0 = random_states(cell, N, H, rng)

    def run():
        h, cache = spec.forward(x, *states0.values(), *params.values(), mask=mask,
                                recurrent_mask=recurrent_mask)
        return [h, *spec.final_states(cache)]

    outs = run()
    douts = [rng.standard_normal(o.shape) for o in outs]
    if not final_grads:
        douts[1:] = [None] * (len(douts) - 1)
    _, cache = spec.forward(x, *states0.values(), *params.values(), mask=mask,
                            recurrent_mask=recurrent_mask)
    dx, *rest = spec.backward(douts[0], cache, *douts[1:])
    analytic = {"x": dx, **dict(zip(states0, rest)), **dict(zip(params, rest[len(states0):]))}
    errors = check_gradients(run, {"x": x, **states0, **params}, analytic, douts)
    assert set(errors) == set(analytic)
    return errors


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("final_grads", [True, False])
def test_sequence_backward_matches_finite_differences(cell, final_grads, rng):
    errors = check_sequence_gradients(cell, rng, final_grads=final_grads)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_masked_sequence_backward_matches_finite_differences(cell, rng):
    mask = rng.random((N, T)) < 0.6
    mask[0] = False  # a sequence that never steps keeps its initial state
    errors = check_sequence_gradients(cell, rng, mask=mask)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_recurrent_dropout_backward_matches_finite_differences(cell, rng):
    """A fixed (N, H) recurrent mask of 0 and 1/(1-p), with a step mask as well."""
    recurrent_mask = rng.choice([0.0, 1 / 0.6], size=(N, H), p=[0.4, 0.6])
    errors = check_sequence_gradients(cell, rng, mask=rng.random((N, T)) < 0.7,
                                      recurrent_mask=recurrent_mask)
    assert max(errors.values()) < TOL, errors


STEPS = {
    "rnn": (rnn_step_forward, rnn_step_backward, ["prev_h"]),
    "lstm": (lstm_step_forward, lstm_step_backward, ["prev_h", "prev_c"]),
    "gru": (gru_step_forward, gru_step_backward, ["prev_h"]),
}


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_step_backward_matches_finite_differences(cell, rng):
    step_forward, step_backward, state_names = STEPS[cell]
    x = rng.standard_normal((N, D))
    states = {name: 0.5 * rng.standard_normal((N, H)) for name in state_names}
    params = random_cell_params(cell, D, H, rng)

    def run():
        return list(step_forward(x, *states.values(), *params.values())[:-1])

    douts = [rng.standard_normal((N, H)) for _ in state_names]
    cache = step_forward(x, *states.values(), *params.values())[-1]
    dx, *rest = step_backward(*douts, cache)
    analytic = {"x": dx, **dict(zip(states, rest)), **dict(zip(params, rest[len(states):]))}
    errors = check_gradients(run, {"x": x, **states, **params}, analytic, douts)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_masked_steps_carry_state_and_get_no_gradient(cell, rng):
    spec = CELLS[cell]
    x = rng.standard_normal((N, T, D))
    params = random_cell_params(cell, D, H, rng)
    states0 = random_states(cell, N, H, rng)
    mask = np.ones((N, T), bool)
    mask[1, 2:] = False  # sequence 1 has length 2
    h, cache = spec.forward(x, *states0.values(), *params.values(), mask=mask)
    np.testing.assert_array_equal(h[1, 2:], np.broadcast_to(h[1, 1], (T - 2, H)))
    # the padded run equals the unpadded run of the first two steps
    short, _ = spec.forward(x[1:2, :2], *(s[1:2] for s in states0.values()), *params.values())
    np.testing.assert_allclose(h[1, :2], short[0], rtol=0, atol=1e-14)
    dx, *_ = spec.backward(rng.standard_normal(h.shape), cache)
    assert np.all(dx[1, 2:] == 0) and np.all(dx[1, :2] != 0)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_float32_agrees_with_float64(cell, rng):
    spec = CELLS[cell]
    x = rng.standard_normal((N, T, D))
    params = random_cell_params(cell, D, H, rng)
    states0 = random_states(cell, N, H, rng)
    dh = rng.standard_normal((N, T, H))
    results = {}
    for dtype in (np.float64, np.float32):
        cast = lambda a: a.astype(dtype)  # noqa: E731
        h, cache = spec.forward(cast(x), *map(cast, states0.values()), *map(cast, params.values()))
        grads = spec.backward(cast(dh), cache)
        assert h.dtype == dtype and all(g.dtype == dtype for g in grads)
        results[dtype] = [h, *grads]
    for a64, a32 in zip(results[np.float64], results[np.float32]):
        assert np.max(np.abs(a64 - a32)) <= 1e-5 * max(1.0, np.max(np.abs(a64)))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_step_cache_reads_back_what_each_step_forward_cached(cell, rng):
    """The sequence cache keeps every entry of every step's cache: read back at step t, each is
    the value the step forward produced there (one copy of the maths: BPTT calls the step
    backward on exactly these)."""
    spec = CELLS[cell]
    x = rng.standard_normal((N, T, D))
    params = list(random_cell_params(cell, D, H, rng).values())
    states = list(random_states(cell, N, H, rng).values())
    rmask = rng.choice([0.0, 2.0], size=(N, H))
    _, cache = spec.forward(x, *states, *params, recurrent_mask=rmask)
    for t in range(T):
        *states, expected = spec.step_forward(x[:, t], *states, *params, rmask)
        stored = step_cache(spec, cache, t)
        for key, value in expected.items():
            np.testing.assert_array_equal(stored[key], value, err_msg=f"{key} at t={t}")


def test_sequence_functions_say_what_they_take(rng):
    spec = CELLS["lstm"]
    x, h0 = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5))
    params = random_cell_params("lstm", 4, 5, rng).values()
    with pytest.raises(TypeError, match=r"take x, then the initial states \('h', 'c'\), then "
                                        r"the parameters \('Wx', 'Wh', 'b'\); got 4 arrays"):
        sequence_forward(spec, x, h0, *params)
    h, cache = spec.forward(x, h0, h0, *params)
    with pytest.raises(ValueError, match=r"dh must have shape \(2, 3, 5\)"):
        sequence_backward(spec, h[:, :2], cache)
    with pytest.raises(ValueError, match=r"dcT must have shape \(2, 5\)"):
        sequence_backward(spec, h, cache, None, h0[:1])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_truncated_bptt_is_the_windowed_backward_of_fit(cell, k, rng):
    """truncate=k equals running each window of k steps on its own, from the previous window's
    final states taken as constants (what fit(truncate_bptt=k) does), and summing."""
    spec, T7 = CELLS[cell], 7
    x = rng.standard_normal((N, T7, D))
    params = list(random_cell_params(cell, D, H, rng).values())
    states = list(random_states(cell, N, H, rng).values())
    dh = rng.standard_normal((N, T7, H))
    _, cache = spec.forward(x, *states, *params)
    dx, *rest = sequence_backward(spec, dh, cache, truncate=k)
    expected_dx, expected_params = np.zeros_like(x), [np.zeros_like(p) for p in params]
    for start in range(0, T7, k):
        window = slice(start, min(start + k, T7))
        _, window_cache = spec.forward(x[:, window], *states, *params)
        wdx, *wrest = spec.backward(dh[:, window], window_cache)
        if start == 0:
            expected_initial = wrest[:len(states)]
        expected_dx[:, window] = wdx
        for total, g in zip(expected_params, wrest[len(states):]):
            total += g
        states = spec.final_states(window_cache)
    for got, expected in zip([dx, *rest], [expected_dx, *expected_initial, *expected_params]):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    full = sequence_backward(spec, dh, cache)
    assert (np.abs(full[0] - dx).max() > 1e-3) == (k < T7)  # it drops something unless k >= T
    with pytest.raises(ValueError, match="truncate must be None or a positive int"):
        sequence_backward(spec, dh, cache, truncate=0)
