"""The gradient on every node of the unrolled time x depth grid, from the one-step Jacobians.

Shape legend: N batch, T time steps, L layers, W_l the width of layer l's output (W_0 = D),
S a cell's state size (H; 2H for the LSTM's [h, c]), R the number of gradients carried at once.

`backpropagate` is the stack's backward pass with each step's backward replaced by its Jacobian
(row-vector gradients, column-convention Jacobians, see steps.py). From the top layer down, and
within a layer backwards along each direction's time:

    g_t     = dout_t^l (on the h rows of s_t) + g_{t+1} @ J_{t+1}     total dLoss/ds_t^l
    din_t  += g_t @ Jin_t                                             dLoss/d in_t^l
    dout^src += din      for every source of layer l (l-1 and each skip source; times the
                         source's dropout mask in a training run)

It carries R gradients side by side: R = 1 for one loss (`gradient_flow`), R = W for the rows of a
Jacobian (`output_jacobian`, seeded with the identity). It needs no Jacobian of the whole net
(the products are never formed), and it returns what `StackedRNN.backward` keeps to itself:
dLoss/ds_t^l at every layer and step, the total derivative with respect to that state, through
every later step and every layer above.

"Total" here is with respect to the state pair s_t = (h_t, c_t) as a whole: the c rows of g_t are
dLoss/dc_t with h_t held fixed, the part that comes from step t+1 (J's dnext_h/dprev_c and
dnext_c/dprev_c blocks). The LSTM's saliency (`net.backward(..., return_state_gradients=True)`)
reports instead dLoss/dc_t through every path, including c_t's path into its own
h_t = o_t tanh(c_t): they differ by g_t's h rows times o_t (1 - tanh(c_t)^2)
(`lstm_total_gradients`; docs/derivations.md, section 8).
"""
from dataclasses import dataclass

import numpy as np

from ..stack import direction_part, output_gradients, pass_down
from ..validation import check_shape
from .steps import step_jacobians


@dataclass
class GridGradients:
    """doutputs[l]: (N, R, T, W_l), the gradient on layer l's output sequence from the layers
    above plus any injected there (doutputs[0] is the gradient on x); states[l][d]: (N, R, T, S),
    the total gradient on the state s_t of layer l, direction d; initial[l][d]: (N, R, S), on its
    initial state."""
    doutputs: dict
    states: dict
    initial: dict


def backpropagate(net, jacobians, doutputs):
    """Backpropagate R gradients through the grid with the one-step Jacobians.

    net: the StackedRNN; jacobians: `step_jacobians(net, cache)`; doutputs: {l: (N, R, T, W_l)}
    gradients injected at layer outputs (l = L for a loss on y). Returns GridGradients.
    """
    L, widths = net.num_layers, [net.input_size] + net.output_widths()
    N, T = jacobians.depth[1].shape[:2]
    R = next(iter(doutputs.values())).shape[1] if doutputs else 1
    dtype = jacobians.depth[1].dtype
    dout = {l: np.zeros((N, R, T, widths[l]), dtype) for l in range(L + 1)}
    for l, g in doutputs.items():
        if l not in range(1, L + 1):
            raise ValueError(f"doutputs keys must be layer numbers 1..{L}; got {l!r}")
        check_shape(f"doutputs[{l}]", g, (N, R, T, widths[l]))
        dout[l] += g
    dropout = {src: mask[:, None] for src, mask in jacobians.dropout.items()}  # (N, 1, T, W)
    states, initial = {}, {}
    for l in range(L, 0, -1):
        H = net.hidden_sizes[l - 1]
        din = np.zeros((N, R, T, widths[l - 1]), dtype)
        states[l], initial[l] = {}, {}
        for k, d in enumerate(net.directions):
            J, J_in = jacobians.temporal[l][d], jacobians.inputs[l][d]
            dh = direction_part(dout[l], k, H)
            total = np.zeros((N, R, T, J.shape[-1]), dtype)
            g = np.zeros((N, R, J.shape[-1]), dtype)  # dLoss/ds from the step after t
            for t in (reversed(range(T)) if d == "fwd" else range(T)):
                total[:, :, t] = g
                total[:, :, t, :H] += dh[:, :, t]  # out_t^l is the h part of s_t
                din[:, :, t] += total[:, :, t] @ J_in[:, t]
                g = total[:, :, t] @ J[:, t]
            states[l][d], initial[l][d] = total, g
        pass_down(net.layer_sources(l), din, dropout, dout)
    return GridGradients(dout, states, initial)


