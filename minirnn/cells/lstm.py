"""LSTM: the NumPy reference forward and backward passes.

Shape legend: N batch, T time steps, D input features, H hidden units.

Equations (row-vector layout, the same as the code). Gate order i, f, g, o along the 4H axis,
as in PyTorch's `nn.LSTM`, whose two biases are folded into one here, b = b_ih + b_hh:

    a_t = x_t @ Wx + h_{t-1} @ Wh + b        Wx: (D, 4H)  Wh: (H, 4H)  b: (4H,)
    i_t = sigmoid(a_t[:, 0H:1H])             input gate
    f_t = sigmoid(a_t[:, 1H:2H])             forget gate
    g_t = tanh(a_t[:, 2H:3H])                candidate cell
    o_t = sigmoid(a_t[:, 3H:4H])             output gate
    c_t = f_t * c_{t-1} + i_t * g_t          c_t: (N, H)
    h_t = o_t * tanh(c_t)                    h_t: (N, H)

With recurrent dropout (masking.py) h_{t-1} @ Wh becomes (h_{t-1} * m) @ Wh, m: (N, H).

Backpropagation through time: both h_t and c_t carry gradient to step t+1,

    dc_t = dc_t^{from t+1} + dh_t * o_t * (1 - tanh(c_t)^2)
    do_t = dh_t * tanh(c_t);  di_t = dc_t * g_t;  dg_t = dc_t * i_t;  df_t = dc_t * c_{t-1}
    dc_{t-1}^{from t} = dc_t * f_t
    [di, df, dg, do]_t += dgates_t          (optional: a penalty that reads the gates themselves)
    da_t = [di * i(1-i), df * f(1-f), dg * (1-g^2), do * o(1-o)]
    dx_t = da_t @ Wx.T;  dh_{t-1}^{from t} = da_t @ Wh.T;  dWx += x_t.T @ da_t;  ...
"""
import numpy as np

from .activations import dsigmoid, dtanh, sigmoid
from .masking import dropped, dropped_columns
from .sequence import sequence_backward, sequence_forward
from .spec import CellSpec, compiled_kernels


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, recurrent_mask=None):
    """One step. x: (N, D), prev_h, prev_c: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,);
    recurrent_mask: None or (N, H) (recurrent dropout).

    Returns next_h, next_c: (N, H) and the cache that `lstm_step_backward` needs.
    """
    H = prev_h.shape[1]
    a = x @ Wx + dropped(prev_h, recurrent_mask) @ Wh + b  # (N, 4H)
    ifgo = np.concatenate([sigmoid(a[:, :2 * H]),          # i, f
                           np.tanh(a[:, 2 * H:3 * H]),     # g
                           sigmoid(a[:, 3 * H:])], axis=1)  # o       (N, 4H)
    i, f, g, o = np.split(ifgo, 4, axis=1)
    next_c = f * prev_c + i * g  # (N, H)
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    cache = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "Wx": Wx, "Wh": Wh,
             "ifgo": ifgo, "next_c": next_c, "tanh_c": tanh_c, "recurrent_mask": recurrent_mask}
    return next_h, next_c, cache


def lstm_total_gradients(dnext_h, dnext_c, cache):
    """The total gradients on a step's new states: dLoss/dnext_h, and dc = dLoss/dnext_c along
    both of c_t's paths, into step t+1 (dnext_c) and into this step's own next_h = o * tanh(c_t).
    `lstm_step_backward` starts from them; the saliency of the cell state records them."""
    H = dnext_h.shape[1]
    o = cache["ifgo"][:, 3 * H:]
    # forward: next_h = o * tanh(next_c)
    dc = dnext_c + dnext_h * o * dtanh(cache["tanh_c"])
    return dnext_h, dc


def lstm_step_backward(dnext_h, dnext_c, cache, dgates=None):
    """Backward of one step. dnext_h, dnext_c: (N, H); dgates: None or (N, 4H), a gradient on
    the gate activations [i, f, g, o] themselves (a penalty on the gates, regularisers.py), added
    to the one that comes through the states.

    Returns dx: (N, D), dprev_h, dprev_c: (N, H), dWx: (D, 4H), dWh: (H, 4H), db: (4H,).
    """
    i, f, g, o = np.split(cache["ifgo"], 4, axis=1)
    # forward: next_h = o * tanh_c, with tanh_c = tanh(next_c)
    do = dnext_h * cache["tanh_c"]
    _, dc = lstm_total_gradients(dnext_h, dnext_c, cache)
    # forward: next_c = f * prev_c + i * g
    df = dc * cache["prev_c"]
    dprev_c = dc * f
    di = dc * g
    dg = dc * i
    if dgates is not None:  # the gates are read by a penalty too
        di, df, dg, do = (d + e for d, e in zip((di, df, dg, do), np.split(dgates, 4, axis=1)))
    # forward: i, f, o = sigmoid(a_i, a_f, a_o); g = tanh(a_g)
    da = np.concatenate([di * dsigmoid(i), df * dsigmoid(f), dg * dtanh(g), do * dsigmoid(o)],
                        axis=1)  # (N, 4H)
    # forward: a = x @ Wx + (prev_h * m) @ Wh + b
    dx = da @ cache["Wx"].T
    dprev_h = dropped(da @ cache["Wh"].T, cache["recurrent_mask"])
    dWx = cache["x"].T @ da
    dWh = dropped(cache["prev_h"], cache["recurrent_mask"]).T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, c0, Wx, Wh, b, mask=None, recurrent_mask=None, checked=False):
    """Run the cell over a whole sequence (the loop is sequence.py's, for every cell).
    x: (N, T, D), h0, c0: (N, H); mask: None or (N, T) bool, False where a sequence skips the step
    and carries its states; recurrent_mask: None or (N, H), the recurrent-dropout mask of every
    step (see masking.py).

    Returns h: (N, T, H), every hidden state, and the cache {x, h0, c0, Wx, Wh, b, ifgo (N, T, 4H),
    c (N, T, H), tanh_c (N, T, H), h, mask, recurrent_mask} that `lstm_backward` reads. The final
    cell state is cache["c"][:, -1]. The Numba kernels produce the same cache.
    """
    return sequence_forward(LSTM, x, h0, c0, Wx, Wh, b, mask=mask, recurrent_mask=recurrent_mask,
                            checked=checked)


