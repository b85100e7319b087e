"""The optimizers' compiled parts: Adam's update and the squared norm of a gradient, one pass each.

Shape legend: P the number of entries of one parameter. Every array here is flat, (P,): the
`reshape(-1)` of a C-contiguous array is a view of it, so an update written into the flat
parameter lands in the parameter itself.

The NumPy reference in minirnn/optim.py makes Adam's update in eight whole-array operations, each
a pass over memory and a Python call; `adam_update` makes it in one pass. It is compiled with
`exact_jit` (no FMA contraction) and does every operation in the reference's order, so the two
give the same bits (tests/test_optim.py).
"""
import numpy as np

from .jit import exact_jit


@exact_jit
def adam_update(p, g, scale, m, v, beta1, beta2, eps, root_t, lr_t):
    """One Adam update of p (P,) in place from the gradient scale * g (P,), with the moments
    m, v (P,) (float64, updated in place); root_t = 1 / sqrt(1 - beta2^t),
    lr_t = lr / (1 - beta1^t):

        g' = float64(g * scale)                      (scale has g's dtype, as clipping multiplies)
        m <- beta1 m + (1 - beta1) g';   v <- beta2 v + (1 - beta2) g'^2
        p <- p - dtype(p)(m / (sqrt(v) root_t + eps) * lr_t)
    """
    for i in range(p.size):
        g_i = np.float64(g[i] * scale)
        m[i] = m[i] * beta1 + g_i * (1.0 - beta1)
        v[i] = v[i] * beta2 + (g_i * g_i) * (1.0 - beta2)
        p[i] -= p.dtype.type(m[i] / (np.sqrt(v[i]) * root_t + eps) * lr_t)


@exact_jit
def sum_of_squares(g):
    """sum(g^2) over g (P,) in float64: four running sums over interleaved entries (they run
    side by side in the CPU, one vector register), added at the end."""
    s0 = s1 = s2 = s3 = 0.0
    whole = g.size - g.size % 4
    for i in range(0, whole, 4):
        a, b = np.float64(g[i]), np.float64(g[i + 1])
        c, d = np.float64(g[i + 2]), np.float64(g[i + 3])
        s0 += a * a
        s1 += b * b
        s2 += c * c
        s3 += d * d
    for i in range(whole, g.size):
        a = np.float64(g[i])
        s0 += a * a
    return (s0 + s1) + (s2 + s3)
