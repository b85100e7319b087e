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
from .masking import dropped, dropped_columns
from .sequence import sequence_backward, sequence_forward
from .spec import CellSpec, compiled_kernels


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


def rnn_forward(x, h0, Wx, Wh, b, mask=None, recurrent_mask=None, checked=False):
    """Run the cell over a whole sequence (the loop is sequence.py's, for every cell).
    x: (N, T, D), h0: (N, H); mask: None or (N, T) bool, False where a sequence skips the step
    and carries its state; recurrent_mask: None or (N, H), the recurrent-dropout mask of every
    step (see masking.py).

    Returns h: (N, T, H), every hidden state (the final state is h[:, -1]), and the cache
    {x, h0, Wx, Wh, b, h, mask, recurrent_mask} that `rnn_backward` reads (the Numba kernels
    produce the same cache).
    """
    return sequence_forward(RNN, x, h0, Wx, Wh, b, mask=mask, recurrent_mask=recurrent_mask,
                            checked=checked)


def rnn_backward(dh, cache, dhT=None, checked=False):
    """Full BPTT: `rnn_step_backward` at every step, from the last. dh: (N, T, H) = dLoss/dh_t
    for every t; dhT: (N, H) extra gradient on the final state (e.g. from a loss on the returned
    final state), or None.

    Returns dx: (N, T, D), dh0: (N, H), dWx, dWh, db.
    """
    return sequence_backward(RNN, dh, cache, dhT, checked=checked)


def rnn_step_jacobians(cache):
    """The exact Jacobians of one step, per batch element, from a step cache (`rnn_step_forward`'s
    or `sequence.step_cache(RNN, cache, t)`). Column convention: J[n, i, j] = d out[n, i] /
    d in[n, j], so a row-vector gradient goes back through the step as dprev_h = dnext_h @ J:

        dnext_h/dprev_h = diag(1 - next_h^2) Wh^T        (N, H, H)   (times diag(m) on the
                                                                      right with recurrent dropout)
        dnext_h/dx      = diag(1 - next_h^2) Wx^T        (N, H, D)

    Returns {"dnext_h/dprev_h": ..., "dnext_h/dx": ...}.
    """
    dh_da = dtanh(cache["next_h"])[:, :, None]  # diag(1 - h^2) as a row scale, (N, H, 1)
    return {"dnext_h/dprev_h": dropped_columns(dh_da * cache["Wh"].T, cache["recurrent_mask"]),
            "dnext_h/dx": dh_da * cache["Wx"].T}


RNN = CellSpec("rnn", gates=1, state_names=("h",), step_forward=rnn_step_forward,
               step_backward=rnn_step_backward, step_jacobians=rnn_step_jacobians,
               kernels=compiled_kernels("rnn"), torch_mode="RNN_TANH", keras_gate_order=(0,))
