"""Gradient paths: counting them on a model's layer graph or on the unrolled grid, and the path
decomposition of a Jacobian across layers.

Shape legend: N batch, T time steps, L layers (1..L; layer 0 is the input x), W_l the width of
layer l's output.

The layer graph has an edge src -> l for every source of layer l's input (`net.layer_sources(l)`:
l-1 and every skip source). A gradient travels those edges backwards, so a gradient path from
layer s down to layer u < s is a chain s -> ... -> u where each next layer is a source of the
previous one. With edges l-1 -> l and l-2 -> l (skip="l-2"), count(L) = count(L-1) + count(L-2)
with count(1) = count(2) = 1: the number of paths from layer L to layer 1 is the L-th Fibonacci
number.

At one time step t of a unidirectional stack, out_t^s depends on out_t^u only through such paths
(a path through time reaches later steps only), and the chain rule makes the Jacobian the sum over
paths of the products of the edge Jacobians. The edge src -> l has the Jacobian
d out_t^l / d out_t^src = edges[(src, l)][:, t], which is depth[l][:, t] for every source of l
(outside training; with dropout, times the source's mask):

    d out_t^s / d out_t^u = sum over paths (s = v_0, v_1, ..., v_k = u) of
                            edges[(v_1, v_0)][:, t] @ edges[(v_2, v_1)][:, t] @ ...
                            @ edges[(v_k, v_{k-1})][:, t]
"""
from dataclasses import dataclass

import numpy as np

from .flow import output_jacobian
from .steps import step_jacobians


def check_layers(net, source_layer, target_layer):
    L = net.num_layers
    if source_layer not in range(1, L + 1) or target_layer not in range(0, L + 1):
        raise ValueError(f"need 1 <= source_layer <= {L} and 0 <= target_layer <= {L}; got "
                         f"source_layer={source_layer!r}, target_layer={target_layer!r}")
    if target_layer > source_layer:
        raise ValueError(f"a gradient flows down from source_layer to target_layer, so "
                         f"target_layer ({target_layer}) must not exceed source_layer "
                         f"({source_layer})")


def gradient_paths(net, source_layer, target_layer):
    """Every path of the layer graph from source_layer down to target_layer, as tuples of layer
    numbers (source_layer, ..., target_layer)."""
    check_layers(net, source_layer, target_layer)
    return layer_paths(net, source_layer, target_layer)


def layer_paths(net, layer, target_layer):
    if layer == target_layer:
        return [(layer,)]
    return [(layer,) + path for src in net.layer_sources(layer) if src >= target_layer
            for path in layer_paths(net, src, target_layer)]


def count_gradient_paths(net, source_layer, target_layer, unrolled=False, num_steps=None,
                         source_time=-1, target_time=0):
    """The number of distinct gradient paths from source_layer down to target_layer, counted on
    the model's own graph (`net.layer_sources`, so every skip pattern) by dynamic programming:
    count(u) = 1, count(l) = sum of count(src) over the sources src >= u of layer l.

    unrolled=True counts on the time x depth grid of a run of num_steps steps instead, from node
    (source_layer, source_time) to node (target_layer, target_time) (negative times count from
    the end). A node is (layer, direction, t); its state is read by the same direction's next step
    and by every direction of each layer it feeds at t. A bidirectional layer's node stands for
    both directions, so paths are summed over the directions at both ends. For a unidirectional
    stack without skips the count is binomial(layers crossed + steps crossed, layers crossed).
    Returns a Python int (exact, however large).
    """
    check_layers(net, source_layer, target_layer)
    if not unrolled:
        counts = {target_layer: 1}
        for l in range(target_layer + 1, source_layer + 1):
            counts[l] = sum(counts[src] for src in net.layer_sources(l) if src >= target_layer)
        return counts[source_layer]
    if num_steps is None or int(num_steps) < 1:
        raise ValueError(f"unrolled=True needs num_steps, the number of time steps (>= 1); "
                         f"got {num_steps!r}")
    T = int(num_steps)
    for name, t in (("source_time", source_time), ("target_time", target_time)):
        if not -T <= t < T:
            raise ValueError(f"{name} must be in -{T}..{T - 1}; got {t!r}")
    return count_grid_paths(net, source_layer, target_layer, T, source_time % T, target_time % T)


