"""GRU over a sequence, compiled with Numba: the fast path for minirnn/cells/gru.py.

Mirrors `gru_forward` and `gru_backward` of the NumPy reference: the same arguments, the same
cache {x, h0, Wx, Wh, b, bhn, rzn, hn, h, mask, recurrent_mask} and the same gradients, so either
backward accepts either forward's cache. PyTorch's variant, as in the reference (gate order
r, z, n; reset applied after the recurrent product, which keeps its own bias bhn):

    ax_t = x_t @ Wx + b;  ah_t = h_{t-1} @ Wh;  hn_t = ah_n + bhn
    r, z = sigmoid(ax_rz + ah_rz);  n = tanh(ax_n + r * hn);  h_t = (1 - z) * n + z * h_{t-1}

Shape legend: N batch, T time steps, D input features, H hidden units. Inside, every sequence
array is time-major, (T, N, ...) (see arrays.py).

    forward   ax for all steps, one matrix product (products.py); then per step one product
              h_{t-1} @ Wh and one sweep over the batch rows: r, z, hn, n, h_t.
    backward  per step one sweep over the rows for dah_t = dLoss/d(h_{t-1} @ Wh) and the
              candidate's dan_t, one product dah_t @ Wh.T, and the direct path dh_t * z;
              after the loop dx, dWx, db, dWh and dbhn from all steps at once. dax and dah
              differ only in the n block (dan versus dan * r): the loop writes dan straight
              into dax, and copies dr, dz over while the row is in the cache.

The time loops take a block of rows lo:hi, so that blocks run side by side on the cores
(parallel.py); when the batch is split so, ax and dx are made step by step inside the loops and
the weight gradients in parts of the steps. Nothing is allocated inside the time loop; a row's
sweep is a few short loops, each over few arrays, which is what lets LLVM vectorize them (see
lstm.py).
"""
import numpy as np

from ..cells.gru import GRU
from .arrays import (batch_major, check_backward, check_forward_inputs, contiguous,
                     dropped_states, empty, final_gradient, loop_mask, recurrent_mask_array,
                     recurrent_weights_T, time_major)
from .blas import few_rows_limit
from .jit import jit
from .loops import add_into, copy_into, fill
from .parallel import plan, run_rows, weight_gradients
from .products import (column_sums, drop_rows, input_gradient, project_inputs,
                       step_product, step_products)
from .scalar import dsigmoid, dtanh, sigmoid, tanh


@jit(inline="always")
def row_forward(a_h, bhn, prev_h, rzn, hn, next_h):
    """One row. rzn: (3H,) holds ax_t = x_t @ Wx + b on entry and r, z, n on exit;
    a_h: (3H,) = h_{t-1} @ Wh. Writes hn and next_h: (H,)."""
    H = hn.shape[0]
    a_rz, rz = a_h[:2 * H], rzn[:2 * H]
    for j in range(2 * H):
        rz[j] = sigmoid(rz[j] + a_rz[j])
    a_n = a_h[2 * H:]
    for j in range(H):
        hn[j] = a_n[j] + bhn[j]
    r, z, n = rzn[:H], rzn[H:2 * H], rzn[2 * H:]
    for j in range(H):
        n[j] = tanh(n[j] + r[j] * hn[j])
        next_h[j] = (1.0 - z[j]) * n[j] + z[j] * prev_h[j]


@jit
def forward_step(a_h, bhn, prev_h, rzn, hn, next_h, steps):
    """One step for every row, (N, ...) slabs of step t (see `row_forward`). steps: (N,) bool."""
    for row in range(rzn.shape[0]):
        row_forward(a_h[row], bhn, prev_h[row], rzn[row], hn[row], next_h[row])
        if not steps[row]:  # skipped step: carry the state
            copy_into(next_h[row], prev_h[row])


