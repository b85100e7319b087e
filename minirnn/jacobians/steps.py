"""The exact one-step Jacobians of every layer, direction and time step of a StackedRNN run.

Shape legend: N batch, T time steps, L layers, H_l hidden units of layer l, W_l = H_l * dirs the
width of layer l's output (W_0 = D, the input), S the size of a cell's state: H for the RNN and
GRU, 2H for the LSTM, whose state is the pair s = (h, c) stacked as [h, c].

Convention (column, "numerator" layout): J[n, i, j] = d out[n, i] / d in[n, j] for batch element n.
Chains multiply left to right from the late end, d s_3/d s_1 = J_3 @ J_2, and a row-vector
gradient goes back through a step as g_in = g_out @ J (the `@ Wh.T` of the backward passes).

For a layer l and direction d, with in_t^l = out_t^{l-1} + sum over skip edges (src, l) of out_t^src
(each source output times its dropout mask, if the run was a training run with dropout):

    temporal[l][d][:, t] = d s_t / d s_{t-1}  (forward direction)              (N, T, S, S)
                         = d s_t / d s_{t+1}  (reverse direction: it ran on the reversed sequence,
                                               so its step at time t reads the state of time t+1)
    inputs[l][d][:, t]   = d s_t / d in_t^l                                     (N, T, S, W_{l-1})
    depth[l][:, t]       = d out_t^l / d in_t^l: the h rows of inputs, both directions stacked
                                                                                (N, T, W_l, W_{l-1})

    edges[(src, l)][:, t]  = d out_t^l / d out_t^src = depth[l][:, t] @ diag(dropout mask of src)
                                                                                (N, T, W_l, W_src)

Everything is in the original time order, whatever the direction. depth[1] is dh_t/dx_t, and
edges[(l-1, l)] the depth Jacobian dh_t^l/dh_t^{l-1} (= depth[l] outside training). An edge
of the layer graph (l-1 -> l, or a skip edge src -> dst, which adds out_src to in_dst) has the
input Jacobian of its destination times the identity: without dropout `edges[(src, dst)]` is the
same array as `depth[dst]`; `skip` holds the skip edges only. At a masked step (the cell cache's
mask False: a padded step or a clocked layer's idle step, the state is carried) the temporal
Jacobian is the identity and the input Jacobian is zero. These are local Jacobians, with every
other input of the step held fixed.
"""
from dataclasses import dataclass

import numpy as np

from ..cells.gru import gru_step_cache, gru_step_jacobians
from ..cells.lstm import lstm_step_cache, lstm_step_jacobians
from ..cells.rnn import rnn_step_cache, rnn_step_jacobians

STEP_FUNCTIONS = {"rnn": (rnn_step_cache, rnn_step_jacobians),
                  "lstm": (lstm_step_cache, lstm_step_jacobians),
                  "gru": (gru_step_cache, gru_step_jacobians)}

LSTM_BLOCKS = (("dnext_h/dprev_h", "dnext_h/dprev_c"), ("dnext_c/dprev_h", "dnext_c/dprev_c"))


def state_jacobians(cell, step_jacobians):
    """The state-level Jacobians of one step from a cell's named blocks: (temporal (N, S, S),
    input (N, S, D)). For the LSTM, S = 2H with the state ordered [h, c]."""
    if cell != "lstm":
        return step_jacobians["dnext_h/dprev_h"], step_jacobians["dnext_h/dx"]
    temporal = np.concatenate([np.concatenate([step_jacobians[name] for name in row], axis=2)
                               for row in LSTM_BLOCKS], axis=1)
    return temporal, np.concatenate([step_jacobians["dnext_h/dx"], step_jacobians["dnext_c/dx"]],
                                    axis=1)


def lstm_state_blocks(J):
    """Name the four (H, H) blocks of an LSTM state Jacobian (..., 2H, 2H): a dict with keys
    "dnext_h/dprev_h", "dnext_h/dprev_c", "dnext_c/dprev_h", "dnext_c/dprev_c"."""
    H = J.shape[-1] // 2
    return {name: J[..., r * H:(r + 1) * H, c * H:(c + 1) * H]
            for r, row in enumerate(LSTM_BLOCKS) for c, name in enumerate(row)}


def sequence_jacobians(cell, cache):
    """One direction of one layer, in the order the cell ran (step k read x[:, k]).

    cell: 'rnn', 'lstm' or 'gru'; cache: the cell's sequence cache (e.g. from `lstm_forward`).
    Returns temporal (N, T, S, S) = d s_k / d s_{k-1} (k = 0 is with respect to the initial state)
    and inputs (N, T, S, D) = d s_k / d x_k; identity and zero at masked steps.
    """
    if cell not in STEP_FUNCTIONS:
        raise ValueError(f"cell must be one of {sorted(STEP_FUNCTIONS)}; got {cell!r}")
    step_cache, step_jacobians = STEP_FUNCTIONS[cell]
    mask = cache["mask"]
    T = cache["x"].shape[1]
    temporal, inputs = [], []
    for k in range(T):
        J, J_in = state_jacobians(cell, step_jacobians(step_cache(cache, k)))
        if mask is not None:  # a carried state: s_k = s_{k-1}, independent of x_k
            stepped = mask[:, k, None, None]
            J = np.where(stepped, J, np.eye(J.shape[-1], dtype=J.dtype))
            J_in = np.where(stepped, J_in, 0.0)
        temporal.append(J)
        inputs.append(J_in)
    return np.stack(temporal, axis=1), np.stack(inputs, axis=1)


@dataclass
class RunJacobians:
    """The one-step Jacobians of a whole run (see the module docstring for each field)."""
    cell: str
    hidden_sizes: list
    directions: tuple
    temporal: dict   # {l: {direction: (N, T, S, S)}}
    inputs: dict     # {l: {direction: (N, T, S, W_{l-1})}}
    depth: dict      # {l: (N, T, W_l, W_{l-1})}
    edges: dict      # {(src, dst): (N, T, W_dst, W_src)} for every edge of the layer graph
    skip: dict       # {(src, dst): edges[(src, dst)]} for the skip edges
    dropout: dict    # {l: (N, T, W_l)} the run's dropout masks ({} outside training)


def step_jacobians(net, cache):
    """Every one-step Jacobian of the run that produced `cache` (from `net.forward`).

    Works for every cell, bidirectional layers, skip edges, step masks, clocked layers and
    dropout (a training run's masks, from the cache). Returns RunJacobians.
    """
    temporal, inputs, depth = {}, {}, {}
    for l in range(1, net.num_layers + 1):
        H = net.hidden_sizes[l - 1]
        temporal[l], inputs[l] = {}, {}
        for d in net.directions:
            J, J_in = sequence_jacobians(net.cell, cache["layers"][l][d])
            if d == "bwd":  # back to the original time order
                J, J_in = J[:, ::-1], J_in[:, ::-1]
            temporal[l][d], inputs[l][d] = J, J_in
        depth[l] = np.concatenate([inputs[l][d][:, :, :H] for d in net.directions], axis=2)
    dropout = cache["dropout"]
    edges = {(src, l): depth[l] * dropout[src][:, :, None, :] if src in dropout else depth[l]
             for l in depth for src in net.layer_sources(l)}
    skip = {edge: edges[edge] for edge in net.skip_edges}
    return RunJacobians(net.cell, list(net.hidden_sizes), net.directions, temporal, inputs,
                        depth, edges, skip, dropout)
