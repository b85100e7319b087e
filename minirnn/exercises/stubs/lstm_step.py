"""Exercise 6, lstm_step: one LSTM step backward.

What it teaches: two states leave the step, so two gradients arrive; c_t also feeds
h_t = o tanh(c_t), so the total dc adds that path. One matrix product per weight, on da = the four
gates' local gradients side by side in i, f, g, o order.

Shape legend: N batch, D input features, H hidden units. Row-vector layout, gate order i, f, g, o
along the 4H axis (as PyTorch's nn.LSTM):

    a      = x @ Wx + prev_h @ Wh + b             Wx: (D, 4H)  Wh: (H, 4H)  b: (4H,)
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2H]), sigmoid(a[:, 3H:])
    g      = tanh(a[:, 2H:3H])
    next_c = f * prev_c + i * g
    next_h = o * tanh(next_c)

The forward is the library's `lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)`; its cache holds x,
prev_h, prev_c, Wx, Wh, ifgo (N, 4H) = the four gates' values side by side, next_c, tanh_c.
dnext_c is the gradient step t+1 sends back to c_t, *not* the total dLoss/dc_t (see
docs/derivations.md). The library's version: minirnn/cells/lstm.py (read it after).

    python -m minirnn exercises check lstm_step
    python -m minirnn exercises hint lstm_step
"""
import numpy as np


def lstm_step_backward(dnext_h, dnext_c, cache):
    """dnext_h, dnext_c: (N, H). Returns dx: (N, D), dprev_h: (N, H), dprev_c: (N, H),
    dWx: (D, 4H), dWh: (H, 4H), db: (4H,)."""
    i, f, g, o = np.split(cache["ifgo"], 4, axis=1)
    # TODO: your code here (about 12 lines)
    raise NotImplementedError("lstm_step_backward")
