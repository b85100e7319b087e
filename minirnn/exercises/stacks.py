"""Exercises 9-11: backward through depth. Two layers of different widths, a bidirectional
layer, skip edges.

Shape legend: N batch, T time steps, D input features, L layers, H_l hidden units of layer l,
W_l = H_l * directions the width of its output.

The learner writes a whole StackedRNN backward, `(net, dy, cache) -> (dx, grads)` with grads keyed
like net.params; the solution is `net.backward` itself, on the NumPy reference. Every bug is the
stack's own routing (stack.py's output_gradients, layer_backward, pass_down) with one mistake made.
"""
import numpy as np

from ..stack import (StackedRNN, direction_part, layer_backward, output_gradients, pass_down,
                     run_order)
from .exercise import Bug, Exercise, Output, Task, gradients_of
from .witness import stack_witness

N, T = 3, 5


def stack_net(config, inputs=None):
    """The exercise's network (NumPy reference), with the parameters in `inputs` if given."""
    net = StackedRNN(**config, backend="numpy")
    if inputs is not None:
        net.params = {key: inputs[key] for key in net.params}
    return net


def stack_inputs(config):
    """make_inputs for a stack exercise: x, random nonzero initial states, the parameters (by
    key; three times larger in the saturated regime) and dy."""
    def make_inputs(rng, saturated):
        net = stack_net(config)
        scale = 3.0 if saturated else 1.0
        inputs = {"x": rng.standard_normal((N, T, net.input_size))}
        for l, states in enumerate(net.random_states(N, rng), start=1):
            inputs.update({f"{name}0 of layer {l}": s for name, s in states.items()})
        inputs.update({key: scale * rng.standard_normal(p.shape) for key, p in net.params.items()})
        inputs["dy"] = rng.standard_normal((N, T, net.output_widths()[-1]))
        return inputs
    return make_inputs


def stack_forward(config, inputs):
    net = stack_net(config, inputs)
    states = [{name: inputs[f"{name}0 of layer {l}"] for name in net.spec.state_names}
              for l in range(1, net.num_layers + 1)]
    y, _, cache = net.forward(inputs["x"], initial_states=states)
    return net, y, cache


def stack_task(function, config, bugs, torch=False):
    """The task of writing `function(net, dy, cache) -> (dx, grads)` for the network `config`;
    torch: whether PyTorch can witness it (one hidden size, no skip edges)."""
    net = stack_net(config)
    widths = [net.input_size] + net.output_widths()

    def run(fns, inputs):
        net, _, cache = stack_forward(config, inputs)
        dx, grads = fns[function](net, inputs["dy"], cache)
        return (dx, *(grads[key] for key in net.params))

    def output(fns, inputs):
        return stack_forward(config, inputs)[1]

    outputs = [Output("dx", "(N, T, D)", time_axis=True)]
    for l in range(1, net.num_layers + 1):
        for d in net.directions:
            legends = {"Wx": f"(W_{l - 1}, H_{l}) = ({widths[l - 1]}, {net.hidden_sizes[l - 1]})",
                       "Wh": f"(H_{l}, H_{l})", "b": f"(H_{l},)"}
            outputs += [Output(key, legends.get(key.rsplit(".", 1)[1], "see net.params"),
                               where=f"layer {l} ({d})") for key in net.param_keys(l, d)]
    gradient_of = gradients_of(output, "dy", dx="x", **{key: key for key in net.params})
    witness = stack_witness(lambda inputs: stack_forward(config, inputs)) if torch else None
    return Task(function, run, tuple(outputs), gradient_of=gradient_of, bugs=bugs, torch=witness)


def routing_variant(net, dy, cache, down=lambda dinput, dout: dinput,
                    skip=lambda dinput, dout: dinput):
    """StackedRNN.backward's routing over depth, with one mistake in what a layer hands to the
    layer below (down) or along its skip edges (skip), given its input gradient and its output
    gradient."""
    dout = output_gradients(net, dy, cache)
    grads = {}
    for l in range(net.num_layers, 0, -1):
        dinputs, dparams, _, _ = layer_backward(net.spec, dout[l], cache.layers[l], {}, "numpy")
        for dinput in dinputs:
            pass_down([l - 1], down(dinput, dout[l]), cache.dropout, dout)
            pass_down(net.layer_sources(l)[1:], skip(dinput, dout[l]), cache.dropout, dout)
        for d, values in dparams.items():
            grads.update(zip(net.param_keys(l, d), values))
    return dout[0], grads


def reference(net, dy, cache):
    """The solution of every stack exercise: the library's backward, on the NumPy reference."""
    return net.backward(dy, cache, backend="numpy")


