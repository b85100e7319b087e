"""Exercise 3, rnn_bptt: backpropagation through time.

What it teaches: h_t feeds the output at t and step t+1, so its gradient is the sum of both; the
weights are shared by every step, so their gradients add up (+=) over time.

Shape legend: N batch, T time steps, D input features, H hidden units.

The forward pass is the library's `rnn_forward(x, h0, Wx, Wh, b)`: it returns h: (N, T, H) and a
sequence cache, from which `step_cache(RNN, cache, t)` reads back the cache of step t, ready for
`rnn_step_backward` (exercise 2's, the library's). Going backward, the gradient on h_t is

    dLoss/dh_t = dh[:, t]  (the loss reads h_t)  +  dLoss/dh_t from step t+1 (h_t feeds it)

The library's version of this loop: minirnn/cells/sequence.py, `sequence_backward`.

    python -m minirnn exercises check rnn_bptt
    python -m minirnn exercises hint rnn_bptt
"""
import numpy as np

from minirnn.cells import RNN, rnn_step_backward, step_cache


def rnn_backward(dh, cache):
    """dh: (N, T, H), dLoss/dh_t for every t; cache: from rnn_forward.

    Returns dx: (N, T, D), dh0: (N, H), dWx: (D, H), dWh: (H, H), db: (H,).
    """
    x = cache["x"]
    dx = np.zeros_like(x)
    dWx, dWh, db = (np.zeros_like(cache[name]) for name in ("Wx", "Wh", "b"))
    # TODO: your code here (about 6 lines)
    raise NotImplementedError("rnn_backward")
