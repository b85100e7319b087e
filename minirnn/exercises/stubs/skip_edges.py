"""Exercise 11, skip_edges: a layer's output gradient is the sum over every edge leaving it.

What it teaches: with l-2 -> l edges, layer l's input is out_{l-1} + out_{l-2}: both get all of
its input gradient, so a layer's output gradient is the sum of what each layer reading it hands
back (the fan-out is summed).

Shape legend: N batch, T time steps, D input features, L = 4 layers of H = 3 tanh-RNN units.

    in_1 = x;  in_2 = out_1;  in_3 = out_2 + out_1;  in_4 = out_3 + out_2;  y = out_4

net.layer_sources(l) lists the layers whose outputs are summed into layer l's input. The library
gives you one layer's backward (stack.py):

    dinputs, dparams, dinitial, _ = layer_backward(net.spec, dout_l, cache.layers[l], {}, "numpy")

dinputs: [dLoss/d(in_l) (N, T, W_{l-1})] (one direction); dparams: {"fwd": [dWx, dWh, db]} in
the order of net.param_keys(l, "fwd"). Your function is checked against `net.backward` (stack.py:
`pass_down`, `accumulate`). The gradient paths this creates are counted in exercise 14.

    python -m minirnn exercises check skip_edges
    python -m minirnn exercises hint skip_edges
"""
from minirnn.stack import layer_backward


def skip_backward(net, dy, cache):
    """net: the StackedRNN (skip="l-2"); dy: (N, T, H) the gradient on y; cache: from
    net.forward. Returns dx: (N, T, D) and grads: {key: gradient} with the keys of net.params.
    """
    L = net.num_layers
    dout = {L: dy}
    grads = {}
    # TODO: your code here (about 8 lines)
    raise NotImplementedError("skip_backward")
