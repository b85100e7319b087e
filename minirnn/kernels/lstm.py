"""LSTM over a sequence, compiled with Numba: the fast path for minirnn/cells/lstm.py.

Mirrors `lstm_forward` and `lstm_backward` of the NumPy reference: the same arguments, the same
cache {x, h0, c0, Wx, Wh, b, ifgo, c, tanh_c, h, mask, recurrent_mask} and the same gradients, so
either backward accepts either forward's cache. The equations are in the reference's docstring
(gate order i, f, g, o; row-vector layout a_t = x_t @ Wx + h_{t-1} @ Wh + b).

Shape legend: N batch, T time steps, D input features, H hidden units. Inside, every sequence
array is time-major, (T, N, ...) (see arrays.py).

    forward   ax = x @ Wx + b for all steps, one matrix product (products.py); then per step
              one product h_{t-1} @ Wh and one sweep over the batch rows (`forward_step`):
              gates, c_t, tanh(c_t), h_t.
    backward  per step one sweep over the rows (`backward_step`): da_t for the four gates and
              dc_{t-1}; then one product da_t @ Wh.T; after the loop dx, dWx, dWh and db from the
              da of all steps at once.

The time loops take a block of rows lo:hi, so that blocks run side by side on the cores
(parallel.py); when the batch is split so, ax and dx are made step by step inside the loops and
the weight gradients in parts of the steps. Nothing is allocated inside the time loop. Each
step's sweep is its own compiled function, and a row's sweep is two short loops rather than one:
LLVM vectorizes a loop only when it can check at run time that its arrays do not overlap, gives
up on a loop that touches more than a handful of arrays, and optimizes a small function taking
its slabs as arguments far better than the same loop inlined among the matrix-product calls
(about 5x on the sweep here).
"""
import numpy as np

from ..cells.lstm import LSTM
from .arrays import (batch_major, check_backward, check_forward_inputs, contiguous,
                     dropped_states, empty, final_gradient, loop_mask, recurrent_mask_array,
                     recurrent_weights_T, time_major)
from .blas import few_rows_limit
from .jit import jit
from .loops import add_into, copy_into, fill, take_rows
from .parallel import plan, run_rows, weight_gradients
from .products import (drop_rows, input_gradient, project_inputs, step_product,
                       step_products)
from .scalar import dsigmoid, dtanh, sigmoid, tanh


@jit(inline="always")
def gates_forward(a_h, ifgo):
    """One row, in place: ifgo holds x_t @ Wx + b on entry and the gates i, f, g, o on exit.
    a_h: (4H,) = h_{t-1} @ Wh."""
    H = ifgo.shape[0] // 4
    a_if, out_if = a_h[:2 * H], ifgo[:2 * H]
    for j in range(2 * H):
        out_if[j] = sigmoid(out_if[j] + a_if[j])  # i, f
    a_g, out_g = a_h[2 * H:3 * H], ifgo[2 * H:3 * H]
    a_o, out_o = a_h[3 * H:], ifgo[3 * H:]
    for j in range(H):
        out_g[j] = tanh(out_g[j] + a_g[j])
        out_o[j] = sigmoid(out_o[j] + a_o[j])


@jit(inline="always")
def cell_forward(ifgo, prev_c, next_c, tanh_c, next_h):
    """One row: c_t = f * c_{t-1} + i * g, tanh(c_t), h_t = o * tanh(c_t)."""
    H = prev_c.shape[0]
    i, f, g, o = ifgo[:H], ifgo[H:2 * H], ifgo[2 * H:3 * H], ifgo[3 * H:]
    for j in range(H):
        c = f[j] * prev_c[j] + i[j] * g[j]
        tc = tanh(c)
        next_c[j] = c
        tanh_c[j] = tc
        next_h[j] = o[j] * tc


@jit
def forward_step(a_h, ifgo, prev_c, next_c, tanh_c, prev_h, next_h, steps):
    """One step for every row. a_h: (N, 4H) = h_{t-1} @ Wh; ifgo: (N, 4H) holds x_t @ Wx + b on
    entry and the gates on exit; writes next_c, tanh_c, next_h: (N, H). steps: (N,) bool."""
    for n in range(ifgo.shape[0]):
        gates_forward(a_h[n], ifgo[n])
        cell_forward(ifgo[n], prev_c[n], next_c[n], tanh_c[n], next_h[n])
        if not steps[n]:  # skipped step: carry both states
            copy_into(next_c[n], prev_c[n])
            copy_into(next_h[n], prev_h[n])


