"""Vanilla (Elman) tanh RNN: the NumPy reference forward and backward passes.

Shape legend: N batch, T time steps, D input features, H hidden units.

Equations (row-vector layout, the same as the code; PyTorch's `nn.RNN(nonlinearity="tanh")`
with its two biases folded into one, b = b_ih + b_hh):

    a_t = x_t @ Wx + h_{t-1} @ Wh + b        x_t: (N, D)  Wx: (D, H)  Wh: (H, H)  b: (H,)
    h_t = tanh(a_t)                          h_t: (N, H)

With recurrent dropout (masking.py) h_{t-1} @ Wh becomes (h_{t-1} * m) @ Wh, m: (N, H).

Backpropagation through time (h_t feeds both the output at t and the next step):

    dh_t  = dout_t + dh_t^{from t+1}
    da_t  = dh_t * (1 - h_t^2)
    dx_t  = da_t @ Wx.T      dh_{t-1}^{from t} = da_t @ Wh.T
    dWx  += x_t.T @ da_t     dWh += h_{t-1}.T @ da_t      db += sum_n da_t
"""
import numpy as np

from .activations import dtanh
from ..validation import check_sequence_inputs
from .masking import (carry, check_mask, check_recurrent_mask, dropped, dropped_columns,
                      split_gradient)


def rnn_step_forward(x, prev_h, Wx, Wh, b, recurrent_mask=None):
    """One step. x: (N, D), prev_h: (N, H), Wx: (D, H), Wh: (H, H), b: (H,);
    recurrent_mask: None or (N, H) (recurrent dropout).

    Returns next_h: (N, H) and the cache that `rnn_step_backward` needs.
    """
    next_h = np.tanh(x @ Wx + dropped(prev_h, recurrent_mask) @ Wh + b)  # (N, H)
    cache = {"x": x, "prev_h": prev_h, "Wx": Wx, "Wh": Wh, "next_h": next_h,
             "recurrent_mask": recurrent_mask}
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    """Backward of one step. dnext_h: (N, H) = dLoss/dnext_h.

    Returns dx: (N, D), dprev_h: (N, H), dWx: (D, H), dWh: (H, H), db: (H,).
    """
    # forward: next_h = tanh(a)
    da = dnext_h * dtanh(cache["next_h"])  # (N, H)
    # forward: a = x @ Wx + (prev_h * m) @ Wh + b
    dx = da @ cache["Wx"].T
    dprev_h = dropped(da @ cache["Wh"].T, cache["recurrent_mask"])
    dWx = cache["x"].T @ da
    dWh = dropped(cache["prev_h"], cache["recurrent_mask"]).T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b, mask=None, recurrent_mask=None):
    """Run the cell over a whole sequence. x: (N, T, D), h0: (N, H); mask: None or (N, T) bool,
    False where a sequence skips the step and carries its state; recurrent_mask: None or (N, H),
    the recurrent-dropout mask of every step (see masking.py).

    Returns h: (N, T, H), every hidden state (the final state is h[:, -1]), and the cache
    {x, h0, h, Wx, Wh, mask, recurrent_mask} that `rnn_backward` reads (the Numba kernels produce
    the same cache).
    """
    check_sequence_inputs(x, {"h0": h0}, Wx, Wh, gates=1)
    mask = check_mask(mask, x)
    recurrent_mask = check_recurrent_mask(recurrent_mask, h0)
    N, T, _ = x.shape
    h = np.empty((N, T, Wh.shape[0]), dtype=x.dtype)  # (N, T, H)
    prev_h = h0
    for t in range(T):
        next_h, _ = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b, recurrent_mask)
        prev_h = h[:, t] = carry(mask, t, next_h, prev_h)
    cache = {"x": x, "h0": h0, "h": h, "Wx": Wx, "Wh": Wh, "mask": mask,
             "recurrent_mask": recurrent_mask}
    return h, cache


def rnn_step_cache(cache, t):
    """The cache `rnn_step_forward` produced at step t, read back from the sequence cache."""
    prev_h = cache["h0"] if t == 0 else cache["h"][:, t - 1]
    return {"x": cache["x"][:, t], "prev_h": prev_h, "Wx": cache["Wx"], "Wh": cache["Wh"],
            "next_h": cache["h"][:, t], "recurrent_mask": cache["recurrent_mask"]}


def rnn_backward(dh, cache, dhT=None):
    """Full BPTT. dh: (N, T, H) = dLoss/dh_t for every t; dhT: (N, H) extra gradient on the
    final state (e.g. from a loss on the returned final state), or None.

    Returns dx: (N, T, D), dh0: (N, H), dWx, dWh, db.
    """
    x, Wx, Wh = cache["x"], cache["Wx"], cache["Wh"]
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    db = np.zeros(Wx.shape[1], dtype=x.dtype)
    dnext_h = np.zeros_like(cache["h0"]) if dhT is None else dhT.copy()  # (N, H)
    for t in reversed(range(T)):
        dnext_h += dh[:, t]  # h_t is read by the output at t and by step t+1
        dstep_h, dcarry_h = split_gradient(cache["mask"], t, dnext_h)
        dx[:, t], dnext_h, dWx_t, dWh_t, db_t = rnn_step_backward(dstep_h, rnn_step_cache(cache, t))
        dnext_h += dcarry_h
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dnext_h, dWx, dWh, db


def rnn_step_jacobians(cache):
    """The exact Jacobians of one step, per batch element, from a step cache (`rnn_step_forward`'s
    or `rnn_step_cache(cache, t)`). Column convention: J[n, i, j] = d out[n, i] / d in[n, j], so a
    row-vector gradient goes back through the step as dprev_h = dnext_h @ J:

        dnext_h/dprev_h = diag(1 - next_h^2) Wh^T        (N, H, H)   (times diag(m) on the
                                                                      right with recurrent dropout)
        dnext_h/dx      = diag(1 - next_h^2) Wx^T        (N, H, D)

    Returns {"dnext_h/dprev_h": ..., "dnext_h/dx": ...}.
    """
    dh_da = dtanh(cache["next_h"])[:, :, None]  # diag(1 - h^2) as a row scale, (N, H, 1)
    return {"dnext_h/dprev_h": dropped_columns(dh_da * cache["Wh"].T, cache["recurrent_mask"]),
            "dnext_h/dx": dh_da * cache["Wx"].T}
