"""The graph-convolutional GRU: a GRU whose input and recurrent products are K-hop graph
convolutions (DCRNN's DCGRU, Li et al. 2018; T-GCN, Zhao et al. 2019), forward and backward.

Shape legend: B batch, T time steps, N nodes, D input features per node, H hidden units per
node, K hops, M supports; supports: (M, N, N) normalised adjacencies (adjacency.py).

Every node has its own state h_t[i] (H,), and all nodes share the weights. The cell is
minirnn's GRU (cells/gru.py: gate order r, z, n, the reset applied after the recurrent product,
so the candidate keeps its recurrent bias bhn) with each matrix product x @ Wx and h @ Wh replaced
by a graph convolution (convolution.py):

    ax_t = gconv(x_t, Wx) + b                  Wx: ((1 + M K) D, 3H)  b: (3H,)    (B, N, 3H)
    ah_t = gconv(h_{t-1}, Wh) + [0, 0, bhn]    Wh: ((1 + M K) H, 3H)  bhn: (H,)   (B, N, 3H)
    r_t, z_t, n_t, h_t: as in cells/gru.py, node by node (`gru_gates`)

    gconv(v, W) = [v, S_1 v, ..., S_1^K v, ..., S_M^K v] @ W     (convolution.py)

so one step moves information up to K hops: by the gates' inputs (the neighbours' x_t and
h_{t-1}). The update z_t * h_{t-1} stays node-local, as in DCGRU. With K = 0 (W has D rows) the
cell is exactly cells/gru.py's GRU run on every node; the tests check that.

The input convolution does not depend on the state, so `graph_gru_forward` runs it once for all
steps (B, T, N, D) -> (B, T, N, 3H), and the step functions take its result ax_t; backward
collects dax_t at every step and runs the convolution's backward once.
"""
import numpy as np

from ..cells.gru import gru_gates, gru_gates_backward
from ..validation import check_float_array, check_shape, shape_str
from .convolution import graph_conv_backward, graph_conv_forward


def graph_gru_step_forward(ax, prev_h, supports, Wh, bhn):
    """One step. ax: (B, N, 3H) = gconv(x_t, Wx) + b, prev_h: (B, N, H), supports: (M, N, N),
    Wh: ((1 + M K) H, 3H), bhn: (H,).

    Returns next_h: (B, N, H) and the cache that `graph_gru_step_backward` reads.
    """
    ah, h_conv = graph_conv_forward(prev_h, supports, Wh)  # (B, N, 3H)
    next_h, rzn, hn = gru_gates(ax, ah, bhn, prev_h)
    return next_h, {"h_conv": h_conv, "rzn": rzn, "hn": hn, "prev_h": prev_h}


def graph_gru_step_backward(dnext_h, cache):
    """Backward of one step. dnext_h: (B, N, H).

    Returns dax: (B, N, 3H), dprev_h: (B, N, H), dWh: ((1 + M K) H, 3H), dbhn: (H,).
    """
    # forward: next_h, rzn, hn = gru_gates(ax, ah, bhn, prev_h)
    dax, dah, dprev_h = gru_gates_backward(dnext_h, cache)
    # forward: ah = gconv(prev_h, Wh)
    dh, dWh, _ = graph_conv_backward(dah, cache["h_conv"])
    dprev_h += dh
    H = dnext_h.shape[-1]
    dbhn = dah[..., 2 * H:].reshape(-1, H).sum(axis=0)  # bhn is added to the n part of ah
    return dax, dprev_h, dWh, dbhn


def graph_gru_forward(x, h0, supports, Wx, Wh, b, bhn):
    """Run the cell over a sequence. x: (B, T, N, D), h0: (B, N, H), supports: (M, N, N),
    Wx: ((1 + M K) D, 3H), Wh: ((1 + M K) H, 3H), b: (3H,), bhn: (H,).

    Returns h: (B, T, N, H), every state, and the cache {"x_conv", "steps": [step caches]}.
    """
    N, H = supports.shape[-1], bhn.shape[0]
    check_float_array("x", x)
    if x.ndim != 4 or x.shape[2] != N:
        raise ValueError(f"x must have shape (B, T, {N}, D) ({N} nodes: the supports' size); "
                         f"got shape {shape_str(x.shape)}")
    B, T = x.shape[:2]
    check_float_array("h0", h0)
    check_shape("h0", h0, (B, N, H))
    ax, x_conv = graph_conv_forward(x, supports, Wx, b)  # every step at once: (B, T, N, 3H)
    h = np.empty((B, T, N, H), ax.dtype)
    steps, prev_h = [], h0
    for t in range(T):
        prev_h, step = graph_gru_step_forward(ax[:, t], prev_h, supports, Wh, bhn)
        h[:, t] = prev_h
        steps.append(step)
    return h, {"x_conv": x_conv, "steps": steps}


def graph_gru_backward(dh, cache, dhT=None):
    """Full BPTT: `graph_gru_step_backward` at every step, from the last. dh: (B, T, N, H) =
    dLoss/dh_t for every t; dhT: (B, N, H) extra gradient on the final state, or None.

    Returns dx: (B, T, N, D), dh0: (B, N, H), dWx, dWh, db, dbhn.
    """
    steps = cache["steps"]
    dax = np.zeros(dh.shape[:-1] + (3 * dh.shape[-1],), dh.dtype)  # (B, T, N, 3H)
    dWh = np.zeros_like(steps[0]["h_conv"]["W"])
    dbhn = np.zeros(dh.shape[-1], dh.dtype)
    dprev_h = np.zeros(dh[:, 0].shape, dh.dtype) if dhT is None else dhT  # from step t+1
    for t in range(len(steps) - 1, -1, -1):
        # forward: h_t = step(ax_t, h_{t-1}); h_t is an output and the next step's prev_h
        dax[:, t], dprev_h, dWh_t, dbhn_t = graph_gru_step_backward(dh[:, t] + dprev_h, steps[t])
        dWh += dWh_t
        dbhn += dbhn_t
    # forward: ax = gconv(x, Wx) + b, every step at once
    dx, dWx, db = graph_conv_backward(dax, cache["x_conv"])
    return dx, dprev_h, dWx, dWh, db, dbhn
