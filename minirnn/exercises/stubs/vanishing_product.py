"""Exercise 13, vanishing_product: products of one-step Jacobians over a span, and the per-step
decay factor.

What it teaches: d s_t / d s_u = J_t @ J_{t-1} @ ... @ J_{u+1}, the late factor on the left: its
norm shrinks or grows about geometrically in t - u, at the factor r = exp(slope of log-norm
against the span): why plain RNNs forget.

Shape legend: N batch, T time steps, S the state size, K the number of spans.

J[:, t] is d s_t / d s_{t-1} (exercise 12's Jacobian at step t). The library's versions:
`span_product` (behind `temporal_product`) and `decay_rate` in minirnn/jacobians/products.py;
`product_norms` computes the norms this exercise's decay_rate gets.

    python -m minirnn exercises check vanishing_product
    python -m minirnn exercises hint vanishing_product
"""
import numpy as np


def span_product(J, start, stop):
    """J: (N, T, S, S); -1 <= start <= stop < T. Returns d s_stop / d s_start: (N, S, S) (the
    identity when start == stop)."""
    # TODO: your code here (about 4 lines)
    raise NotImplementedError("span_product")


def decay_rate(span, norms):
    """span: (K,) the spans k = 1, 2, ...; norms: (N, K) ||d s_{u+k} / d s_u|| per batch element.
    Returns r, the per-step factor of norms ~ C r^k fitted over the batch (a float)."""
    # TODO: your code here (about 2 lines)
    raise NotImplementedError("decay_rate")