@jit(nogil=True)
def lstm_forward_rows(x, Wx, b, Wh, rmask, steps, hs, cs, tanh_c, ifgo, each_step, loop_below,
                      rows, lo, hi):
    """The time loop for the batch rows lo:hi (parallel.py runs blocks side by side).
    x: (T, N, D); rmask: (N, H) recurrent-dropout mask or (0, 0); steps: (T, N) bool, False where
    a row skips the step and carries its state. hs, cs: (T+1, N, H) hold h0, c0 in slot 0 on
    entry; writes the states after step t into slot t+1, tanh_c: (T, N, H) and the gates
    ifgo: (T, N, 4H). each_step: x_t @ Wx + b step by step for the block's rows, else for all
    rows at once (one block). loop_below, rows: how the per-step products go
    (products.step_product)."""
    if not each_step:
        project_inputs(x, Wx, b, ifgo)
    a_h = np.empty((hi - lo, Wh.shape[1]), ifgo.dtype)  # (h_{t-1} * m) @ Wh of the current step
    h_dropped = np.empty((hi - lo, Wh.shape[0]), ifgo.dtype)
    for t in range(ifgo.shape[0]):
        step_products(x[t, lo:hi], Wx, b, hs[t, lo:hi], rmask[lo:hi], h_dropped, Wh,
                      ifgo[t, lo:hi], a_h, each_step, loop_below, rows)
        forward_step(a_h, ifgo[t, lo:hi], cs[t, lo:hi], cs[t + 1, lo:hi], tanh_c[t, lo:hi],
                     hs[t, lo:hi], hs[t + 1, lo:hi], steps[t, lo:hi])


@jit(inline="always")
def cell_backward(ifgo, tanh_c, prev_c, dh, dc, da):
    """One row. dh: dLoss/dh_t; dc: dLoss/dc_t from step t+1 on entry, dLoss/dc_{t-1} on exit.
    Writes da: (4H,) = dLoss/da_t."""
    H = dh.shape[0]
    i, f, g, o = ifgo[:H], ifgo[H:2 * H], ifgo[2 * H:3 * H], ifgo[3 * H:]
    da_i, da_f, da_g, da_o = da[:H], da[H:2 * H], da[2 * H:3 * H], da[3 * H:]
    for j in range(H):
        # forward: h = o * tanh(c)
        do = dh[j] * tanh_c[j]
        dc_j = dc[j] + dh[j] * o[j] * dtanh(tanh_c[j])
        # forward: c = f * c_prev + i * g
        da_i[j] = dc_j * g[j] * dsigmoid(i[j])
        da_f[j] = dc_j * prev_c[j] * dsigmoid(f[j])
        da_g[j] = dc_j * i[j] * dtanh(g[j])
        da_o[j] = do * dsigmoid(o[j])
        dc[j] = dc_j * f[j]


@jit
def backward_step(dh, ifgo, tanh_c, prev_c, dnext_h, dnext_c, da, steps):
    """One step for every row, (N, ...) slabs of step t. dnext_h, dnext_c: the gradients on
    h_t, c_t from the steps after t; on exit dnext_h holds all of dLoss/dh_t and dnext_c holds
    dLoss/dc_{t-1}. Writes da: (N, 4H)."""
    for n in range(dh.shape[0]):
        add_into(dnext_h[n], dh[n])  # h_t feeds the output at t and step t+1
        if steps[n]:
            cell_backward(ifgo[n], tanh_c[n], prev_c[n], dnext_h[n], dnext_c[n], da[n])
        else:  # skipped step: no gradient through it; dh, dc carry to step t-1 unchanged
            fill(da[n], 0.0)


@jit(nogil=True)
def lstm_backward_rows(dh, c0, c, ifgo, tanh_c, Wh_T, Wx_T, rmask, steps, dh_next, dc_next, da,
                       dx, each_step, loop_below, rows, lo, hi):
    """BPTT's time loop for the batch rows lo:hi (parallel.py runs blocks side by side), on
    time-major arrays. dh, c, tanh_c: (T, N, H); dh_next, dc_next: (N, H) hold the gradients on
    the final states and are updated in place, step by step, into dh0, dc0. Wh_T: (4H, H) =
    Wh.T (arrays.recurrent_weights_T), Wx_T: (4H, D) (Wx.T, a view). Writes da: (T, N, 4H)
    and dx: (T, N, D), step by step for the block's rows when each_step, else for all rows at
    once after the loop (one block)."""
    dprev_h = np.empty((hi - lo, Wh_T.shape[1]), dh.dtype)  # da_t @ Wh.T
    for t in range(dh.shape[0] - 1, -1, -1):
        prev_c = c0[lo:hi] if t == 0 else c[t - 1, lo:hi]
        backward_step(dh[t, lo:hi], ifgo[t, lo:hi], tanh_c[t, lo:hi], prev_c, dh_next[lo:hi],
                      dc_next[lo:hi], da[t, lo:hi], steps[t, lo:hi])
        # forward: a_t = x_t @ Wx + (h_{t-1} * m) @ Wh + b
        step_product(da[t, lo:hi], Wh_T, dprev_h, loop_below, rows)
        drop_rows(dprev_h, rmask[lo:hi])
        take_rows(dh_next[lo:hi], dprev_h, steps[t, lo:hi])
        if each_step:
            step_product(da[t, lo:hi], Wx_T, dx[t, lo:hi], loop_below, rows)
    if not each_step:
        input_gradient(da, Wx_T, dx)


