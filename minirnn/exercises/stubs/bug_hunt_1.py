"""Bug hunt 1: a GRU step backward, shipped with one planted bug.

What it teaches: read a gate's gradient off its block: a check that says which of r, z, n is off
points at two or three lines. Run the check to see what is wrong and where; the gradient checker
and the Jacobian tools (docs/derivations.md) take you to the line. Fix it in place.

Shape legend: N batch, D input features, H hidden units; gate order r, z, n along the 3H axis.

    r = sigmoid(x @ Wx_r + b_r + prev_h @ Wh_r)     z = sigmoid(x @ Wx_z + b_z + prev_h @ Wh_z)
    hn = prev_h @ Wh_n + bhn                       n = tanh(x @ Wx_n + b_n + r * hn)
    next_h = (1 - z) * n + z * prev_h

The forward is the library's `gru_step_forward` (cache: x, prev_h, Wx, Wh, rzn, hn).

    python -m minirnn exercises check bug_hunt_1
    python -m minirnn exercises hint bug_hunt_1
"""
import numpy as np


def gru_step_backward(dnext_h, cache):
    """dnext_h: (N, H). Returns dx: (N, D), dprev_h: (N, H), dWx: (D, 3H), dWh: (H, 3H),
    db: (3H,), dbhn: (H,)."""
    r, z, n = np.split(cache["rzn"], 3, axis=1)
    prev_h = cache["prev_h"]
    dn = dnext_h * (1.0 - z)
    dz = dnext_h * (n - prev_h)
    dprev_h = dnext_h * z
    dan = dn * (1.0 - n ** 2)
    dr = dan * cache["hn"]
    dhn = dan * r
    darz = np.concatenate([dr * r * (1.0 - r), dz * z * (1.0 - z)], axis=1)
    dax = np.concatenate([darz, dan], axis=1)
    dah = np.concatenate([darz, dhn], axis=1)
    dx = dax @ cache["Wx"].T
    dWx = cache["x"].T @ dax
    db = dax.sum(axis=0)
    dprev_h += dah @ cache["Wh"].T
    dWh = prev_h.T @ dah
    dbhn = dhn.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db, dbhn
