"""Exercise 4, truncated_bptt: truncated backpropagation through time, in windows of k steps.

What it teaches: cut the sequence into windows [0, k), [k, 2k), ...: the forward still sees the
whole history, but no gradient crosses a window boundary, so dependencies longer than k steps get
no learning signal. This is what `fit(..., truncate_bptt=k)` computes, window by window.

Shape legend: N batch, T time steps, D input features, H hidden units, k the window length.

The forward pass is the library's `rnn_forward(x, h0, Wx, Wh, b)`. Full BPTT (exercise 3):

    dLoss/dh_t = dh[:, t] + (what step t+1 sends back to h_t)

Truncated: step t sends nothing back to h_{t-1} when t starts a window (t % k == 0, t > 0).
The library's version: `sequence_backward(RNN, dh, cache, truncate=k)` in
minirnn/cells/sequence.py.

    python -m minirnn exercises check truncated_bptt
    python -m minirnn exercises hint truncated_bptt
"""
import numpy as np

from minirnn.cells import RNN, rnn_step_backward, step_cache


def rnn_truncated_backward(dh, cache, k):
    """dh: (N, T, H); cache: from rnn_forward; k: the window length (an int >= 1).

    Returns dx: (N, T, D), dh0: (N, H) (from the first window), dWx: (D, H), dWh: (H, H),
    db: (H,).
    """
    x = cache["x"]
    dx = np.zeros_like(x)
    dWx, dWh, db = (np.zeros_like(cache[name]) for name in ("Wx", "Wh", "b"))
    # TODO: your code here (about 8 lines)
    raise NotImplementedError("rnn_truncated_backward")