@jit(nogil=True)
def gru_forward_rows(x, Wx, b, Wh, bhn, rmask, steps, hs, rzn, hn, each_step, loop_below, rows,
                     lo, hi):
    """The time loop for the batch rows lo:hi (parallel.py runs blocks side by side).
    x: (T, N, D); rmask: (N, H) recurrent-dropout mask or (0, 0); steps: (T, N) bool, False where
    a row skips the step and carries its state. hs: (T+1, N, H) holds h0 in slot 0 on entry;
    writes the state after step t into slot t+1, r, z, n into rzn: (T, N, 3H) and hn: (T, N, H).
    each_step: x_t @ Wx + b step by step for the block's rows, else for all rows at once (one
    block). loop_below, rows: how the per-step products go (products.step_product)."""
    if not each_step:
        project_inputs(x, Wx, b, rzn)
    a_h = np.empty((hi - lo, Wh.shape[1]), rzn.dtype)  # (h_{t-1} * m) @ Wh of the current step
    h_dropped = np.empty((hi - lo, Wh.shape[0]), rzn.dtype)
    for t in range(rzn.shape[0]):
        step_products(x[t, lo:hi], Wx, b, hs[t, lo:hi], rmask[lo:hi], h_dropped, Wh,
                      rzn[t, lo:hi], a_h, each_step, loop_below, rows)
        forward_step(a_h, bhn, hs[t, lo:hi], rzn[t, lo:hi], hn[t, lo:hi], hs[t + 1, lo:hi],
                     steps[t, lo:hi])


@jit(inline="always")
def row_backward(dh, rzn, hn, prev_h, dah, dan):
    """One row. dh: dLoss/dh_t. Writes dan: (H,) = dLoss/d(ax_n + r * hn) and
    dah: (3H,) = dLoss/d(h_{t-1} @ Wh + [0, 0, bhn]) = [dr, dz, dhn]."""
    H = dh.shape[0]
    r, z, n = rzn[:H], rzn[H:2 * H], rzn[2 * H:]
    # forward: h = (1 - z) * n + z * h_prev;  n = tanh(ax_n + r * hn)
    for j in range(H):
        dan[j] = dh[j] * (1.0 - z[j]) * dtanh(n[j])
    da_r, da_z, dhn = dah[:H], dah[H:2 * H], dah[2 * H:]
    # forward: r, z = sigmoid(ax_rz + ah_rz)
    for j in range(H):
        da_r[j] = dan[j] * hn[j] * dsigmoid(r[j])
        da_z[j] = dh[j] * (prev_h[j] - n[j]) * dsigmoid(z[j])
        dhn[j] = dan[j] * r[j]


@jit
def backward_step(dh, rzn, hn, prev_h, dnext_h, dah, dax, steps):
    """One step for every row, (N, ...) slabs of step t. dnext_h: the gradient on h_t from the
    steps after t; on exit all of dLoss/dh_t. Writes dah: (N, 3H) and dax: (N, 3H), which differ
    only in the n block (dax holds dan there)."""
    H = dh.shape[1]
    for row in range(dh.shape[0]):
        add_into(dnext_h[row], dh[row])  # h_t feeds the output at t and step t+1
        dan = dax[row][2 * H:]
        if steps[row]:
            row_backward(dnext_h[row], rzn[row], hn[row], prev_h[row], dah[row], dan)
        else:  # skipped step: no gradient through it; dh carries to step t-1 unchanged
            fill(dah[row], 0.0)
            fill(dan, 0.0)
        copy_into(dax[row][:2 * H], dah[row][:2 * H])  # dr, dz: ax and ah enter r, z the same way


@jit
def previous_state_gradient(dnext_h, dprev_h, rzn, steps):
    """dLoss/dh_{t-1} = dLoss/dh_t * z + dah_t @ Wh.T on the rows that took step t, in place in
    dnext_h (the rows that skipped it keep theirs). dprev_h = dah_t @ Wh.T: (N, H)."""
    N, H = dnext_h.shape
    for row in range(N):
        if steps[row]:  # indexed in 2-D: no row views to make, 5x faster for small H than slices
            for j in range(H):
                dnext_h[row, j] = dnext_h[row, j] * rzn[row, H + j] + dprev_h[row, j]


@jit(nogil=True)
def gru_backward_rows(dh, h0, h, rzn, hn, Wh_T, Wx_T, rmask, steps, dh_next, dah, dax, dx,
                      each_step, loop_below, rows, lo, hi):
    """BPTT's time loop for the batch rows lo:hi (parallel.py runs blocks side by side), on
    time-major arrays. dh, h, hn: (T, N, H); dh_next: (N, H) holds the gradient on the final
    state and is updated in place, step by step, into dh0. Wh_T: (3H, H) = Wh.T
    (arrays.recurrent_weights_T), Wx_T: (3H, D) (Wx.T, a view). Writes dah, dax: (T, N, 3H)
    and dx: (T, N, D), step by step for the block's rows when each_step, else for all rows at
    once after the loop (one block)."""
    dprev_h = np.empty((hi - lo, Wh_T.shape[1]), dh.dtype)  # dah_t @ Wh.T
    for t in range(dh.shape[0] - 1, -1, -1):
        prev_h = h0[lo:hi] if t == 0 else h[t - 1, lo:hi]
        backward_step(dh[t, lo:hi], rzn[t, lo:hi], hn[t, lo:hi], prev_h, dh_next[lo:hi],
                      dah[t, lo:hi], dax[t, lo:hi], steps[t, lo:hi])
        # forward: ah = (h_{t-1} * m) @ Wh, and h_t = ... + z * h_{t-1}
        step_product(dah[t, lo:hi], Wh_T, dprev_h, loop_below, rows)
        drop_rows(dprev_h, rmask[lo:hi])
        previous_state_gradient(dh_next[lo:hi], dprev_h, rzn[t, lo:hi], steps[t, lo:hi])
        if each_step:
            step_product(dax[t, lo:hi], Wx_T, dx[t, lo:hi], loop_below, rows)
    if not each_step:
        input_gradient(dax, Wx_T, dx)


