"""Where the gradient goes in a stacked RNN, and why it vanishes.

    python demos/gradient_flow.py [output folder]       (default ./gradient-flow-out)

Writes four PNG figures and prints the numbers behind them:
  gradient_flow_heatmap.png    ||dLoss/dh_t^l|| on the time x depth grid for a loss at the top,
                               with and without skip edges (l-2 -> l), with and without
                               auxiliary losses on the middle layers
  vanishing_products.png       norms of products of one-step temporal Jacobians against the span,
                               RNN vs LSTM vs GRU, and the singular values of one step
  fibonacci_paths.png          gradient paths from layer L to layer 1 with skip edges (Fibonacci),
                               and the contribution of each path length to the Jacobian
  auxiliary_losses.png         the gradient reaching each layer's parameters, with and without
                               auxiliary losses, in a normal and two saturated regimes
"""
import argparse
import os

import numpy as np

from minirnn import StackedRNN
from minirnn.auxiliary import auxiliary_losses, compare_auxiliary_losses, readout_head
from minirnn.jacobians import (count_gradient_paths, decay_rate, gradient_flow,
                               path_decomposition, product_norms, singular_values, step_jacobians)
from minirnn.plot import (describe_networks, plot_auxiliary_comparison, plot_gradient_flow,
                          plot_gradient_paths, plot_vanishing_products)


def scale_parameters(net, weight_scale=1.0, bias_scale=1.0):
    """Multiply every weight matrix (Wx, Wh) and every bias (b, bhn) of net in place."""
    for name in net.params:
        net.params[name] *= bias_scale if name.endswith((".b", ".bhn")) else weight_scale
    return net


def geometric_mean(values):
    return float(np.exp(np.mean(np.log(values))))


def heatmaps(out, backend, rng):
    """A 6-layer tanh stack (orthogonal recurrent weights, so the gradient fades slowly in time
    and its fate in depth shows); loss: a readout MSE on the top layer at the last step."""
    L, H, T, N, D = 6, 16, 30, 8, 4
    x = rng.standard_normal((N, T, D))
    target = rng.standard_normal((N, 2))
    maps, nets = {}, []
    for skip in (None, "l-2"):
        net = StackedRNN("rnn", D, [H] * L, skip=skip, seed=0, backend=backend, init="orthogonal")
        nets.append(net)
        y, _, cache = net.forward(x)
        heads = {l: readout_head(rng.standard_normal((H, 2)) / np.sqrt(H), np.zeros(2), target,
                                 steps=-1) for l in range(1, L + 1)}
        _, dy, _ = heads[L](y)
        _, dlayers, _ = auxiliary_losses(cache, {l: heads[l] for l in range(2, L)})
        for aux in (False, True):
            name = f"skip={skip or 'none'}, " + ("auxiliary losses on layers 2..5" if aux
                                                 else "top loss only")
            grid = maps[name] = gradient_flow(net, x, dy=dy, dlayers=dlayers if aux else None)
            print(f"  {name}:\n    at t = T-1, ||dLoss/dh^l|| / ||dLoss/dh^{L}|| for l = 1..{L}: "
                  f"{np.array2string(grid[:, -1] / grid[-1, -1], precision=3)}\n"
                  f"    per-step factor of the norm going back in time: layer {L} "
                  f"{decay_rate(np.arange(T), grid[-1, ::-1]):.3f}, layer 1 "
                  f"{decay_rate(np.arange(T), grid[0, ::-1]):.3f}")
    title = (r"$\log_{10}\|\partial\mathcal{L}/\partial h_t^l\|$: tanh RNN, " f"{L} layers, "
             r"a readout loss on the top layer at $t = T-1$")
    about = (r"Loss $\mathcal{L}$: a linear readout of $h_{T-1}^l$ and its mean squared error "
             f"against random targets, on layer {L} (top loss) and, for the auxiliary losses, also "
             f"on layers 2..{L - 1}.   skip=l-2: skip edges $l-2 \\to l$.   "
             + describe_networks(nets, x.shape) + r", $x \sim \mathcal{N}(0, 1)$")
    return plot_gradient_flow(maps, os.path.join(out, "gradient_flow_heatmap.png"), title=title,
                              about=about)


