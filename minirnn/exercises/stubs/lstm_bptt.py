"""Exercise 7, lstm_bptt: the LSTM through time, with two carries.

What it teaches: both h and c carry gradient back: dprev_h into step t-1's dnext_h (added to
dh[:, t-1]) and dprev_c into its dnext_c. The cell state's carry, dc * f, is the path along which
an LSTM's gradient survives many steps.

Shape legend: N batch, T time steps, D input features, H hidden units.

The forward is the library's `lstm_forward(x, h0, c0, Wx, Wh, b)`: h: (N, T, H) and a sequence
cache; `step_cache(LSTM, cache, t)` reads step t's cache back for `lstm_step_backward(dnext_h,
dnext_c, step)` (exercise 6's, the library's). The library's loop: `sequence_backward` in
minirnn/cells/sequence.py.

    python -m minirnn exercises check lstm_bptt
    python -m minirnn exercises hint lstm_bptt
"""
import numpy as np

from minirnn.cells import LSTM, lstm_step_backward, step_cache


def lstm_backward(dh, cache):
    """dh: (N, T, H) = dLoss/dh_t for every t; cache: from lstm_forward.

    Returns dx: (N, T, D), dh0: (N, H), dc0: (N, H), dWx: (D, 4H), dWh: (H, 4H), db: (4H,).
    """
    x = cache["x"]
    dx = np.zeros_like(x)
    dWx, dWh, db = (np.zeros_like(cache[name]) for name in ("Wx", "Wh", "b"))
    # TODO: your code here (about 8 lines)
    raise NotImplementedError("lstm_backward")
