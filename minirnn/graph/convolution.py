"""K-hop graph convolution over one or more supports: the forward and backward pass.

Shape legend: N nodes (not the batch: here the batch is a leading "..."), D features per node,
G output features, K hops, M supports; supports: (M, N, N) normalised adjacencies
(adjacency.py: one for an undirected graph, two for DCRNN's walks along and against the edges).

The convolution mixes each node's features with those of the nodes up to K hops away, with one
weight block per support and hop (the diffusion convolution of DCRNN, Li et al. 2018; M = 1,
K = 1 without the k = 0 block is T-GCN's GCN layer, Zhao et al. 2019):

    x_{m,0} = x,   x_{m,k} = S_m @ x_{m,k-1}         (..., N, D)   x_{m,k} = S_m^k x
    Z   = [x, x_{1,1}, ..., x_{1,K}, ..., x_{M,1}, ..., x_{M,K}]     (..., N, (1 + M K) D)
    out = Z @ W + b                                  W: ((1 + M K) D, G)  b: (G,) or None

so out[i] = x[i] @ W_0 + sum_m sum_k sum_j S_m^k[i, j] x[j] @ W_{m,k} + b. K is read from
W's shape. Separate blocks per support let a model weigh "along the edges" and "against them"
differently; one symmetric support cannot: it sums every neighbour with the same weight.
Backward, with dZ split into the same blocks:

    dW = Z^T dout (summed over the leading axes),   db = sum of dout,   dZ = dout @ W^T
    per support, from k = K down to 1:  dx_{m,k-1} += S_m^T @ dx_{m,k}   (dx_{m,0} is dx)

The transpose matters for a directed graph: information flows from j to i along S[i, j], so
the gradient flows back from i to j along S^T.
"""
import numpy as np

from ..validation import shape_str


def graph_conv_forward(x, supports, W, b=None):
    """x: (..., N, D), supports: (M, N, N), W: ((1 + M K) D, G), b: (G,) or None.

    Returns out: (..., N, G) and the cache that `graph_conv_backward` reads.
    """
    D, M = x.shape[-1], len(supports)
    blocks = W.shape[0] // D - 1 if W.ndim == 2 else -1  # M K
    if blocks < 0 or W.shape[0] % D or blocks % M:
        raise ValueError(f"W must have shape ((1 + {M} K) * {D}, G) for {M} supports and x with "
                         f"D = {D} features; got shape {shape_str(W.shape)}")
    powers = [x]
    for S in supports:
        power = x
        for _ in range(blocks // M):
            power = S @ power  # x_{m,k} = S_m x_{m,k-1}, (..., N, D)
            powers.append(power)
    Z = np.concatenate(powers, axis=-1)  # (..., N, (1 + M K) D)
    out = Z @ W if b is None else Z @ W + b  # (..., N, G)
    return out, {"Z": Z, "supports": supports, "W": W, "hops": blocks // M,
                 "has_bias": b is not None}


def graph_conv_backward(dout, cache):
    """dout: (..., N, G). Returns dx: (..., N, D), dW: ((1 + M K) D, G) and db: (G,) (None when
    the forward had no bias)."""
    Z, W, K = cache["Z"], cache["W"], cache["hops"]
    # forward: out = Z @ W + b, over every leading axis
    G = W.shape[1]
    dW = Z.reshape(-1, Z.shape[-1]).T @ dout.reshape(-1, G)
    db = dout.reshape(-1, G).sum(axis=0) if cache["has_bias"] else None
    # forward: Z = [x, x_{1,1}, ..., x_{M,K}]
    dpowers = np.split(dout @ W.T, 1 + len(cache["supports"]) * K, axis=-1)
    dx = dpowers[0].copy()
    for m, S in enumerate(cache["supports"]):
        dpower = np.zeros_like(dx)  # dLoss/dx_{m,k} from the powers after it
        for k in range(K, 0, -1):
            # forward: x_{m,k} = S_m @ x_{m,k-1}, and x_{m,k} sits in Z
            dpower = S.T @ (dpower + dpowers[1 + m * K + k - 1])
        dx += dpower
    return dx, dW, db