def grid_sources(net, T, l, d, t):
    """The grid nodes whose values the node (l, d, t) reads (none for the input, l = 0)."""
    if l == 0:
        return []
    previous = t - 1 if d == "fwd" else t + 1
    sources = [(l, d, previous)] if 0 <= previous < T else []
    for src in net.layer_sources(l):
        sources += [(0, None, t)] if src == 0 else [(src, e, t) for e in net.directions]
    return sources


def count_grid_paths(net, source_layer, target_layer, T, source_time, target_time):
    counts = {}  # node -> number of paths from it down to a target node
    for l in range(target_layer, source_layer + 1):  # a node's sources come before it
        for d in ((None,) if l == 0 else net.directions):
            for t in (range(T - 1, -1, -1) if d == "bwd" else range(T)):
                if l == target_layer and t == target_time:
                    counts[(l, d, t)] = 1
                else:  # nodes below the target layer are absent and count 0
                    counts[(l, d, t)] = sum(counts.get(node, 0)
                                            for node in grid_sources(net, T, l, d, t))
    return sum(counts[(source_layer, d, source_time)] for d in net.directions)


@dataclass
class PathDecomposition:
    """paths: tuples (source_layer, ..., target_layer); products: for each path the product of
    its edge Jacobians at step t, (N, W_source, W_target); total: their sum; full: the Jacobian
    d out_t^source / d out_t^target from `output_jacobian` (equal to total, up to round-off)."""
    paths: list
    products: list
    total: np.ndarray
    full: np.ndarray

    def by_length(self):
        """{k: (number of paths with k edges, sum of their products (N, W_source, W_target))}."""
        groups = {}
        for path, product in zip(self.paths, self.products):
            count, subtotal = groups.get(len(path) - 1, (0, 0.0))
            groups[len(path) - 1] = (count + 1, subtotal + product)
        return dict(sorted(groups.items()))


def path_decomposition(net, cache, t, source_layer=None, target_layer=1):
    """Enumerate every gradient path from source_layer (default L) down to target_layer at step t
    of the run in `cache` (from `net.forward`), multiply the edge Jacobians along each path, and
    compare their sum with the full Jacobian d out_t^source / d out_t^target.

    Unidirectional stacks only: a reverse-direction layer makes out_t depend on out_u at later
    steps u, so the same-step paths are no longer the whole Jacobian. Returns PathDecomposition.
    """
    if net.bidirectional:
        raise NotImplementedError(
            "path_decomposition needs a unidirectional stack: in a bidirectional one the reverse "
            "direction carries out_t^u into out_t^s through later time steps, which no path of "
            "the layer graph at one step describes; use output_jacobian for the full Jacobian")
    source_layer = net.num_layers if source_layer is None else source_layer
    T = cache.outputs[0].shape[1]
    if not -T <= t < T:
        raise ValueError(f"t must be in -{T}..{T - 1}; got {t!r}")
    jacobians = step_jacobians(net, cache)
    paths = gradient_paths(net, source_layer, target_layer)
    N, W = cache.outputs[source_layer].shape[0], cache.outputs[source_layer].shape[-1]
    products = []
    for path in paths:
        product = np.broadcast_to(np.eye(W, dtype=jacobians.depth[1].dtype), (N, W, W))
        for dst, src in zip(path, path[1:]):
            product = product @ jacobians.edges[(src, dst)][:, t]
        products.append(product)
    full = output_jacobian(net, jacobians, source_layer, t).doutputs[target_layer][:, :, t]
    return PathDecomposition(paths, products, sum(products), full)
