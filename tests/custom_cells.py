"""Two cells minirnn does not ship, written the way a user would write their own: a minimal gated
unit (one state, with step Jacobians) and a peephole LSTM (two states, an extra parameter vector,
a total-gradient rule, no step Jacobians). test_custom_cells.py registers them and runs the whole
library on them.

Shape legend: N batch, D input features, H hidden units.

Minimal gated unit (Zhou et al. 2016), gates f, n along the 2H axis, m the recurrent-dropout mask:

    hm  = h_{t-1} * m
    f   = sigmoid(x @ Wx_f + hm @ Wh_f + b_f)
    n   = tanh(x @ Wx_n + (f * hm) @ Wh_n + b_n)
    h_t = (1 - f) * h_{t-1} + f * n

Peephole LSTM (Gers & Schmidhuber 2000), gates i, f, g, o, peepholes p = [p_i, p_f, p_o] (3H,):

    a   = x @ Wx + hm @ Wh + b
    i   = sigmoid(a_i + p_i * c_{t-1});  f = sigmoid(a_f + p_f * c_{t-1});  g = tanh(a_g)
    c_t = f * c_{t-1} + i * g
    o   = sigmoid(a_o + p_o * c_t)
    h_t = o * tanh(c_t)
"""
import numpy as np

from minirnn.cells import CellSpec
from minirnn.cells.activations import dsigmoid, dtanh, sigmoid
from minirnn.cells.masking import dropped, dropped_columns


# ---- minimal gated unit -------------------------------------------------------------------------
def mgu_step_forward(x, prev_h, Wx, Wh, b, recurrent_mask=None):
    """One step. x: (N, D), prev_h: (N, H), Wx: (D, 2H), Wh: (H, 2H), b: (2H,)."""
    H = prev_h.shape[1]
    hm = dropped(prev_h, recurrent_mask)
    ax = x @ Wx + b  # (N, 2H)
    f = sigmoid(ax[:, :H] + hm @ Wh[:, :H])
    fh = f * hm
    n = np.tanh(ax[:, H:] + fh @ Wh[:, H:])
    next_h = (1.0 - f) * prev_h + f * n
    cache = {"x": x, "prev_h": prev_h, "Wx": Wx, "Wh": Wh, "recurrent_mask": recurrent_mask,
             "fn": np.concatenate([f, n], axis=1)}
    return next_h, cache


def mgu_step_backward(dnext_h, cache):
    """Returns dx, dprev_h, dWx, dWh, db."""
    H = dnext_h.shape[1]
    f, n = cache["fn"][:, :H], cache["fn"][:, H:]
    prev_h, Wx, Wh, m = cache["prev_h"], cache["Wx"], cache["Wh"], cache["recurrent_mask"]
    hm = dropped(prev_h, m)
    # forward: next_h = (1 - f) * prev_h + f * n
    dprev_h = dnext_h * (1.0 - f)
    df = dnext_h * (n - prev_h)
    dn = dnext_h * f
    # forward: n = tanh(ax_n + (f * hm) @ Wh_n)
    dan = dn * dtanh(n)
    dfh = dan @ Wh[:, H:].T
    df += dfh * hm
    dhm = dfh * f
    # forward: f = sigmoid(ax_f + hm @ Wh_f)
    daf = df * dsigmoid(f)
    dhm += daf @ Wh[:, :H].T
    dprev_h += dropped(dhm, m)
    da = np.concatenate([daf, dan], axis=1)  # dLoss/d(x @ Wx + b)
    dx = da @ Wx.T
    dWx = cache["x"].T @ da
    dWh = np.concatenate([hm.T @ daf, (f * hm).T @ dan], axis=1)
    return dx, dprev_h, dWx, dWh, da.sum(axis=0)


def mgu_step_jacobians(cache):
    """dnext_h/dprev_h: (N, H, H) and dnext_h/dx: (N, H, D), column convention."""
    H = cache["prev_h"].shape[1]
    f, n = cache["fn"][:, :H], cache["fn"][:, H:]
    prev_h, Wx, Wh = cache["prev_h"], cache["Wx"], cache["Wh"]
    hm = dropped(prev_h, cache["recurrent_mask"])
    dh_dan = (f * dtanh(n))[:, :, None]                 # dnext_h / d(pre-activation of n)
    dh_daf = ((n - prev_h) * dsigmoid(f))[:, :, None]   # dnext_h / d(pre-activation of f), direct
    # d(pre-activation of n) / d(hm) = Wh_n^T diag(f) + Wh_n^T diag(hm) df/dhm
    dan_dhm = Wh[:, H:].T * f[:, None, :] + (Wh[:, H:].T * hm[:, None, :]) @ (
        dsigmoid(f)[:, :, None] * Wh[:, :H].T)
    dan_dx = Wx[:, H:].T + (Wh[:, H:].T * hm[:, None, :]) @ (dsigmoid(f)[:, :, None] * Wx[:, :H].T)
    dprev = dh_daf * Wh[:, :H].T + dh_dan * dan_dhm
    return {"dnext_h/dprev_h": dropped_columns(dprev, cache["recurrent_mask"])
            + (1.0 - f)[:, :, None] * np.eye(H),
            "dnext_h/dx": dh_daf * Wx[:, :H].T + dh_dan * dan_dx}


