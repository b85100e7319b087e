"""Exercise 12, temporal_jacobian: one step's Jacobian, dh_t/dh_{t-1}, and the LSTM's 2H x 2H
(h, c) block.

What it teaches: a backward step is g_in = g_out @ J: dprev_h = dnext_h @ (diag(1 - h^2) Wh^T).
The LSTM's state is (h, c), so its Jacobian has four H x H blocks; dnext_c/dprev_h is not zero:
prev_h moves every gate, and the gates move c.

Shape legend: N batch, H hidden units, S the state size (H; 2H for the LSTM). Column convention:
J[n, i, j] = d next[n, i] / d prev[n, j]; the LSTM's state is stacked [h, c], so

    J = [[dnext_h/dprev_h, dnext_h/dprev_c],
         [dnext_c/dprev_h, dnext_c/dprev_c]]                                       (N, 2H, 2H)

The caches are the library's step caches: rnn_step_forward's {x, prev_h, Wx, Wh, next_h, ...}
and lstm_step_forward's {x, prev_h, prev_c, Wx, Wh, ifgo, next_c, tanh_c, ...} (exercises 2 and
6). The library's versions: `rnn_step_jacobians`, `lstm_step_jacobians` in minirnn/cells/ and
`state_jacobians` in minirnn/jacobians/steps.py.

    python -m minirnn exercises check temporal_jacobian
    python -m minirnn exercises hint temporal_jacobian
"""
import numpy as np


def rnn_step_jacobian(cache):
    """Returns dnext_h/dprev_h: (N, H, H) for a tanh RNN step."""
    # TODO: your code here (about 2 lines)
    raise NotImplementedError("rnn_step_jacobian")


def lstm_step_jacobian(cache):
    """Returns the (N, 2H, 2H) Jacobian of (next_h, next_c) on (prev_h, prev_c)."""
    i, f, g, o = np.split(cache["ifgo"], 4, axis=1)
    # TODO: your code here (about 10 lines)
    raise NotImplementedError("lstm_step_jacobian")