# ---- 9. stacked_backward ------------------------------------------------------------------------
STACKED = {"cell": "gru", "input_size": 3, "hidden_sizes": [4, 2], "seed": 0}


def nothing_handed_down(net, dy, cache):
    return routing_variant(net, dy, cache, down=lambda dinput, dout: 0 * dinput)


def last_step_handed_down(net, dy, cache):
    def last_step_only(dinput, dout):
        kept = np.zeros_like(dinput)
        kept[:, -1] = dinput[:, -1]
        return kept
    return routing_variant(net, dy, cache, down=last_step_only)


STACKED_BACKWARD = Exercise(
    name="stacked_backward",
    title="Two layers of different widths: the gradient handed down",
    teaches="Layer 2 reads layer 1's whole output sequence, so layer 2's input gradient dx, "
            "(N, T, W_1) at every step, is\nlayer 1's output gradient: the same BPTT, one layer at "
            "a time, from the top down.",
    stub="stacked_backward.py",
    reference={"stacked_backward": reference},
    tasks=(stack_task("stacked_backward", STACKED, (
        Bug("nothing handed down", "layer 2's backward returns the gradient on its input, which "
            "is layer 1's output: that is the dout layer 1's backward starts from.",
            nothing_handed_down, ("dx",) + tuple(stack_net(STACKED).param_keys(1, "fwd")),
            at=("parameter gradients wrong in layer 1 (fwd); right in layer 2 (fwd)", "t = 4")),
        Bug("only the last step handed down", "layer 2 read layer 1's output at every step, so "
            "its input gradient at every step goes down, not only at t = T-1.",
            last_step_handed_down, ("dx",) + tuple(stack_net(STACKED).param_keys(1, "fwd")),
            at=("parameter gradients wrong in layer 1 (fwd); right in layer 2 (fwd)",
                "t = 3")))),),
    make_inputs=stack_inputs(STACKED),
    sizes={"N": N, "T": T, "D": 3, "H_1": 4, "H_2": 2},
    hints=("Go down the layers, L first. Each layer's backward starts from the gradient on its "
           "output and returns the gradient on its input.",
           "layer_backward(net.spec, dout, cache.layers[l], {}, 'numpy') returns ([dinput], "
           "{'fwd': [dWx, dWh, ...]}, ...); dinput is the next layer down's dout.",
           "dout = dy; for l in (2, 1): dinputs, dparams, _, _ = layer_backward(...); grads "
           "update from zip(net.param_keys(l, 'fwd'), dparams['fwd']); dout = dinputs[0]; "
           "return dout, grads."))


# ---- 10. bidirectional_backward -----------------------------------------------------------------
BIDIRECTIONAL = {"cell": "rnn", "input_size": 3, "hidden_sizes": [4], "bidirectional": True,
                 "seed": 0}


def direction_variant(net, dy, cache, reverse_dh=True, reverse_dx=True, halves_swapped=False):
    """One bidirectional layer's backward (stack.py's layer_backward) with one mistake."""
    spec, H = net.spec, net.hidden_sizes[0]
    dx, grads = np.zeros_like(cache.outputs[0]), {}
    for k, d in enumerate(net.directions):
        part = direction_part(dy, 1 - k if halves_swapped else k, H)
        dx_d, *rest = spec.backward(run_order(part, d) if reverse_dh else part, cache.layers[1][d])
        dx += run_order(dx_d, d) if reverse_dx else dx_d
        grads.update(zip(net.param_keys(1, d), rest[len(spec.state_names):]))
    return dx, grads


def reverse_gradient_not_reversed(net, dy, cache):
    return direction_variant(net, dy, cache, reverse_dh=False)


def reverse_dx_not_turned_back(net, dy, cache):
    return direction_variant(net, dy, cache, reverse_dx=False)


def direction_halves_swapped(net, dy, cache):
    return direction_variant(net, dy, cache, halves_swapped=True)


BWD_KEYS = tuple(stack_net(BIDIRECTIONAL).param_keys(1, "bwd"))
FWD_KEYS = tuple(stack_net(BIDIRECTIONAL).param_keys(1, "fwd"))

