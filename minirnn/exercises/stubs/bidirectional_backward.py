"""Exercise 10, bidirectional_backward: the reverse direction's time order.

What it teaches: the reverse direction ran on x[:, ::-1], so its step k read time T-1-k. Its
gradient must be put in the order it ran before its BPTT (dh[:, ::-1]), and its dx turned back to
forward time before it is added to the forward direction's.

Shape legend: N batch, T time steps, D input features, H hidden units per direction (here one
bidirectional tanh-RNN layer, H = 4, return_sequences=True).

    h_fwd = rnn(x)                      (N, T, H)
    h_bwd = rnn'(x[:, ::-1])[:, ::-1]   (N, T, H)  its own parameters; back in forward time
    y     = [h_fwd | h_bwd]             (N, T, 2H) along the last axis

cache.layers[1]["fwd"] and cache.layers[1]["bwd"] are the two directions' sequence caches, each in
the order that direction ran. `net.spec.backward(dh, cell_cache)` is the cell's BPTT (exercise 3's):
it returns dx, dh0, dWx, dWh, db in that same order. Your function is checked against
`net.backward` (stack.py: `layer_backward`, `direction_part`, `run_order`).

    python -m minirnn exercises check bidirectional_backward
    python -m minirnn exercises hint bidirectional_backward
"""
import numpy as np


def bidirectional_backward(net, dy, cache):
    """net: the StackedRNN; dy: (N, T, 2H) the gradient on y; cache: from net.forward.

    Returns dx: (N, T, D) and grads: {key: gradient} with the keys of net.params
    (net.param_keys(1, "fwd") and net.param_keys(1, "bwd")).
    """
    H = net.hidden_sizes[0]
    dx = np.zeros_like(cache.outputs[0])
    grads = {}
    # TODO: your code here (about 7 lines)
    raise NotImplementedError("bidirectional_backward")
