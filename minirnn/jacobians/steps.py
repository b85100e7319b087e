"""The exact one-step Jacobians of every layer, direction and time step of a StackedRNN run.

Shape legend: N batch, T time steps, L layers, H_l hidden units of layer l, W_l = H_l * dirs the
width of layer l's output (W_0 = D, the input), S the size of a cell's state: H for the RNN and
GRU, 2H for the LSTM, whose state is the pair s = (h, c) stacked as [h, c] (any cell: its states
stacked in its `state_names` order).

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
other input of the step held fixed. They come from the cell's exact `step_jacobians` (for a cell
that has none, from centered differences of its step forward, with a warning).
"""
import warnings
from dataclasses import dataclass

import numpy as np

from ..cells import get_cell
from ..cells.sequence import step_cache
from ..stack import run_order


def state_jacobians(cell, blocks):
    """The state-level Jacobians of one step from a cell's named blocks ("dnext_h/dprev_c", ...):
    (temporal (N, S, S), input (N, S, D)), the states stacked in the cell's order ([h, c] for the
    LSTM, S = 2H)."""
    names = get_cell(cell).state_names
    temporal = np.concatenate([np.concatenate([blocks[f"dnext_{a}/dprev_{b}"] for b in names],
                                              axis=2) for a in names], axis=1)
    return temporal, np.concatenate([blocks[f"dnext_{a}/dx"] for a in names], axis=1)


def state_blocks(J, cell):
    """Name the (H, H) blocks of a state Jacobian J (..., S, S) of the cell, e.g. for the LSTM
    "dnext_h/dprev_h", "dnext_h/dprev_c", "dnext_c/dprev_h", "dnext_c/dprev_c"."""
    names = get_cell(cell).state_names
    H = J.shape[-1] // len(names)
    return {f"dnext_{a}/dprev_{b}": J[..., r * H:(r + 1) * H, c * H:(c + 1) * H]
            for r, a in enumerate(names) for c, b in enumerate(names)}


def numerical_step_jacobians(spec, cache, eps=1e-6):
    """The blocks `step_jacobians` would return, by centered differences of `spec.step_forward`,
    for a cell that gives no step Jacobians. cache: a step cache from `sequence.step_cache`.
    Computed in float64: accurate to about 1e-9 of their scale."""
    names = spec.state_names
    inputs = {name: np.asarray(cache[name], np.float64) for name in
              ["x"] + ["prev_" + s for s in names]}
    params = [np.asarray(cache[name], np.float64) for name in spec.param_names]

    def next_states(**nudged):
        args = {**inputs, **nudged}
        *states, _ = spec.step_forward(args["x"], *(args["prev_" + s] for s in names), *params,
                                       cache["recurrent_mask"])
        return states

    blocks = {}
    for name, value in inputs.items():
        columns = []  # for each unit j of the input, the change of every next state
        for j in range(value.shape[1]):
            nudge = np.zeros_like(value)
            nudge[:, j] = eps
            plus, minus = next_states(**{name: value + nudge}), next_states(**{name: value - nudge})
            columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
        for k, s in enumerate(names):
            blocks[f"dnext_{s}/d{name}"] = np.stack([column[k] for column in columns], axis=-1)
    return blocks


def sequence_jacobians(cell, cache):
    """One direction of one layer, in the order the cell ran (step k read x[:, k]).

    cell: a registered cell name; cache: its sequence cache (e.g. from `lstm_forward`).
    Returns temporal (N, T, S, S) = d s_k / d s_{k-1} (k = 0 is with respect to the initial state)
    and inputs (N, T, S, D) = d s_k / d x_k; identity and zero at masked steps. A cell without
    `step_jacobians` gets them by centered differences of its step forward, with a warning.
    """
    spec = get_cell(cell)
    jacobians_of = spec.step_jacobians
    if jacobians_of is None:
        warnings.warn(f"cell {spec.name!r} gives no step_jacobians: taking centered differences "
                      f"of its step forward (float64, accurate to about 1e-9)", stacklevel=2)
        jacobians_of = lambda step: numerical_step_jacobians(spec, step)  # noqa: E731
    mask = cache["mask"]
    T = cache["x"].shape[1]
    temporal, inputs = [], []
    for k in range(T):
        J, J_in = state_jacobians(cell, jacobians_of(step_cache(spec, cache, k)))
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
            J, J_in = sequence_jacobians(net.cell, cache.layers[l][d])
            temporal[l][d], inputs[l][d] = run_order(J, d), run_order(J_in, d)  # forward time
        depth[l] = np.concatenate([inputs[l][d][:, :, :H] for d in net.directions], axis=2)
    dropout = cache.dropout
    edges = {(src, l): depth[l] * dropout[src][:, :, None, :] if src in dropout else depth[l]
             for l in depth for src in net.layer_sources(l)}
    skip = {edge: edges[edge] for edge in net.skip_edges}
    return RunJacobians(net.cell, list(net.hidden_sizes), net.directions, temporal, inputs,
                        depth, edges, skip, dropout)