def lstm_backward(dh, cache, dhT=None, dcT=None, checked=False):
    """Full BPTT: `lstm_step_backward` at every step, from the last. dh: (N, T, H) = dLoss/dh_t
    for every t; dhT, dcT: (N, H) extra gradients on the final hidden and cell states, or None.

    Returns dx: (N, T, D), dh0, dc0: (N, H), dWx, dWh, db.
    """
    return sequence_backward(LSTM, dh, cache, dhT, dcT, checked=checked)


def lstm_step_jacobians(cache):
    """The exact Jacobians of one step, per batch element, from a step cache (`lstm_step_forward`'s
    or `sequence.step_cache(LSTM, cache, t)`). Column convention:
    J[n, i, j] = d out[n, i] / d in[n, j].

    Write W_i, W_f, W_g, W_o for a gate's (Z, H) column block of W (Wh for z = prev_h, Wx for
    z = x). Each gate's pre-activation depends on z through W_k^T, so

        dnext_c/dz      = diag(g i(1-i)) W_i^T + diag(prev_c f(1-f)) W_f^T + diag(i (1-g^2)) W_g^T
        dnext_h/dz      = diag(o (1 - tanh(c)^2)) dnext_c/dz + diag(tanh(c) o(1-o)) W_o^T
        dnext_c/dprev_c = diag(f)
        dnext_h/dprev_c = diag(o (1 - tanh(c)^2) f)

    The state is the pair s = (h, c), so the temporal Jacobian is the 2H x 2H block matrix
    [[dnext_h/dprev_h, dnext_h/dprev_c], [dnext_c/dprev_h, dnext_c/dprev_c]]. With recurrent
    dropout the two d/dprev_h blocks are multiplied by diag(m) on the right.

    Returns those four (N, H, H) blocks and "dnext_h/dx", "dnext_c/dx": (N, H, D).
    """
    i, f, g, o = np.split(cache["ifgo"], 4, axis=1)
    tanh_c = cache["tanh_c"]
    dh_dc = o * dtanh(tanh_c)  # dnext_h/dnext_c is diagonal, (N, H)
    eye = np.eye(i.shape[1], dtype=i.dtype)
    jac = {"dnext_c/dprev_c": f[:, :, None] * eye, "dnext_h/dprev_c": (dh_dc * f)[:, :, None] * eye}
    for name, W in (("prev_h", cache["Wh"]), ("x", cache["Wx"])):
        Wi, Wf, Wg, Wo = (block.T for block in np.split(W, 4, axis=1))  # each (H, Z)
        # diag(v) @ M is v[:, :, None] * M
        dc = ((g * dsigmoid(i))[:, :, None] * Wi + (cache["prev_c"] * dsigmoid(f))[:, :, None] * Wf
              + (i * dtanh(g))[:, :, None] * Wg)
        jac[f"dnext_c/d{name}"] = dc
        jac[f"dnext_h/d{name}"] = dh_dc[:, :, None] * dc + (tanh_c * dsigmoid(o))[:, :, None] * Wo
    for block in ("dnext_c/dprev_h", "dnext_h/dprev_h"):  # prev_h enters only through Wh
        jac[block] = dropped_columns(jac[block], cache["recurrent_mask"])
    return jac


LSTM = CellSpec("lstm", gates=4, state_names=("h", "c"), step_forward=lstm_step_forward,
                step_backward=lstm_step_backward, step_jacobians=lstm_step_jacobians,
                total_gradients=lstm_total_gradients, kernels=compiled_kernels("lstm"),
                sigmoid_gates={"i": 0, "f": 1, "o": 3}, memory_gate="f", forget_gate="f",
                torch_mode="LSTM", keras_gate_order=(0, 1, 2, 3), gates_key="ifgo")
