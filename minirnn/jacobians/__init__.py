"""Every Jacobian of a StackedRNN run, where the gradient goes, and why it vanishes.

    net = StackedRNN("lstm", 3, [8, 8, 8], skip="l-2", backend="numpy")
    y, states, cache = net.forward(x)
    jac = step_jacobians(net, cache)          # one-step temporal, input (depth) and skip Jacobians
    temporal_product(jac, layer=1, start=-1, stop=9)   # d s_9 / d s_{-1}, a product of 10 steps
    product_norms(jac, layer=1)               # spectral / Frobenius norm against span length
    gradient_flow(net, x)                     # (L, T) map of ||dLoss/dh_t^l||
    count_gradient_paths(net, 3, 1)           # 2 = Fibonacci(3) paths: 3->2->1 and 3->1
    path_decomposition(net, cache, t=4)       # sum over paths of Jacobian products == Jacobian

Convention everywhere: J[n, i, j] = d out[n, i] / d in[n, j] for batch element n (column layout),
so chains multiply with the late end on the left and row-vector gradients go back as g @ J.
The modules: steps (one-step Jacobians of a run), products (spans, norms, singular values),
flow (the gradient on every node of the time x depth grid), paths (counting and decomposition).
"""
from .flow import GridGradients, backpropagate, gradient_flow, output_jacobian
from .paths import PathDecomposition, count_gradient_paths, gradient_paths, path_decomposition
from .products import (decay_rate, product_norms, singular_values, span_product,
                       temporal_product)
from .steps import (RunJacobians, numerical_step_jacobians, sequence_jacobians, state_blocks,
                    step_jacobians)

__all__ = ["step_jacobians", "sequence_jacobians", "state_blocks", "numerical_step_jacobians",
           "RunJacobians",
           "temporal_product", "span_product", "product_norms", "singular_values", "decay_rate",
           "backpropagate", "output_jacobian", "gradient_flow", "GridGradients",
           "gradient_paths", "count_gradient_paths", "path_decomposition", "PathDecomposition"]
