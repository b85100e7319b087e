"""Tanh RNN over a sequence, compiled with Numba: the fast path for minirnn/cells/rnn.py.

Mirrors `rnn_forward` and `rnn_backward` of the NumPy reference: the same arguments, the same
cache {x, h0, Wx, Wh, b, h, mask, recurrent_mask} and the same gradients, so either backward
accepts either forward's cache. The equations are in the reference's docstring:

    h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)

Shape legend: N batch, T time steps, D input features, H hidden units. Inside, every sequence
array is time-major, (T, N, ...) (see arrays.py).

    forward   ax = x @ Wx + b for all steps, one matrix product (products.py); then per step
              one product h_{t-1} @ Wh and one sweep over the batch rows for tanh.
    backward  per step one sweep over the rows for da_t = dh_t * (1 - h_t^2), then one product
              da_t @ Wh.T; after the loop dx, dWx, dWh and db from the da of all steps at once.

The time loops take a block of rows lo:hi, so that blocks run side by side on the cores
(parallel.py); when the batch is split so, ax and dx are made step by step inside the loops and
the weight gradients in parts of the steps. Nothing is allocated inside the time loop.
"""
import numpy as np

from ..cells.rnn import RNN
from .arrays import (batch_major, check_backward, check_forward_inputs, contiguous,
                     dropped_states, empty, final_gradient, loop_mask, recurrent_mask_array,
                     recurrent_weights_T, time_major)
from .blas import few_rows_limit
from .jit import jit
from .loops import add_into, copy_into, fill, take_rows
from .parallel import plan, run_rows, weight_gradients
from .products import (drop_rows, input_gradient, project_inputs, step_product,
                       step_products)
from .scalar import dtanh, tanh


@jit
def forward_step(a_x, a_h, prev_h, next_h, steps):
    """One step for every row: next_h = tanh(a_x + a_h), all (N, H); a_x = x_t @ Wx + b,
    a_h = h_{t-1} @ Wh. steps: (N,) bool."""
    for n in range(a_x.shape[0]):
        a_xn, a_hn, next_hn = a_x[n], a_h[n], next_h[n]
        for j in range(a_xn.shape[0]):
            next_hn[j] = tanh(a_xn[j] + a_hn[j])
        if not steps[n]:  # skipped step: carry the state
            copy_into(next_hn, prev_h[n])


@jit(nogil=True)
def rnn_forward_rows(x, Wx, b, Wh, rmask, steps, hs, ax, each_step, loop_below, rows, lo, hi):
    """The time loop for the batch rows lo:hi (parallel.py runs blocks side by side).
    x: (T, N, D); rmask: (N, H) recurrent-dropout mask or (0, 0); steps: (T, N) bool, False where
    a row skips the step and carries its state. hs: (T+1, N, H) holds h0 in slot 0 on entry;
    writes the state after step t into slot t+1. Scratch: ax: (T, N, H) = x_t @ Wx + b, step by
    step for the block's rows when each_step, else for all rows at once (one block).
    loop_below, rows: how the per-step products go (products.step_product)."""
    if not each_step:
        project_inputs(x, Wx, b, ax)
    a_h = np.empty((hi - lo, Wh.shape[1]), ax.dtype)  # (h_{t-1} * m) @ Wh of the current step
    h_dropped = np.empty((hi - lo, Wh.shape[0]), ax.dtype)
    for t in range(ax.shape[0]):
        step_products(x[t, lo:hi], Wx, b, hs[t, lo:hi], rmask[lo:hi], h_dropped, Wh,
                      ax[t, lo:hi], a_h, each_step, loop_below, rows)
        forward_step(ax[t, lo:hi], a_h, hs[t, lo:hi], hs[t + 1, lo:hi], steps[t, lo:hi])


@jit
def backward_step(dh, h, dnext_h, da, steps):
    """One step for every row, (N, H) slabs of step t. dnext_h: the gradient on h_t from the
    steps after t; on exit all of dLoss/dh_t. Writes da = dLoss/da_t."""
    for n in range(dh.shape[0]):
        add_into(dnext_h[n], dh[n])  # h_t feeds the output at t and step t+1
        if steps[n]:
            # forward: h_t = tanh(a_t)
            dh_n, h_n, da_n = dnext_h[n], h[n], da[n]
            for j in range(dh_n.shape[0]):
                da_n[j] = dh_n[j] * dtanh(h_n[j])
        else:  # skipped step: no gradient through it; dh carries to step t-1 unchanged
            fill(da[n], 0.0)


