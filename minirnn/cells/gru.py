"""GRU: the NumPy reference forward and backward passes.

Shape legend: N batch, T time steps, D input features, H hidden units.

This is PyTorch's `nn.GRU` variant: gate order r, z, n along the 3H axis, and the reset gate is
applied *after* the recurrent matrix product (Cho et al. 2014 apply it before; PyTorch and Keras
`reset_after=True` apply it after). That is why the candidate keeps its own recurrent bias bhn:
it sits inside the reset product and cannot be folded into b. The other biases are folded,
b = b_ih + b_hh for r and z, and b = b_in for n.

    ax_t = x_t @ Wx + b                      Wx: (D, 3H)  b: (3H,)      (N, 3H)
    ah_t = (h_{t-1} * m) @ Wh + [0, 0, bhn]  Wh: (H, 3H)  bhn: (H,)     (N, 3H)
    r_t  = sigmoid(ax_r + ah_r)              reset gate
    z_t  = sigmoid(ax_z + ah_z)              update gate
    hn_t = ah_n                              the recurrent part of the candidate, (N, H)
    n_t  = tanh(ax_n + r_t * hn_t)           candidate
    h_t  = (1 - z_t) * n_t + z_t * h_{t-1}

m: (N, H) is the recurrent-dropout mask (masking.py; m = 1 without it). It drops h_{t-1} only in
the recurrent product, not in the update z_t * h_{t-1}.

Backward of one step, given dh_t:

    dn = dh * (1 - z);  dz = dh * (h_{t-1} - n);  dh_{t-1} = dh * z + dah @ Wh.T
    dan = dn * (1 - n^2);  dr = dan * hn;  dhn = dan * r
    dax = [dr * r(1-r), dz * z(1-z), dan];  dah = [dr * r(1-r), dz * z(1-z), dhn]
"""
import numpy as np

from .activations import dsigmoid, dtanh, sigmoid
from .masking import dropped, dropped_columns
from .sequence import sequence_backward, sequence_forward
from .spec import CellSpec, compiled_kernels


def gru_gates(ax, ah, bhn, prev_h):
    """The gates and the new state from the two products, for any leading axes (...):
    ax: (..., 3H) = the input product plus b, ah: (..., 3H) = the recurrent product without bhn,
    bhn: (H,), prev_h: (..., H). The graph GRU (minirnn/graph) calls it with graph products.

    Returns next_h: (..., H), rzn: (..., 3H) = [r, z, n] and hn: (..., H) = ah_n + bhn.
    """
    H = prev_h.shape[-1]
    hn = ah[..., 2 * H:] + bhn  # (..., H)
    rz = sigmoid(ax[..., :2 * H] + ah[..., :2 * H])  # (..., 2H)
    r, z = rz[..., :H], rz[..., H:]
    n = np.tanh(ax[..., 2 * H:] + r * hn)
    next_h = (1.0 - z) * n + z * prev_h
    return next_h, np.concatenate([rz, n], axis=-1), hn


def gru_gates_backward(dnext_h, cache):
    """Backward of `gru_gates`. dnext_h: (..., H); cache: a step cache holding what `gru_gates`
    made, "rzn" and "hn", and "prev_h" (the GRU's, or the graph GRU's).

    Returns dax: (..., 3H), dah: (..., 3H) (its n part is also dLoss/dbhn per item) and the
    part of dprev_h that comes through the update z * prev_h, (..., H).
    """
    r, z, n = np.split(cache["rzn"], 3, axis=-1)
    # forward: next_h = (1 - z) * n + z * prev_h
    dn = dnext_h * (1.0 - z)
    dz = dnext_h * (cache["prev_h"] - n)
    dprev_h = dnext_h * z
    # forward: n = tanh(ax_n + r * hn)
    dan = dn * dtanh(n)
    dr = dan * cache["hn"]
    dhn = dan * r
    # forward: r, z = sigmoid(ax_rz + ah_rz)
    darz = np.concatenate([dr * dsigmoid(r), dz * dsigmoid(z)], axis=-1)  # (..., 2H)
    dax = np.concatenate([darz, dan], axis=-1)  # (..., 3H)
    dah = np.concatenate([darz, dhn], axis=-1)  # (..., 3H)
    return dax, dah, dprev_h


def gru_step_forward(x, prev_h, Wx, Wh, b, bhn, recurrent_mask=None):
    """One step. x: (N, D), prev_h: (N, H), Wx: (D, 3H), Wh: (H, 3H), b: (3H,), bhn: (H,);
    recurrent_mask: None or (N, H) (recurrent dropout).

    Returns next_h: (N, H) and the cache that `gru_step_backward` needs.
    """
    ax = x @ Wx + b  # (N, 3H)
    ah = dropped(prev_h, recurrent_mask) @ Wh  # (N, 3H)
    next_h, rzn, hn = gru_gates(ax, ah, bhn, prev_h)
    cache = {"x": x, "prev_h": prev_h, "Wx": Wx, "Wh": Wh, "rzn": rzn, "hn": hn,
             "recurrent_mask": recurrent_mask}
    return next_h, cache