BIDIRECTIONAL_BACKWARD = Exercise(
    name="bidirectional_backward",
    title="The reverse direction's time order",
    teaches="The reverse direction ran on x[:, ::-1]: its step k read time T-1-k. Its gradient "
            "must be put in the order\nit ran before its BPTT (dh[:, ::-1]), and its dx turned "
            "back to forward time before it is added to the forward direction's.",
    stub="bidirectional_backward.py",
    reference={"bidirectional_backward": reference},
    tasks=(stack_task("bidirectional_backward", BIDIRECTIONAL, (
        Bug("the reverse direction's gradient not reversed", "dy[:, t] belongs to time t, but "
            "the reverse direction's step k ran at time T-1-k: give its backward dy[..., H:][:, "
            "::-1].", reverse_gradient_not_reversed, ("dx",) + BWD_KEYS,
            at=("parameter gradients wrong in layer 1 (bwd); right in layer 1 (fwd)", "t = 4")),
        Bug("the reverse direction's dx not turned back", "its backward returns dx in the order "
            "it ran; reverse it (dx[:, ::-1]) before adding it to the forward direction's.",
            reverse_dx_not_turned_back, ("dx",),
            at=("dx first diverges at t = 4",
                "parameter gradients right in every layer and direction")),
        Bug("the direction halves swapped", "the layer's output is [forward | reverse] along the "
            "last axis: the forward direction's gradient is dy[..., :H].",
            direction_halves_swapped, ("dx",) + FWD_KEYS + BWD_KEYS,
            at=("parameter gradients wrong in layer 1 (fwd), layer 1 (bwd)", "t = 4"))),
        torch=True),),
    make_inputs=stack_inputs(BIDIRECTIONAL),
    sizes={"N": N, "T": T, "D": 3, "H": 4},
    hints=("Each direction is its own cell with its own parameters; the layer's output is the two "
           "side by side, forward first.",
           "The reverse direction's cache is in the order it ran (reversed time): what you give "
           "its backward must be in that order too, and what it returns is in that order.",
           "for k, d in enumerate(('fwd', 'bwd')): g = dy[..., k*H:(k+1)*H]; if d == 'bwd': g = "
           "g[:, ::-1]; dx_d, dh0, *dparams = net.spec.backward(g, cache.layers[1][d]); dx += "
           "dx_d if d == 'fwd' else dx_d[:, ::-1]."))


# ---- 11. skip_edges -----------------------------------------------------------------------------
SKIPS = {"cell": "rnn", "input_size": 2, "hidden_sizes": [3, 3, 3, 3], "skip": "l-2", "seed": 0}


def skip_fan_out_not_summed(net, dy, cache):
    return routing_variant(net, dy, cache, skip=lambda dinput, dout: 0 * dinput)


def skip_carries_output_gradient(net, dy, cache):
    return routing_variant(net, dy, cache, skip=lambda dinput, dout: dout)


LOW_KEYS = tuple(k for l in (1, 2) for k in stack_net(SKIPS).param_keys(l, "fwd"))

SKIP_EDGES = Exercise(
    name="skip_edges",
    title="Skip edges: a layer's gradient is the sum over every edge leaving it",
    teaches="With l-2 -> l edges, layer l's input is out_{l-1} + out_{l-2}: both get all of its "
            "input gradient, so a layer's\noutput gradient is the sum of what each layer reading "
            "it hands back (the fan-out is summed).",
    stub="skip_edges.py",
    reference={"skip_backward": reference},
    tasks=(stack_task("skip_backward", SKIPS, (
        Bug("skip fan-out not summed", "layer l-2's output feeds layer l-1 and, through the skip "
            "edge, layer l: add both input gradients into its dout.", skip_fan_out_not_summed,
            ("dx",) + LOW_KEYS,
            at=("parameter gradients wrong in layer 1 (fwd), layer 2 (fwd); right in layer 3 "
                "(fwd), layer 4 (fwd)", "t = 4")),
        Bug("the skip edge carries the output gradient", "the skip edge ends at layer l's "
            "input, so it carries back dLoss/d(input of l), what layer l's backward returns, "
            "not dLoss/d(output of l).", skip_carries_output_gradient, ("dx",) + LOW_KEYS,
            at=("parameter gradients wrong in layer 1 (fwd), layer 2 (fwd)", "t = 4")))),),
    make_inputs=stack_inputs(SKIPS),
    sizes={"N": N, "T": T, "D": 2, "H_l": 3, "L": 4},
    hints=("Every layer reads a sum of outputs (net.layer_sources(l): l-1 and l-2): in the "
           "backward, each of them gets the whole input gradient.",
           "Keep one dout per layer, start them at zero (dout[L] = dy), and add (+=) every input "
           "gradient a layer hands back into the dout of each of its sources.",
           "for l from L down to 1: dinputs, dparams, _, _ = layer_backward(net.spec, dout[l], "
           "cache.layers[l], {}, 'numpy'); for src in net.layer_sources(l): dout[src] += "
           "dinputs[0]; return dout[0] (dx) and the grads."))