def lstm_forward(x, h0, c0, Wx, Wh, b, mask=None, recurrent_mask=None, checked=False):
    """Run the cell over a whole sequence; the signature, checks and cache of
    minirnn.cells.lstm_forward. x: (N, T, D), h0, c0: (N, H); mask: None or (N, T) bool;
    recurrent_mask: None or (N, H). checked=True: the caller (StackedRNN) has checked x, the
    states and the mask, so only the shapes that keep the compiled loop in bounds are checked.

    Returns h: (N, T, H) and the cache {x, h0, c0, Wx, Wh, b, ifgo, c, tanh_c, h, mask,
    recurrent_mask}. Arrays are float32 or float64 as x; h and the cache's sequences are
    (N, T, ...) views of time-major data.
    """
    mask, dtype = check_forward_inputs(LSTM, x, (h0, c0), (Wx, Wh, b), mask, checked)
    N, T, _ = x.shape
    H = Wh.shape[0]
    xs = time_major(x, dtype)
    h0, c0, Wx, Wh, b = contiguous(dtype, h0, c0, Wx, Wh, b)
    hs, cs, tanh_c, ifgo = empty(dtype, (T + 1, N, H), (T + 1, N, H), (T, N, H), (T, N, 4 * H))
    hs[0], cs[0] = h0, c0
    rmask = recurrent_mask_array(recurrent_mask, h0, dtype)
    rows, split = plan(N, T, xs.shape[2], H, 4 * H)
    run_rows(lstm_forward_rows, N, rows, split, xs, Wx, b, Wh, rmask, loop_mask(mask, N, T), hs,
             cs, tanh_c, ifgo, split, few_rows_limit(), rows)
    h = batch_major(hs[1:])
    cache = {"x": batch_major(xs), "h0": h0, "c0": c0, "Wx": Wx, "Wh": Wh, "b": b,
             "ifgo": batch_major(ifgo), "c": batch_major(cs[1:]), "tanh_c": batch_major(tanh_c),
             "h": h, "mask": mask, "recurrent_mask": recurrent_mask}
    return h, cache


def lstm_backward(dh, cache, dhT=None, dcT=None, checked=False):
    """Full BPTT; the signature and results of minirnn.cells.lstm_backward. dh: (N, T, H);
    dhT, dcT: (N, H) or None; cache from either backend's `lstm_forward`. checked=True: the
    caller has checked dh, dhT and dcT, so only their shapes are checked here.

    Returns dx: (N, T, D), dh0, dc0: (N, H), dWx, dWh, db.
    """
    dtype, (N, T, H) = check_backward(LSTM, dh, cache, (dhT, dcT), checked)
    x, h, c, ifgo, tanh_c = (time_major(cache[k], dtype)
                             for k in ("x", "h", "c", "ifgo", "tanh_c"))
    h0, c0, Wx, Wh = contiguous(dtype, cache["h0"], cache["c0"], cache["Wx"], cache["Wh"])
    dh0, dc0 = final_gradient(dhT, N, H, dtype), final_gradient(dcT, N, H, dtype)
    da, dx, dWx, dWh, db = empty(dtype, (T, N, 4 * H), (T, N, x.shape[2]), Wx.shape, Wh.shape,
                                 (4 * H,))
    rmask = recurrent_mask_array(cache["recurrent_mask"], h0, dtype)
    h0_rec, h_rec = dropped_states(h0, h, rmask)
    rows, split = plan(N, T, x.shape[2], H, 4 * H)
    run_rows(lstm_backward_rows, N, rows, split, time_major(dh, dtype), c0, c, ifgo, tanh_c,
             recurrent_weights_T(Wh, rows), Wx.T, rmask, loop_mask(cache["mask"], N, T), dh0, dc0,
             da, dx, split, few_rows_limit(), rows)
    weight_gradients(x, da, h0_rec, h_rec, da, dWx, dWh, db, split)
    return batch_major(dx), dh0, dc0, dWx, dWh, db
