"""Saliency: how much an output depends on each input step and on each layer's state at each step.

Shape legend: N batch, T time steps, D input features, L layers, H_l hidden units,
W_l = H_l * num_directions.

For a scalar output o = sum(dy * y) (by default unit k of y at one step, summed over the batch),
the saliency of the input is dL/dx_t and the saliency of layer l is the *total* derivative
dL/dh^l_t: the effect of nudging h^l_t on everything after it, through the layers above and
through the layer's own later steps. That total is the gradient BPTT carries into step t,

    dh_t = dout_t + dh_t^{from t+1}        (`dnext[0]` in cells/sequence.py's BPTT loop),

so saliency is one call of the stack's own backward, `net.backward(...,
return_state_gradients=True)`: the NumPy reference's BPTT loop records dh_t at every step as it
goes (cells/sequence.py). For the LSTM the cell state's total dL/dc_t also counts its path into
h_t = o_t tanh(c_t) (`lstm_total_gradients`, the expression the step backward starts from). The
map is the (T, L+1) table of batch-mean norms: column 0 the input, column l layer l.

`cell_trace` does the same for one cell's sequence cache (e.g. from `lstm_forward`), and adds
each step's contribution to each parameter gradient: "every state gradient right, dWh wrong"
then reads as a summing bug, "the contributions right from step 3 down" as a wrong step.
"""
from dataclasses import dataclass

import numpy as np

from ..cells import get_cell
from ..cells.sequence import sequence_backward


def state_gradients(net, cache, dy):
    """dL/dx and every layer's total state gradients for the upstream gradient dy on y.

    Returns dx: (N, T, D) and {l: {state name: (N, T, W_l)}} (both directions concatenated,
    in forward time). dx equals the dx of net.backward(dy, cache).
    """
    dx, _, totals = net.backward(dy, cache, return_state_gradients=True)
    return dx, totals


@dataclass
class Saliency:
    """input_gradient: (N, T, D) dL/dx_t; state_gradients: {l: {'h': (N, T, W_l), 'c': ...}};
    map: (T, L+1) batch-mean norms, column 0 the input and column l layer l's h."""
    input_gradient: np.ndarray
    state_gradients: dict
    map: np.ndarray


def select_output(net, y, output_step, output_unit):
    """dy selecting y[:, output_step, output_unit] (or y[:, output_unit]) for every sequence."""
    dy = np.zeros_like(y)
    if net.return_sequences:
        dy[:, output_step, output_unit] = 1.0
    else:
        dy[:, output_unit] = 1.0
    return dy


def saliency(net, x, dy=None, output_step=-1, output_unit=0, initial_states=None,
             backend="numpy"):
    """Saliency of the input steps and of every layer's states for one output.

    x: (N, T, D). dy: None, or the upstream gradient on y (y's shape) defining the output
    o = sum(dy * y); None selects unit `output_unit` of y at step `output_step` (return_sequences)
    or of the final summary. backend: of the forward pass (the backward always runs the NumPy
    reference, which records the state gradients). Returns a Saliency.
    """
    y, _, cache = net.forward(x, initial_states=initial_states, backend=backend)
    dy = select_output(net, y, output_step, output_unit) if dy is None else dy
    dx, totals = state_gradients(net, cache, dy)
    columns = [np.linalg.norm(dx, axis=-1).mean(axis=0)]
    columns += [np.linalg.norm(totals[l]["h"], axis=-1).mean(axis=0)
                for l in range(1, net.num_layers + 1)]
    return Saliency(input_gradient=dx, state_gradients=totals, map=np.stack(columns, axis=1))


@dataclass
class CellTrace:
    """What one cell's BPTT computed on the way. grads: what its sequence backward returns,
    (dx, *dinitial_states, *dparams); states: {state name: (N, T, H)} the total dLoss/ds_t;
    parameter_steps: {parameter name: (T, *its shape)} step t's part of each parameter gradient
    (their sum over t is the gradient)."""
    grads: tuple
    states: dict
    parameter_steps: dict


def cell_trace(cell, dh, cache, *dfinal_states):
    """The NumPy reference's BPTT of one cell (its registered name, e.g. "lstm") on its sequence
    cache, recording the total state gradients and the per-step parameter gradients.
    dh: (N, T, H); dfinal_states: per state, None or (N, H). Returns a CellTrace."""
    grads, states, steps = sequence_backward(get_cell(cell), dh, cache, *dfinal_states,
                                             state_gradients=True, parameter_steps=True)
    return CellTrace(grads, states, steps)
