"""Saliency: how much an output depends on each input step and on each layer's state at each step.

Shape legend: N batch, T time steps, D input features, L layers, H_l hidden units,
W_l = H_l * num_directions.

For a scalar output o = sum(dy * y) (by default unit k of y at one step, summed over the batch),
the saliency of the input is dL/dx_t and the saliency of layer l is the *total* derivative
dL/dh^l_t: the effect of nudging h^l_t on everything after it, through the layers above and
through the layer's own later steps. That total is the gradient BPTT carries into step t,

    dh_t = dout_t + dh_t^{from t+1}        (the value `dnext_h` in the cells' backward loops),

so this module runs backward over depth with StackedRNN.backward's own pieces
(`output_gradients`, `pass_down`), but over time with the cells' one-step backward so it can
record dh_t at every step. For the LSTM it also records the total
dL/dc_t = dc_t^{from t+1} + dh_t * o_t * (1 - tanh(c_t)^2) (on updated steps). The map is the
(T, L+1) table of batch-mean norms: column 0 the input, column l layer l.
"""
from dataclasses import dataclass

import numpy as np

from ..cells.activations import dtanh
from ..cells.gru import gru_step_backward, gru_step_cache
from ..cells.lstm import lstm_step_backward, lstm_step_cache
from ..cells.masking import split_gradient
from ..cells.rnn import rnn_step_backward, rnn_step_cache
from ..stack import add_all

STEP_BACKWARD = {"rnn": (rnn_step_backward, rnn_step_cache),
                 "lstm": (lstm_step_backward, lstm_step_cache),
                 "gru": (gru_step_backward, gru_step_cache)}


def direction_state_gradients(cell, dh, cache):
    """BPTT of one direction of one layer, recording the total state gradients.

    dh: (N, T, H) gradient on the direction's outputs; cache: its sequence cache.
    Returns dx: (N, T, D_l) and {state name: (N, T, H) total dL/dstate_t}.
    """
    step_backward, step_cache = STEP_BACKWARD[cell]
    names = ("h", "c") if cell == "lstm" else ("h",)
    mask, T = cache["mask"], dh.shape[1]
    dx = np.zeros_like(cache["x"])
    totals = {name: np.zeros_like(dh) for name in names}
    dnext = [np.zeros_like(dh[:, 0]) for _ in names]  # gradients arriving from step t+1
    for t in reversed(range(T)):
        dnext[0] = dnext[0] + dh[:, t]  # h_t is read by the output at t and by step t+1
        totals["h"][:, t] = dnext[0]
        splits = [split_gradient(mask, t, d) for d in dnext]
        step = step_cache(cache, t)
        if cell == "lstm":  # c_t also reaches the loss through h_t = o_t tanh(c_t)
            o = step["ifgo"][:, 3 * dh.shape[2]:]
            totals["c"][:, t] = dnext[1] + splits[0][0] * o * dtanh(step["tanh_c"])
        dx[:, t], *dprev = step_backward(*[through for through, _ in splits], step)[:1 + len(names)]
        dnext = [dp + carried for dp, (_, carried) in zip(dprev, splits)]
    return dx, totals


def state_gradients(net, cache, dy):
    """dL/dx and every layer's total state gradients for the upstream gradient dy on y.

    Returns dx: (N, T, D) and {l: {state name: (N, T, W_l)}} (both directions concatenated,
    in forward time). dx equals the dx of net.backward(dy, cache).
    """
    douts = net.output_gradients(dy, cache)
    totals = {}
    for l in range(net.num_layers, 0, -1):
        H, dout = net.hidden_sizes[l - 1], add_all(douts[l])
        dlayer_input, per_direction = [], []
        for k, d in enumerate(net.directions):
            dh = dout[..., k * H:(k + 1) * H]  # this direction's half of the output
            time = slice(None) if d == "fwd" else slice(None, None, -1)  # bwd ran reversed
            dseq, states = direction_state_gradients(net.cell, dh[:, time], cache["layers"][l][d])
            dlayer_input.append(dseq[:, time])
            per_direction.append({name: g[:, time] for name, g in states.items()})
        totals[l] = {name: np.concatenate([p[name] for p in per_direction], axis=-1)
                     for name in per_direction[0]}
        net.pass_down(l, add_all(dlayer_input), cache, douts)
    return add_all(douts[0]), totals


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
             backend=None):
    """Saliency of the input steps and of every layer's states for one output.

    x: (N, T, D). dy: None, or the upstream gradient on y (y's shape) defining the output
    o = sum(dy * y); None selects unit `output_unit` of y at step `output_step` (return_sequences)
    or of the final summary. Returns a Saliency.
    """
    y, _, cache = net.forward(x, initial_states=initial_states, backend=backend)
    dy = select_output(net, y, output_step, output_unit) if dy is None else dy
    dx, totals = state_gradients(net, cache, dy)
    columns = [np.linalg.norm(dx, axis=-1).mean(axis=0)]
    columns += [np.linalg.norm(totals[l]["h"], axis=-1).mean(axis=0)
                for l in range(1, net.num_layers + 1)]
    return Saliency(input_gradient=dx, state_gradients=totals, map=np.stack(columns, axis=1))
