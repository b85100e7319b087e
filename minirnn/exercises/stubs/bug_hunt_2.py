"""Bug hunt 2: an LSTM sequence backward, shipped with one planted bug.

What it teaches: a sequence backward that passes at T = 1 and fails at T = 2 drops a carry: the
first diverging step says which. Run the check to see what is wrong and where; the gradient
checker and the Jacobian tools (docs/derivations.md) take you to the line. Fix it in place.

Shape legend: N batch, T time steps, D input features, H hidden units.

The forward is the library's `lstm_forward(x, h0, c0, Wx, Wh, b)`; `step_cache(LSTM, cache, t)`
reads step t's cache back for the library's `lstm_step_backward(dnext_h, dnext_c, step)`.

    python -m minirnn exercises check bug_hunt_2
    python -m minirnn exercises hint bug_hunt_2
"""
import numpy as np

from minirnn.cells import LSTM, lstm_step_backward, step_cache


def lstm_backward(dh, cache):
    """dh: (N, T, H). Returns dx: (N, T, D), dh0, dc0: (N, H), dWx: (D, 4H), dWh: (H, 4H),
    db: (4H,)."""
    x = cache["x"]
    dx = np.zeros_like(x)
    dWx, dWh, db = (np.zeros_like(cache[name]) for name in ("Wx", "Wh", "b"))
    dnext_h = np.zeros_like(cache["h0"])
    dnext_c = np.zeros_like(cache["c0"])
    for t in reversed(range(x.shape[1])):
        step = step_cache(LSTM, cache, t)
        dx[:, t], dnext_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dnext_h, dnext_c, step)
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dnext_h, dprev_c, dWx, dWh, db
