"""Exercise 14, gradient_paths: paths through depth, Fibonacci with l-2 skips, and the path sum.

What it teaches: with edges l-1 -> l and l-2 -> l, the paths from layer L down to layer 1 number
F(L) (1, 1, 2, 3, 5, ...), and the Jacobian d out^L / d out^1 at one step is the sum over those
paths of the products of their edge Jacobians.

Shape legend: N batch, L = 5 layers of W = 3 tanh-RNN units, skip="l-2".

net.layer_sources(l) is [l-1] plus every skip source of layer l. For the path sum,
`step_jacobians(net, cache).edges[(src, dst)][:, t]` is d out_t^dst / d out_t^src: (N, W, W)
(minirnn/jacobians/steps.py). Your path_sum is compared with the sum over
`gradient_paths(net, L, 1)` in minirnn/jacobians/paths.py, and a third opinion backpropagates the
full Jacobians without enumerating paths (`output_jacobian`).

    python -m minirnn exercises check gradient_paths
    python -m minirnn exercises hint gradient_paths
"""
import numpy as np

from minirnn.jacobians import step_jacobians


def count_paths(net, source_layer, target_layer):
    """The number of paths from source_layer down to target_layer on the layer graph (an int)."""
    # TODO: your code here (about 4 lines)
    raise NotImplementedError("count_paths")


def path_sum(net, cache, t):
    """The sum over every path from layer L down to layer 1 of the product of its edge
    Jacobians at step t: (N, W_L, W_1)."""
    edges = step_jacobians(net, cache).edges
    # TODO: your code here (about 10 lines)
    raise NotImplementedError("path_sum")
