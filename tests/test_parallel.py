"""The kernels' thread split (kernels/parallel.py): rows cut into blocks of whole product calls,
the steps cut into parts for the weight gradients. With the split forced on small problems: the
same results as the NumPy reference, and bit for bit the same results on 1, 2 or 3 threads."""
import numpy as np
import pytest

from minirnn import StackedRNN, threads
from minirnn.cells import CELLS
from minirnn.kernels import blas, parallel

from conftest import random_cell_params, random_states
from test_kernels import assert_caches_match, assert_gradients_match, kernels

CELL_NAMES = ["rnn", "lstm", "gru"]


@pytest.fixture
def forced_split(monkeypatch):
    """Every layer splits: 3 rows per product call, no work threshold, three parts of the steps
    for the weight gradients, summed in runs of 5 rows (whatever this machine's BLAS and cores)."""
    monkeypatch.setattr(parallel, "rows_per_call", lambda N, K, M: 3)
    monkeypatch.setattr(parallel, "MIN_SPLIT_WORK", 0)
    monkeypatch.setattr(parallel, "rows_per_run", lambda K, M: 5)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 3)
    before = threads.chosen["loop"]
    yield
    threads.chosen["loop"] = before


def problem(cell, dtype, rng, N=11, T=7, D=5, H=6):
    """x, initial states, parameters (biases nonzero), a mask, a recurrent-dropout mask, dh and
    gradients on the final states."""
    x = rng.standard_normal((N, T, D)).astype(dtype)
    states0 = random_states(cell, N, H, rng, dtype=dtype)
    params = random_cell_params(cell, D, H, rng, scale=1.0 / np.sqrt(H), dtype=dtype)
    mask = rng.random((N, T)) < 0.7
    rmask = rng.choice([0.0, 2.0], size=(N, H)).astype(dtype)
    dh = rng.standard_normal((N, T, H)).astype(dtype)
    finals = [rng.standard_normal((N, H)).astype(dtype) for _ in CELLS[cell].state_names]
    return x, states0, params, mask, rmask, dh, finals


def run_kernels(cell, loop_threads, x, states0, params, mask, rmask, dh, finals):
    threads.chosen["loop"] = loop_threads
    forward, backward = kernels(cell)
    h, cache = forward(x, *states0.values(), *params.values(), mask=mask, recurrent_mask=rmask)
    return h, cache, backward(dh, cache, *finals)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_split_kernels_match_the_reference(cell, forced_split, rng):
    x, states0, params, mask, rmask, dh, finals = problem(cell, np.float64, rng)
    assert parallel.splits(11, 3, 0)
    spec = CELLS[cell]
    h_ref, cache_ref = spec.forward(x, *states0.values(), *params.values(), mask=mask,
                                    recurrent_mask=rmask)
    h, cache, grads = run_kernels(cell, 2, x, states0, params, mask, rmask, dh, finals)
    assert np.max(np.abs(h - h_ref)) < 1e-12
    assert_caches_match(cache, cache_ref, 1e-12)
    assert_gradients_match(grads, spec.backward(dh, cache_ref, *finals), 1e-12)


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_results_do_not_depend_on_the_thread_count(cell, dtype, forced_split, rng):
    data = problem(cell, dtype, rng)
    runs = [run_kernels(cell, n, *data) for n in (1, 2, 3)]
    h1, cache1, grads1 = runs[0]
    for h, cache, grads in runs[1:]:
        np.testing.assert_array_equal(h, h1)
        for key, value in cache1.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(cache[key], value, err_msg=key)
        for got, expected in zip(grads, grads1):
            np.testing.assert_array_equal(got, expected)


def test_whole_stacks_agree_across_thread_counts(rng):
    """The real split (this machine's BLAS and threshold) of a 2-layer LSTM, a bidirectional
    GRU and a tanh RNN: 1 and 2 threads give the same bits, as they must on any machine."""
    before = threads.chosen["loop"]
    try:
        for cell, kwargs in (("lstm", {}), ("gru", {"bidirectional": True}), ("rnn", {})):
            net = StackedRNN(cell, 32, [64, 64], seed=3, dtype=np.float32, backend="numba",
                             **kwargs)
            x = rng.standard_normal((40, 50, 32)).astype(np.float32)
            results = []
            for n in (1, 2):
                threads.chosen["loop"] = n
                y, _, cache = net.forward(x)
                results.append((y, *net.backward(np.ones_like(y), cache)))
            (y1, dx1, g1), (y2, dx2, g2) = results
            np.testing.assert_array_equal(y1, y2)
            np.testing.assert_array_equal(dx1, dx2)
            assert all(np.array_equal(g1[k], g2[k]) for k in g1)
    finally:
        threads.chosen["loop"] = before


@pytest.mark.parametrize("N, rows, threads_", [(32, 16, 2), (40, 16, 2), (11, 3, 3), (5, 8, 2),
                                               (9, 4, 8)])
def test_row_blocks_are_runs_of_whole_calls(N, rows, threads_):
    blocks = parallel.row_blocks(N, rows, threads_)
    assert blocks[0][0] == 0 and blocks[-1][1] == N
    assert all(hi == lo for (_, hi), (lo, _) in zip(blocks, blocks[1:]))  # contiguous, no gap
    assert all(lo % rows == 0 and hi > lo for lo, hi in blocks)
    assert len(blocks) == min(threads_, -(-N // rows))


def test_even_parts_cover_the_steps():
    assert parallel.even_parts(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert parallel.even_parts(2, 5) == [(0, 1), (1, 2)]
    assert parallel.even_parts(7, 1) == [(0, 7)]


def test_rows_per_call_stays_on_the_small_path():
    assert blas.call_rows("SkylakeX", 32, 64, 256) == 16  # 16 * 64 * 256 = 262,144
    assert blas.call_rows("SkylakeX", 32, 128, 512) == 8  # 16 rows would be 1,048,576
    assert blas.call_rows("SkylakeX", 32, 256, 1024) == 32  # not even 4 rows fit: one call
    assert blas.call_rows("Haswell", 32, 64, 256) == 32  # no small path: one call
    assert blas.call_rows(None, 7, 64, 256) == 7
    assert not parallel.splits(32, 32, 10**9) and not parallel.splits(32, 16, 10)
    assert parallel.splits(32, 16, parallel.MIN_SPLIT_WORK)
    assert blas.gradient_rows("SkylakeX", 64, 256) == 48  # 48 * 64 * 256 = 786,432
    assert blas.gradient_rows("SkylakeX", 128, 512) == 0  # not even 32 rows fit: one product
    assert blas.gradient_rows("Haswell", 16, 64) == 0
