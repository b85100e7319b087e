"""Reading a layer's state sequences out of a forward cache, for the probes.

Shape legend: N batch, T time steps, L layers, H_l hidden units of layer l,
W_l = H_l * num_directions.

`StackedRNN.forward` keeps every layer's output (its hidden states h) in cache.outputs[l] and
each direction's cell cache in cache.layers[l][direction] (a StackCache, stack.py); the reverse
direction ran on the time-reversed input, so its sequences are turned back here to forward time.
"""
import numpy as np

from ..stack import run_order


def check_layer(net, layer, allow_input=False):
    """Require an int layer number 1..L (0 too with allow_input: the input x)."""
    low = 0 if allow_input else 1
    if not isinstance(layer, (int, np.integer)) or not low <= layer <= net.num_layers:
        raise ValueError(f"layer must be an int in {low}..{net.num_layers}; got {layer!r}")
    return int(layer)


def check_state_name(net, state):
    """Require a state name the cell has: 'h', and 'c' for the LSTM."""
    if state not in net.spec.state_names:
        raise ValueError(f"state must be one of {net.spec.state_names} for a {net.cell} network; "
                         f"got {state!r}")
    return state


def layer_states(net, cache, layer, state="h"):
    """Layer `layer`'s state sequence (N, T, W_l) in forward time, both directions concatenated
    like the layer's output. state: 'h' (the output) or 'c' (the LSTM cell state).
    Layer 0 with state 'h' is the input x."""
    layer = check_layer(net, layer, allow_input=(state == "h"))
    check_state_name(net, state)
    if state == "h":
        return cache.outputs[layer]
    return np.concatenate([run_order(cache.layers[layer][d][state], d) for d in net.directions],
                          axis=-1)


def visited_states(net, cache, layer, direction="fwd", count=None, seed=0):
    """States one direction of a layer visited during a run, as flat vectors (M, S): S = H_l for
    'rnn' and 'gru', S = 2 H_l ([h, c]) for 'lstm'. count: None for all N*T of them, else that
    many drawn at random (the usual starts for a fixed-point search)."""
    layer = check_layer(net, layer)
    if direction not in net.directions:
        raise ValueError(f"direction must be one of {net.directions}; got {direction!r}")
    layer_cache = cache.layers[layer][direction]
    parts = [layer_cache[name] for name in net.spec.state_names]  # each (N, T, H)
    flat = np.concatenate(parts, axis=-1).reshape(-1, sum(p.shape[-1] for p in parts))
    if count is None or count >= len(flat):
        return flat
    rng = np.random.default_rng(seed)
    return flat[rng.choice(len(flat), size=count, replace=False)]