def vanishing_products(out, backend, rng):
    """One layer of each cell, default initialisation, 60 steps of random input."""
    H, T, N, D = 32, 60, 8, 4
    x = rng.standard_normal((N, T, D))
    curves, nets = {}, []
    for label, cell, forget_bias in (("rnn", "rnn", 0.0), ("lstm", "lstm", 0.0),
                                     ("lstm forget bias 1", "lstm", 1.0), ("gru", "gru", 0.0)):
        net = StackedRNN(cell, D, [H], seed=0, backend=backend, forget_bias=forget_bias)
        nets.append(net)
        _, _, cache = net.forward(x)
        jac = step_jacobians(net, cache)
        norms = curves[label] = product_norms(jac, layer=1)
        norms["singular_values"] = singular_values(jac.temporal[1]["fwd"])
        norms["state_names"] = net.spec.state_names
        print(f"  {label:19s} per-step factor: spectral "
              f"{decay_rate(norms['span'], norms['spectral']):.3f}, Frobenius "
              f"{decay_rate(norms['span'], norms['frobenius']):.3f};  ||d s_{T - 1}/d s_init|| "
              f"(spectral, geometric mean) {geometric_mean(norms['spectral'][:, -1]):.3g};  "
              f"largest one-step singular value (median) "
              f"{np.median(norms['singular_values'][..., 0]):.3f}")
    about = ("one network per line (forget bias 1: +1 on the LSTM's forget-gate bias): "
             + describe_networks(nets, x.shape) + r", $x \sim \mathcal{N}(0, 1)$")
    return plot_vanishing_products(curves, os.path.join(out, "vanishing_products.png"),
                                   about=about)


def fibonacci_paths(out, backend, rng):
    layers = list(range(1, 26))
    counts = [count_gradient_paths(StackedRNN("rnn", 1, [1] * L, skip="l-2", backend=backend),
                                   L, 1) for L in layers]
    print(f"  skip='l-2': paths from layer L to layer 1, L = 1..25: {counts}")
    plain = StackedRNN("rnn", 1, [1] * 3, backend=backend)
    unrolled = count_gradient_paths(plain, 3, 1, unrolled=True, num_steps=10)
    print(f"  unrolled grid, 3 layers, no skips, node (3, t=9) to (1, t=0): {unrolled} paths "
          f"(binomial(11, 2) = 55)")
    net = StackedRNN("lstm", 4, [4] * 8, skip="l-2", seed=1, backend=backend)
    x = rng.standard_normal((4, 6, 4))
    _, _, cache = net.forward(x)
    decomposition = path_decomposition(net, cache, t=3)
    error = np.max(np.abs(decomposition.total - decomposition.full))
    print(f"  LSTM, 8 layers, skip='l-2', t=3: {len(decomposition.paths)} paths from layer 8 to "
          f"layer 1; max |sum over paths - full Jacobian| = {error:.2e}")
    for k, (count, subtotal) in decomposition.by_length().items():
        print(f"    {count:2d} paths of length {k}: ||sum of their Jacobians|| = "
              f"{np.mean(np.linalg.norm(subtotal, axis=(-2, -1))):.3g}")
    print(f"    full Jacobian: {np.mean(np.linalg.norm(decomposition.full, axis=(-2, -1))):.3g}")
    return plot_gradient_paths(layers, counts, decomposition.by_length(),
                               os.path.join(out, "fibonacci_paths.png"), full=decomposition.full,
                               about="The decomposed network (right), at step $t = 3$: "
                                     + describe_networks([net], x.shape))


def auxiliary_comparison(out, backend, rng):
    """7-layer tanh stack; readout losses on the top and (auxiliary) on layers 2..6, every step."""
    L, H, T, N, D = 7, 16, 20, 8, 4
    x = rng.standard_normal((N, T, D))
    results, nets = {}, []
    for regime, weight_scale, bias_scale in (("normal (default init)", 1.0, 1.0),
                                             ("saturated: weights x4", 4.0, 1.0),
                                             ("saturated: biases x10", 1.0, 10.0)):
        net = scale_parameters(StackedRNN("rnn", D, [H] * L, seed=0, backend=backend),
                               weight_scale, bias_scale)
        nets.append(net)
        _, _, cache = net.forward(x)
        saturated = np.mean([np.mean(np.abs(cache.outputs[l]) > 0.95) for l in range(1, L + 1)])
        r = results[regime] = compare_auxiliary_losses(net, x, aux_layers=range(2, L))
        print(f"  {regime}: {saturated:.0%} of units have |h| > 0.95\n"
              f"    layer-1 parameter gradient norm {r['without'][0]:.3g} (top loss only) -> "
              f"{r['with'][0]:.3g} (with auxiliary losses): x{r['ratio']:.3g};  "
              f"layer 1 / layer {L} without: {r['without'][0] / r['without'][-1]:.3g}")
    about = (f"Losses at every step, random targets; auxiliary losses on layers 2..{L - 1}.   "
             "Saturated: after init, every weight matrix ($W_x$, $W_h$) or every bias scaled up.   "
             + describe_networks(nets, x.shape) + r", $x \sim \mathcal{N}(0, 1)$")
    return plot_auxiliary_comparison(results, os.path.join(out, "auxiliary_losses.png"),
                                     about=about)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="gradient-flow-out", help="output folder")
    parser.add_argument("--backend", default=None, choices=("numpy", "numba"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(0)
    for title, step in (("gradient-flow map", heatmaps), ("vanishing products", vanishing_products),
                        ("gradient paths", fibonacci_paths),
                        ("auxiliary losses", auxiliary_comparison)):
        print(f"{title}:")
        print(f"  wrote {step(args.out, args.backend, rng)}")


if __name__ == "__main__":
    main()
