"""Exercise 2, rnn_step: one step of a tanh RNN, forward and backward.

What it teaches: the local derivative of tanh, taken from the forward's output (1 - h^2), and the
four products that carry a step's gradient to x, prev_h and the weights.

Shape legend: N batch, D input features, H hidden units. Row-vector layout, as in the library:

    a      = x @ Wx + prev_h @ Wh + b      x: (N, D)  prev_h: (N, H)  Wx: (D, H)  Wh: (H, H)
    next_h = tanh(a)                       b: (H,)    next_h: (N, H)

`d<name>` means dLoss/d<name>. The library's version: minirnn/cells/rnn.py (read it after).

    python -m minirnn exercises check rnn_step
    python -m minirnn exercises hint rnn_step
"""
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One step. Returns next_h: (N, H) and a cache: a dict of whatever your backward needs."""
    # TODO: your code here (about 3 lines)
    raise NotImplementedError("rnn_step_forward")


def rnn_step_backward(dnext_h, cache):
    """dnext_h: (N, H). Returns dx: (N, D), dprev_h: (N, H), dWx: (D, H), dWh: (H, H), db: (H,)."""
    # TODO: your code here (about 7 lines)
    raise NotImplementedError("rnn_step_backward")