def gru_forward(x, h0, Wx, Wh, b, bhn, mask=None, recurrent_mask=None, checked=False):
    """Run the cell over a whole sequence; the signature, checks and cache of
    minirnn.cells.gru_forward. x: (N, T, D), h0: (N, H); mask: None or (N, T) bool;
    recurrent_mask: None or (N, H). checked=True: the caller (StackedRNN) has checked x, h0 and
    the mask, so only the shapes that keep the compiled loop in bounds are checked here.

    Returns h: (N, T, H) and the cache {x, h0, Wx, Wh, b, bhn, rzn, hn, h, mask, recurrent_mask}.
    Arrays are float32 or float64 as x; h and the cache's sequences are (N, T, ...) views of
    time-major data.
    """
    mask, dtype = check_forward_inputs(GRU, x, (h0,), (Wx, Wh, b, bhn), mask, checked)
    N, T, _ = x.shape
    H = Wh.shape[0]
    xs = time_major(x, dtype)
    h0, Wx, Wh, b, bhn = contiguous(dtype, h0, Wx, Wh, b, bhn)
    hs, rzn, hn = empty(dtype, (T + 1, N, H), (T, N, 3 * H), (T, N, H))
    hs[0] = h0
    rmask = recurrent_mask_array(recurrent_mask, h0, dtype)
    rows, split = plan(N, T, xs.shape[2], H, 3 * H)
    run_rows(gru_forward_rows, N, rows, split, xs, Wx, b, Wh, bhn, rmask, loop_mask(mask, N, T),
             hs, rzn, hn, split, few_rows_limit(), rows)
    h = batch_major(hs[1:])
    cache = {"x": batch_major(xs), "h0": h0, "Wx": Wx, "Wh": Wh, "b": b, "bhn": bhn,
             "rzn": batch_major(rzn), "hn": batch_major(hn), "h": h, "mask": mask,
             "recurrent_mask": recurrent_mask}
    return h, cache


def gru_backward(dh, cache, dhT=None, checked=False):
    """Full BPTT; the signature and results of minirnn.cells.gru_backward. dh: (N, T, H);
    dhT: (N, H) or None; cache from either backend's `gru_forward`. checked=True: the caller has
    checked dh and dhT, so only their shapes are checked here.

    Returns dx: (N, T, D), dh0: (N, H), dWx, dWh, db, dbhn.
    """
    dtype, (N, T, H) = check_backward(GRU, dh, cache, (dhT,), checked)
    x, h, rzn, hn = (time_major(cache[k], dtype) for k in ("x", "h", "rzn", "hn"))
    h0, Wx, Wh = contiguous(dtype, cache["h0"], cache["Wx"], cache["Wh"])
    dh0 = final_gradient(dhT, N, H, dtype)
    dah, dax, dx, dWx, dWh, db, dbhn = empty(
        dtype, (T, N, 3 * H), (T, N, 3 * H), (T, N, x.shape[2]), Wx.shape, Wh.shape, (3 * H,),
        (H,))
    rmask = recurrent_mask_array(cache["recurrent_mask"], h0, dtype)
    rows, split = plan(N, T, x.shape[2], H, 3 * H)
    run_rows(gru_backward_rows, N, rows, split, time_major(dh, dtype), h0, h, rzn, hn,
             recurrent_weights_T(Wh, rows), Wx.T, rmask, loop_mask(cache["mask"], N, T), dh0, dah,
             dax, dx, split, few_rows_limit(), rows)
    weight_gradients(x, dax, *dropped_states(h0, h, rmask), dah, dWx, dWh, db, split)
    column_sums(dah.reshape(T * N, 3 * H)[:, 2 * H:], dbhn)
    return batch_major(dx), dh0, dWx, dWh, db, dbhn