@jit(nogil=True)
def rnn_backward_rows(dh, h, Wh_T, Wx_T, rmask, steps, dh_next, da, dx, each_step, loop_below,
                      rows, lo, hi):
    """BPTT's time loop for the batch rows lo:hi (parallel.py runs blocks side by side), on
    time-major arrays. dh, h: (T, N, H); dh_next: (N, H) holds the gradient on the final state
    and is updated in place, step by step, into dh0. Wh_T: (H, H) = Wh.T
    (arrays.recurrent_weights_T), Wx_T: (H, D) (Wx.T, a view).
    Writes da: (T, N, H) and dx: (T, N, D), step by step for the block's rows when each_step,
    else for all rows at once after the loop (one block)."""
    dprev_h = np.empty((hi - lo, Wh_T.shape[1]), dh.dtype)  # da_t @ Wh.T
    for t in range(dh.shape[0] - 1, -1, -1):
        backward_step(dh[t, lo:hi], h[t, lo:hi], dh_next[lo:hi], da[t, lo:hi], steps[t, lo:hi])
        # forward: a_t = x_t @ Wx + (h_{t-1} * m) @ Wh + b
        step_product(da[t, lo:hi], Wh_T, dprev_h, loop_below, rows)
        drop_rows(dprev_h, rmask[lo:hi])
        take_rows(dh_next[lo:hi], dprev_h, steps[t, lo:hi])
        if each_step:
            step_product(da[t, lo:hi], Wx_T, dx[t, lo:hi], loop_below, rows)
    if not each_step:
        input_gradient(da, Wx_T, dx)


def rnn_forward(x, h0, Wx, Wh, b, mask=None, recurrent_mask=None, checked=False):
    """Run the cell over a whole sequence; the signature, checks and cache of
    minirnn.cells.rnn_forward. x: (N, T, D), h0: (N, H); mask: None or (N, T) bool;
    recurrent_mask: None or (N, H). checked=True: the caller (StackedRNN) has checked x, h0 and
    the mask, so only the shapes that keep the compiled loop in bounds are checked here.

    Returns h: (N, T, H) and the cache {x, h0, Wx, Wh, b, h, mask, recurrent_mask}. Arrays are
    float32 or float64 as x; h and the cached x are (N, T, ...) views of time-major data.
    """
    mask, dtype = check_forward_inputs(RNN, x, (h0,), (Wx, Wh, b), mask, checked)
    N, T, _ = x.shape
    H = Wh.shape[0]
    xs = time_major(x, dtype)
    h0, Wx, Wh, b = contiguous(dtype, h0, Wx, Wh, b)
    hs, ax = empty(dtype, (T + 1, N, H), (T, N, H))
    hs[0] = h0
    rmask = recurrent_mask_array(recurrent_mask, h0, dtype)
    rows, split = plan(N, T, xs.shape[2], H, H)
    run_rows(rnn_forward_rows, N, rows, split, xs, Wx, b, Wh, rmask, loop_mask(mask, N, T), hs,
             ax, split, few_rows_limit(), rows)
    h = batch_major(hs[1:])
    cache = {"x": batch_major(xs), "h0": h0, "Wx": Wx, "Wh": Wh, "b": b, "h": h, "mask": mask,
             "recurrent_mask": recurrent_mask}
    return h, cache


def rnn_backward(dh, cache, dhT=None, checked=False):
    """Full BPTT; the signature and results of minirnn.cells.rnn_backward. dh: (N, T, H);
    dhT: (N, H) or None; cache from either backend's `rnn_forward`. checked=True: the caller has
    checked dh and dhT, so only their shapes are checked here.

    Returns dx: (N, T, D), dh0: (N, H), dWx, dWh, db.
    """
    dtype, (N, T, H) = check_backward(RNN, dh, cache, (dhT,), checked)
    x, h = time_major(cache["x"], dtype), time_major(cache["h"], dtype)
    h0, Wx, Wh = contiguous(dtype, cache["h0"], cache["Wx"], cache["Wh"])
    dh0 = final_gradient(dhT, N, H, dtype)
    da, dx, dWx, dWh, db = empty(dtype, (T, N, H), (T, N, x.shape[2]), Wx.shape, Wh.shape, (H,))
    rmask = recurrent_mask_array(cache["recurrent_mask"], h0, dtype)
    rows, split = plan(N, T, x.shape[2], H, H)
    run_rows(rnn_backward_rows, N, rows, split, time_major(dh, dtype), h,
             recurrent_weights_T(Wh, rows), Wx.T, rmask,
             loop_mask(cache["mask"], N, T), dh0, da, dx, split, few_rows_limit(), rows)
    weight_gradients(x, da, *dropped_states(h0, h, rmask), da, dWx, dWh, db, split)
    return batch_major(dx), dh0, dWx, dWh, db