def output_jacobian(net, jacobians, layer, t):
    """The Jacobian of one output, out_t^layer (W rows), with respect to every earlier node.

    Returns GridGradients with R = W_layer rows: states[l][d][n, i, u] = d out_t^layer[i] / d s_u
    of layer l, direction d (zero where there is no dependence); doutputs[0][n, i, u] =
    d out_t^layer[i] / d x_u. It is the sum over all paths through time and depth of the products
    of one-step Jacobians, computed without listing the paths.
    """
    L = net.num_layers
    if layer not in range(1, L + 1):
        raise ValueError(f"layer must be in 1..{L}; got {layer!r}")
    N, T = jacobians.depth[1].shape[:2]
    W = net.output_widths()[layer - 1]
    seed = np.zeros((N, W, T, W), jacobians.depth[1].dtype)
    seed[:, np.arange(W), t % T, np.arange(W)] = 1.0
    return backpropagate(net, jacobians, {layer: seed})


def loss_seeds(net, cache, dy, dlayers, loss_layer, loss_time, seed):
    """The output gradients {l: (N, 1, T, W_l)} of `gradient_flow`'s loss: the stack's own
    `output_gradients` for dy and dlayers, else a unit loss at one node."""
    outputs, L = cache.outputs, net.num_layers
    if dy is None and dlayers is None:
        loss_layer = L if loss_layer is None else loss_layer
        if loss_layer not in range(1, L + 1):
            raise ValueError(f"loss_layer must be in 1..{L}; got {loss_layer!r}")
        N, T = outputs[0].shape[:2]
        direction = np.random.default_rng(seed).standard_normal((N, outputs[loss_layer].shape[-1]))
        g = np.zeros_like(outputs[loss_layer])
        g[:, loss_time % T] = direction / np.linalg.norm(direction, axis=1, keepdims=True)
        dlayers = {loss_layer: g}
    seeds = output_gradients(net, dy, cache, dlayers)
    return {l: g[:, None] for l, g in seeds.items() if l > 0}


def gradient_flow(net, x, dy=None, dlayers=None, initial_states=None, mask=None,
                  loss_layer=None, loss_time=-1, seed=0, state="h", backend="numpy"):
    """The gradient-flow map: ||dLoss/dh_t^l|| for every layer l and step t, an (L, T) array
    (the mean over the batch of each sequence's norm; for a bidirectional layer, the norm over
    both directions).

    The loss: dy (on y, as in `net.backward`) and/or dlayers ({l: (N, T, W_l)}, e.g. from
    `minirnn.auxiliary.auxiliary_losses`); if both are None, a loss u . out_t^l at the single node
    l = loss_layer (default L), t = loss_time (default T-1), with a random unit vector u per
    sequence (seeded by `seed`), so that node's gradient has norm 1.
    dLoss/dh_t^l is the total derivative: through the later steps and the layers above.
    initial_states, mask: as in `net.forward` (the run is an evaluation run: no dropout).
    state: "h", another of the cell's states (the LSTM's "c": with h_t held fixed, see the module
    docstring) or "state" (all of them). backend: of the forward pass (the Jacobians always come from the NumPy reference).
    """
    names = net.spec.state_names
    if state not in (*names, "state"):
        raise ValueError(f"state must be one of {names} or 'state' (all of them) for cell "
                         f"{net.cell!r}; got {state!r}")
    _, _, cache = net.forward(x, initial_states, mask=mask, backend=backend)
    grid = backpropagate(net, step_jacobians(net, cache),
                         loss_seeds(net, cache, dy, dlayers, loss_layer, loss_time, seed))
    rows = []
    for l in range(1, net.num_layers + 1):
        H = net.hidden_sizes[l - 1]
        k = names.index(state) if state in names else None
        part = slice(None) if k is None else slice(k * H, (k + 1) * H)  # s_t stacks the states
        g = np.concatenate([grid.states[l][d][:, 0, :, part] for d in net.directions], axis=-1)
        rows.append(np.linalg.norm(g, axis=-1).mean(axis=0))  # (T,)
    return np.stack(rows)
