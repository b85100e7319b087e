"""Exercise 9, stacked_backward: two layers of different widths, and the gradient handed down.

What it teaches: layer 2 reads layer 1's whole output sequence, so layer 2's input gradient,
(N, T, W_1) at every step, is layer 1's output gradient: the same BPTT, one layer at a time, from
the top down.

Shape legend: N batch, T time steps, D input features, H_l hidden units of layer l (here a GRU
stack with H_1 = 4, H_2 = 2, return_sequences=True).

    out_0 = x;   out_l = cell_l(out_{l-1})        (N, T, H_l);   y = out_2

The library gives you one layer's backward (stack.py):

    dinputs, dparams, dinitial, _ = layer_backward(net.spec, dout_l, cache.layers[l], {}, "numpy")

dout_l: (N, T, H_l), the gradient on layer l's output; dinputs: [dLoss/d(its input) (N, T,
W_{l-1})], one per direction (here only "fwd"); dparams: {"fwd": [dWx, dWh, db, dbhn]} in the
order of net.param_keys(l, "fwd"). Your function is checked against `net.backward` (StackedRNN's
wiring: stack.py, `StackedRNN.backward`, `output_gradients`, `pass_down`).

    python -m minirnn exercises check stacked_backward
    python -m minirnn exercises hint stacked_backward
"""
from minirnn.stack import layer_backward


def stacked_backward(net, dy, cache):
    """net: the StackedRNN; dy: (N, T, H_2) the gradient on y; cache: from net.forward.

    Returns dx: (N, T, D) and grads: {key: gradient} with the keys of net.params.
    """
    grads = {}
    # TODO: your code here (about 6 lines)
    raise NotImplementedError("stacked_backward")