MGU = CellSpec("mgu", gates=2, state_names=("h",), step_forward=mgu_step_forward,
               step_backward=mgu_step_backward, step_jacobians=mgu_step_jacobians,
               sigmoid_gates={"f": 0})


# ---- peephole LSTM ------------------------------------------------------------------------------
def peephole_step_forward(x, prev_h, prev_c, Wx, Wh, b, p, recurrent_mask=None):
    """One step. x: (N, D), prev_h, prev_c: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,),
    p: (3H,) the peepholes [p_i, p_f, p_o]."""
    H = prev_h.shape[1]
    a = x @ Wx + dropped(prev_h, recurrent_mask) @ Wh + b  # (N, 4H)
    i = sigmoid(a[:, :H] + p[:H] * prev_c)
    f = sigmoid(a[:, H:2 * H] + p[H:2 * H] * prev_c)
    g = np.tanh(a[:, 2 * H:3 * H])
    next_c = f * prev_c + i * g
    o = sigmoid(a[:, 3 * H:] + p[2 * H:] * next_c)
    tanh_c = np.tanh(next_c)
    cache = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "Wx": Wx, "Wh": Wh, "p": p,
             "recurrent_mask": recurrent_mask, "ifgo": np.concatenate([i, f, g, o], axis=1),
             "tanh_c": tanh_c, "next_c": next_c}
    return o * tanh_c, next_c, cache


def peephole_total_gradients(dnext_h, dnext_c, cache):
    """dLoss/dnext_h, and dLoss/dnext_c along all of c_t's paths: into step t+1, into
    next_h = o * tanh(c_t), and into o through its peephole."""
    H = dnext_h.shape[1]
    o = cache["ifgo"][:, 3 * H:]
    da_o = dnext_h * cache["tanh_c"] * dsigmoid(o)
    dc = dnext_c + dnext_h * o * dtanh(cache["tanh_c"]) + da_o * cache["p"][2 * H:]
    return dnext_h, dc


def peephole_step_backward(dnext_h, dnext_c, cache):
    """Returns dx, dprev_h, dprev_c, dWx, dWh, db, dp."""
    H = dnext_h.shape[1]
    i, f, g, o = np.split(cache["ifgo"], 4, axis=1)
    prev_c, p, m = cache["prev_c"], cache["p"], cache["recurrent_mask"]
    # forward: next_h = o * tanh(c);  o = sigmoid(a_o + p_o * c)
    da_o = dnext_h * cache["tanh_c"] * dsigmoid(o)
    _, dc = peephole_total_gradients(dnext_h, dnext_c, cache)
    # forward: c = f * prev_c + i * g
    da_i = dc * g * dsigmoid(i)
    da_f = dc * prev_c * dsigmoid(f)
    da_g = dc * i * dtanh(g)
    dprev_c = dc * f + da_i * p[:H] + da_f * p[H:2 * H]
    dp = np.concatenate([(da_i * prev_c).sum(axis=0), (da_f * prev_c).sum(axis=0),
                         (da_o * cache["next_c"]).sum(axis=0)])
    # forward: a = x @ Wx + (prev_h * m) @ Wh + b
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
    dx = da @ cache["Wx"].T
    dprev_h = dropped(da @ cache["Wh"].T, m)
    dWx = cache["x"].T @ da
    dWh = dropped(cache["prev_h"], m).T @ da
    return dx, dprev_h, dprev_c, dWx, dWh, da.sum(axis=0), dp


PEEPHOLE = CellSpec("peephole_lstm", gates=4, state_names=("h", "c"),
                    step_forward=peephole_step_forward, step_backward=peephole_step_backward,
                    total_gradients=peephole_total_gradients, extra_params={"p": 3},
                    sigmoid_gates={"i": 0, "f": 1, "o": 3}, memory_gate="f", forget_gate="f")
