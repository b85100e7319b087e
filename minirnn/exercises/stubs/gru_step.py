"""Exercise 8, gru_step: one GRU step backward, in PyTorch's reset-after form.

What it teaches: prev_h reaches next_h directly (z * prev_h) and through all three gates; the
reset gate multiplies the recurrent candidate hn = prev_h @ Wh_n + bhn, so bhn sits inside the
reset product and gets dbhn = sum of dan * r.

Shape legend: N batch, D input features, H hidden units; gate order r, z, n along the 3H axis.

    ax     = x @ Wx + b                 Wx: (D, 3H)  b: (3H,)
    ah     = prev_h @ Wh                Wh: (H, 3H)
    r      = sigmoid(ax[:, :H] + ah[:, :H])
    z      = sigmoid(ax[:, H:2H] + ah[:, H:2H])
    hn     = ah[:, 2H:] + bhn           bhn: (H,), inside the reset product
    n      = tanh(ax[:, 2H:] + r * hn)
    next_h = (1 - z) * n + z * prev_h

The forward is the library's `gru_step_forward(x, prev_h, Wx, Wh, b, bhn)`; its cache holds x,
prev_h, Wx, Wh, rzn (N, 3H) = r, z, n side by side, and hn. The library's version:
minirnn/cells/gru.py (read it after).

    python -m minirnn exercises check gru_step
    python -m minirnn exercises hint gru_step
"""
import numpy as np


def gru_step_backward(dnext_h, cache):
    """dnext_h: (N, H). Returns dx: (N, D), dprev_h: (N, H), dWx: (D, 3H), dWh: (H, 3H),
    db: (3H,), dbhn: (H,)."""
    r, z, n = np.split(cache["rzn"], 3, axis=1)
    # TODO: your code here (about 14 lines)
    raise NotImplementedError("gru_step_backward")
