"""Graphs as adjacency matrices: checks, the normalised adjacency and hop distances.

Shape legend: N nodes.

Convention: A[i, j] > 0 means node i receives from node j (row = receiver), so (A @ x)[i] sums
over i's neighbours j. An undirected graph has a symmetric A. With self loops, A~ = A + I and
d_i = sum_j A~[i, j] (the row sums):

    symmetric    A_hat = D^-1/2 A~ D^-1/2      (Kipf & Welling's GCN; eigenvalues in (-1, 1])
    random_walk  A_hat = D^-1 A~               (row i averages what node i hears: DCRNN's
                                                diffusion step)

A graph convolution takes one or more such matrices, its supports (`graph_supports`): one of the
above, or DCRNN's dual random walk, [random_walk(A), random_walk(A^T)]: along the edges and
against them, each with its own weights, so that a model can learn which way influence runs.

A_hat^k[i, j] is nonzero only if j is at most k hops from i (with self loops, exactly those j:
every entry is a sum of products of positive weights). That is why a K-hop graph convolution
run for s steps reaches at most K * s hops (minirnn.graph.influence).
"""
from collections import deque

import numpy as np

from ..validation import check_float_array, shape_str

NORMALIZATIONS = ("symmetric", "random_walk")
SUPPORTS = NORMALIZATIONS + ("dual_random_walk",)


def check_adjacency(adjacency, name="adjacency"):
    """A square (N, N) float array with finite, non-negative entries, as float64."""
    adjacency = np.asarray(adjacency)
    if adjacency.dtype.kind in "biu":
        adjacency = adjacency.astype(np.float64)
    check_float_array(name, adjacency)
    if adjacency.ndim != 2 or adjacency.shape[0] != adjacency.shape[1] or not adjacency.size:
        raise ValueError(f"{name} must be a square (N, N) matrix with N >= 1; "
                         f"got shape {shape_str(adjacency.shape)}")
    if (adjacency < 0).any():
        raise ValueError(f"{name} must have non-negative entries (edge weights); "
                         f"got a minimum of {adjacency.min()}")
    return adjacency.astype(np.float64, copy=False)


def normalized_adjacency(adjacency, kind="symmetric", self_loops=True):
    """A_hat (N, N) float64 from adjacency (N, N) (module docstring). A node with no edge and no
    self loop (degree 0) gets a zero row."""
    adjacency = check_adjacency(adjacency)
    if kind not in NORMALIZATIONS:
        raise ValueError(f"kind must be one of {NORMALIZATIONS}; got {kind!r}")
    A = adjacency + np.eye(len(adjacency)) if self_loops else adjacency.copy()
    degree = A.sum(axis=1)
    safe = np.where(degree > 0, degree, 1.0)
    if kind == "symmetric":
        scale = np.where(degree > 0, safe ** -0.5, 0.0)
        return scale[:, None] * A * scale[None, :]
    return np.where(degree > 0, 1.0 / safe, 0.0)[:, None] * A


def graph_supports(adjacency, kind="symmetric"):
    """The supports of a graph convolution, (M, N, N) float64: [normalized_adjacency(A, kind)]
    for kind 'symmetric' or 'random_walk' (M = 1), or for 'dual_random_walk' (M = 2)
    [random_walk(A), random_walk(A^T)] (Li et al. 2018's forward and backward diffusion)."""
    if kind not in SUPPORTS:
        raise ValueError(f"kind must be one of {SUPPORTS}; got {kind!r}")
    if kind == "dual_random_walk":
        adjacency = check_adjacency(adjacency)
        return np.stack([normalized_adjacency(adjacency, "random_walk"),
                         normalized_adjacency(adjacency.T, "random_walk")])
    return normalized_adjacency(adjacency, kind)[None]


def hop_distances(adjacency):
    """(N, N) int64: the number of edges on a shortest path from j to i, following A[i, j] > 0
    (receiver i, sender j); 0 on the diagonal and -1 where j cannot reach i. Self loops are
    ignored. Breadth-first search from every node."""
    adjacency = check_adjacency(adjacency)
    N = len(adjacency)
    receivers = [np.flatnonzero(adjacency[:, j]) for j in range(N)]  # the nodes i that j feeds
    distances = np.full((N, N), -1, dtype=np.int64)
    for source in range(N):
        distances[source, source] = 0
        queue = deque([source])
        while queue:
            j = queue.popleft()
            for i in receivers[j]:
                if distances[i, source] < 0:
                    distances[i, source] = distances[j, source] + 1
                    queue.append(i)
    return distances
