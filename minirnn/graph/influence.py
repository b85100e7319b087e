"""How far influence travels in the graph: the Jacobian of each node's prediction with respect to
every node's past inputs, from backward passes of the model itself.

Shape legend: T window length, N nodes, F input features per node, O outputs per node.

    J[i, o, t, j, f] = d out[i, o] / d x[t, j, f]        one window x: (T, N, F)

where out is the model's prediction from the window (its last step with return_sequences). Row
(i, o) of J is what `model.backward` returns as dx for the upstream gradient that is 1 on
out[i, o] and 0 elsewhere; `prediction_jacobian` runs all N*O rows as one batch of copies of the
window. Nothing here repeats the model's maths, so the map shows what the model computes.

A K-hop graph GRU moves information at most K hops a step, so J[i, :, t, j] is exactly zero
when j is more than K (T - t) hops from i (`GraphRNN.reach`); message passing reaches K hops
whatever t; the per-node stack alone, 0 hops (only J[i, :, :, i] is nonzero).
"""
import numpy as np

from ..validation import check_float_array, shape_str


def prediction_jacobian(model, x):
    """J: (N, O, T, N, F) (module docstring) for one window x: (T, N, F) of a GraphRNN (or any
    model with its forward/backward protocol, output (B, N, O) or (B, T, N, O))."""
    check_float_array("x", x)
    N, O = model.num_nodes, model.output_size
    if x.ndim != 3 or x.shape[1] != N:
        raise ValueError(f"x must be one window of shape (T, {N}, F); got shape "
                         f"{shape_str(x.shape)}")
    rows = np.arange(N * O)
    out, cache = model.forward(np.repeat(x[None], len(rows), axis=0))  # copy r seeds row r
    seed = np.zeros_like(out)
    last = (slice(None), -1) if out.ndim == 4 else (slice(None),)
    seed[last][rows, rows // O, rows % O] = 1.0  # row r = (node r // O, output r % O)
    dx, _ = model.backward(seed, cache)
    return dx.reshape((N, O) + x.shape)


def influence(model, windows):
    """The influence map: influence[i, t, j] = ||J[i, :, t, j, :]|| (over outputs and input
    features), averaged over windows: (B, T, N, F). Returns (N, T, N): target node i, input
    step t of the window, source node j."""
    check_float_array("windows", windows)
    if windows.ndim != 4:
        raise ValueError(f"windows must have shape (B, T, N, F); got shape "
                         f"{shape_str(windows.shape)}")
    B, T, N, _ = windows.shape
    total = np.zeros((N, T, N))
    for x in windows:
        J = prediction_jacobian(model, x)
        total += np.sqrt(np.sum(J ** 2, axis=(1, 4)))  # (N, T, N)
    return total / B