def gru_step_backward(dnext_h, cache):
    """Backward of one step. dnext_h: (N, H).

    Returns dx: (N, D), dprev_h: (N, H), dWx: (D, 3H), dWh: (H, 3H), db: (3H,), dbhn: (H,).
    """
    prev_h = cache["prev_h"]
    # forward: next_h, rzn, hn = gru_gates(ax, ah, bhn, prev_h)
    dax, dah, dprev_h = gru_gates_backward(dnext_h, cache)
    # forward: ax = x @ Wx + b;  ah = (prev_h * m) @ Wh
    dx = dax @ cache["Wx"].T
    dWx = cache["x"].T @ dax
    db = dax.sum(axis=0)
    dprev_h += dropped(dah @ cache["Wh"].T, cache["recurrent_mask"])
    dWh = dropped(prev_h, cache["recurrent_mask"]).T @ dah
    dbhn = dah[:, 2 * prev_h.shape[1]:].sum(axis=0)  # bhn is added to the n part of ah
    return dx, dprev_h, dWx, dWh, db, dbhn


def gru_forward(x, h0, Wx, Wh, b, bhn, mask=None, recurrent_mask=None, checked=False):
    """Run the cell over a whole sequence (the loop is sequence.py's, for every cell).
    x: (N, T, D), h0: (N, H); mask: None or (N, T) bool, False where a sequence skips the step
    and carries its state; recurrent_mask: None or (N, H), the recurrent-dropout mask of every
    step (see masking.py).

    Returns h: (N, T, H), every hidden state, and the cache {x, h0, Wx, Wh, b, bhn,
    rzn (N, T, 3H), hn (N, T, H), h, mask, recurrent_mask} that `gru_backward` reads. The Numba
    kernels produce the same cache.
    """
    return sequence_forward(GRU, x, h0, Wx, Wh, b, bhn, mask=mask, recurrent_mask=recurrent_mask,
                            checked=checked)


def gru_backward(dh, cache, dhT=None, checked=False):
    """Full BPTT: `gru_step_backward` at every step, from the last. dh: (N, T, H) = dLoss/dh_t
    for every t; dhT: (N, H) extra gradient on the final state, or None.

    Returns dx: (N, T, D), dh0: (N, H), dWx, dWh, db, dbhn.
    """
    return sequence_backward(GRU, dh, cache, dhT, checked=checked)


def gru_step_jacobians(cache):
    """The exact Jacobians of one step, per batch element, from a step cache (`gru_step_forward`'s
    or `sequence.step_cache(GRU, cache, t)`). Column convention:
    J[n, i, j] = d out[n, i] / d in[n, j].

    Write W_r, W_z, W_n for a gate's (Z, H) column block of W (Wh for prev_h, Wx for x). From
    next_h = (1 - z) n + z prev_h and n = tanh(ax_n + r hn), with hn = prev_h @ W_n + bhn:

        dnext_h/dprev_h = diag(z) + diag((1-z)(1-n^2) hn r(1-r)) Wh_r^T
                          + diag((prev_h - n) z(1-z)) Wh_z^T + diag((1-z)(1-n^2) r) Wh_n^T
        dnext_h/dx      = diag((1-z)(1-n^2) hn r(1-r)) Wx_r^T
                          + diag((prev_h - n) z(1-z)) Wx_z^T + diag((1-z)(1-n^2)) Wx_n^T

    The reset gate multiplies only the recurrent part hn, so only Wh_n carries the factor r.
    With recurrent dropout the Wh terms (not diag(z)) are multiplied by diag(m) on the right.
    Returns {"dnext_h/dprev_h": (N, H, H), "dnext_h/dx": (N, H, D)}.
    """
    r, z, n = np.split(cache["rzn"], 3, axis=1)
    dh_dan = (1.0 - z) * dtanh(n)  # dnext_h / d(pre-activation of n), (N, H)
    r_scale = dh_dan * cache["hn"] * dsigmoid(r)
    z_scale = (cache["prev_h"] - n) * dsigmoid(z)
    jac = {}
    for name, W, n_scale in (("prev_h", cache["Wh"], dh_dan * r), ("x", cache["Wx"], dh_dan)):
        Wr, Wz, Wn = (block.T for block in np.split(W, 3, axis=1))  # each (H, Z)
        # diag(v) @ M is v[:, :, None] * M
        jac[f"dnext_h/d{name}"] = (r_scale[:, :, None] * Wr + z_scale[:, :, None] * Wz
                                   + n_scale[:, :, None] * Wn)
    jac["dnext_h/dprev_h"] = (dropped_columns(jac["dnext_h/dprev_h"], cache["recurrent_mask"])
                              + z[:, :, None] * np.eye(z.shape[1], dtype=z.dtype))
    return jac


GRU = CellSpec("gru", gates=3, state_names=("h",), step_forward=gru_step_forward,
               step_backward=gru_step_backward, step_jacobians=gru_step_jacobians,
               extra_params={"bhn": 1}, kernels=compiled_kernels("gru"),
               sigmoid_gates={"r": 0, "z": 1}, memory_gate="z", torch_mode="GRU",
               keras_gate_order=(1, 0, 2), recurrent_biases={"bhn": 2})
