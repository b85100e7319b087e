"""Products of one-step Jacobians over a span of time, their norms, and singular values.

Shape legend: N batch, T time steps, S the size of a cell's state (H; 2H for the LSTM's (h, c)).

Within one layer and direction the state after k steps depends on an earlier one only through the
chain of steps between them, so the Jacobian over a span is the product of the one-step Jacobians
(column convention, the late end on the left):

    d s_t / d s_u = J_t @ J_{t-1} @ ... @ J_{u+1}            forward direction, u < t

Its norm shrinks (vanishes) or grows (explodes) roughly geometrically with the span t - u; the
per-step rate is exp(slope of log ||d s_{u+k} / d s_u|| against k). Across layers the Jacobian is a
sum over paths of such products: see `flow.output_jacobian` and `paths.path_decomposition`.
"""
import numpy as np


def temporal_jacobians(jacobians, layer, direction):
    """jacobians.temporal[layer][direction] (N, T, S, S), or a ValueError naming what exists."""
    if layer not in jacobians.temporal or direction not in jacobians.directions:
        raise ValueError(f"layer must be in 1..{len(jacobians.temporal)} and direction one of "
                         f"{jacobians.directions}; got layer={layer!r}, direction={direction!r}")
    return jacobians.temporal[layer][direction]


def span_steps(T, start, stop, direction):
    """The time indices of the one-step Jacobians between states `start` and `stop`, late first."""
    if direction == "fwd":
        if not -1 <= start <= stop <= T - 1:
            raise ValueError(f"forward direction: need -1 <= start <= stop <= {T - 1} "
                             f"(start -1 is the initial state); got start={start}, stop={stop}")
        return range(stop, start, -1)
    if not 0 <= stop <= start <= T:
        raise ValueError(f"reverse direction: need 0 <= stop <= start <= {T} (start {T} is the "
                         f"initial state, read at t = {T - 1}); got start={start}, stop={stop}")
    return range(stop, start)


def temporal_product(jacobians, layer, start, stop, direction="fwd"):
    """d s_stop / d s_start within one layer and direction: (N, S, S).

    jacobians: a RunJacobians (from `step_jacobians`). Forward direction: -1 <= start <= stop
    (start = -1 is the initial state); reverse direction (its state at t depends on t+1):
    stop <= start <= T (start = T is its initial state). start == stop gives the identity.
    """
    return span_product(temporal_jacobians(jacobians, layer, direction), start, stop, direction)


def span_product(J, start, stop, direction="fwd"):
    """The product of one-step Jacobians J: (N, T, S, S) over the span start..stop, late
    factors on the left (`temporal_product`, for the array of one layer and direction)."""
    N, T, S, _ = J.shape
    product = np.broadcast_to(np.eye(S, dtype=J.dtype), (N, S, S))
    for t in span_steps(T, start, stop, direction):
        product = product @ J[:, t]  # late factors already on the left
    return product


def product_norms(jacobians, layer, direction="fwd", start=None):
    """Norms of d s_{start+k} / d s_start for every span k = 1, 2, ... to the end of the run.

    start defaults to the initial state (-1 forward, T reverse). Returns a dict with
    "span" (K,), "spectral" (N, K) and "frobenius" (N, K), one row per batch element.
    """
    J = temporal_jacobians(jacobians, layer, direction)
    N, T, S, _ = J.shape
    forward = direction == "fwd"
    start = (-1 if forward else T) if start is None else start
    last = T - 1 if forward else 0  # the state at the end of the run, in this direction
    steps = span_steps(T, start, last, direction)[::-1]  # early steps first
    if len(steps) == 0:
        raise ValueError(f"start={start} leaves no step before the end of the run (T={T})")
    product = np.broadcast_to(np.eye(S, dtype=J.dtype), (N, S, S))
    spectral, frobenius = [], []
    for t in steps:
        product = J[:, t] @ product  # the new, later step goes on the left
        spectral.append(np.linalg.norm(product, ord=2, axis=(1, 2)))
        frobenius.append(np.linalg.norm(product, ord="fro", axis=(1, 2)))
    return {"span": np.arange(1, len(steps) + 1), "spectral": np.stack(spectral, axis=1),
            "frobenius": np.stack(frobenius, axis=1)}


def singular_values(J):
    """Singular values of each Jacobian in a stack (..., S_out, S_in), largest first."""
    return np.linalg.svd(J, compute_uv=False)


def decay_rate(span, norms):
    """The per-step factor r of norms ~ C r^span: exp of the least-squares slope of the mean (over
    the batch) log norm against the span. r < 1 vanishes, r > 1 explodes.
    span: (K,); norms: (N, K) or (K,)."""
    log_norm = np.mean(np.log(np.maximum(np.atleast_2d(norms), np.finfo(float).tiny)), axis=0)
    slope = np.polyfit(np.asarray(span, dtype=float), log_norm, 1)[0]
    return float(np.exp(slope))
