"""Figures, one function per figure. Each takes the numbers to draw and a file path, writes a PNG
with matplotlib's Agg backend (imported here, inside the functions, so `import minirnn` never needs
matplotlib) and returns the path.
"""
import os

import numpy as np


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save(fig, path):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    pyplot().close(fig)
    return path


def plot_gradient_flow(maps, path, title="gradient flow: log10 ||dLoss/dh_t^l||"):
    """Heatmaps of gradient-flow maps (from `minirnn.jacobians.gradient_flow`), one panel each,
    on a shared log10 color scale: time on the x axis, layer 1 at the bottom.
    maps: {panel title: (L, T) array}."""
    plt = pyplot()
    logs = {name: np.log10(np.maximum(grid, 1e-300)) for name, grid in maps.items()}
    finite = np.concatenate([v[np.isfinite(v) & (v > -300)].ravel() for v in logs.values()])
    vmin, vmax = np.percentile(finite, 1), finite.max()
    cols = min(len(maps), 2)
    rows = -(-len(maps) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 2.8 * rows), squeeze=False,
                             layout="constrained")
    for ax, (name, grid) in zip(axes.ravel(), logs.items()):
        L, T = grid.shape
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap="magma", vmin=vmin, vmax=vmax,
                          extent=(-0.5, T - 0.5, 0.5, L + 0.5))
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("time step t")
        ax.set_ylabel("layer l")
        ax.set_yticks(range(1, L + 1))
    for ax in axes.ravel()[len(maps):]:
        ax.axis("off")
    fig.colorbar(image, ax=axes.ravel().tolist(), label="log10 ||dLoss/dh||")
    fig.suptitle(title)
    return save(fig, path)


def plot_vanishing_products(curves, path):
    """Left: norms of the product of one-step temporal Jacobians against the span (log scale),
    spectral solid and Frobenius dashed, the geometric mean over the batch. Right: the singular
    values of the one-step Jacobians (median over steps and batch), largest first.
    curves: {label: {"span": (K,), "spectral": (N, K), "frobenius": (N, K),
                     "singular_values": (..., S)}} (from `product_norms` and `singular_values`)."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    for k, (label, c) in enumerate(curves.items()):
        color = f"C{k}"
        for kind, style in (("spectral", "-"), ("frobenius", "--")):
            mean = np.exp(np.mean(np.log(c[kind]), axis=0))
            left.semilogy(c["span"], mean, style, color=color, label=f"{label} {kind}")
        sv = np.median(c["singular_values"].reshape(-1, c["singular_values"].shape[-1]), axis=0)
        right.semilogy(np.arange(1, sv.size + 1), sv, "o-", color=color, ms=3, label=label)
    left.set_xlabel("span k (steps)")
    left.set_ylabel("||d s_{u+k} / d s_u||")
    left.set_title("vanishing products of one-step Jacobians")
    left.legend(fontsize=8)
    right.axhline(1.0, color="gray", lw=0.8)
    right.set_xlabel("index (largest first)")
    right.set_ylabel("singular value")
    right.set_title("singular values of one-step Jacobians (median)")
    right.legend(fontsize=8)
    return save(fig, path)


def plot_gradient_paths(layers, counts, by_length, path, full=None):
    """Left: the number of gradient paths from layer L to layer 1 against L, counted on real
    models, with the Fibonacci numbers for reference. Right: the contribution of each path length
    to a path decomposition, ||sum of the products of the paths with k edges|| (mean over the
    batch), labelled with the number of such paths, and the norm of the full Jacobian.
    layers, counts: sequences; by_length: {k: (number of paths, summed products (N, W, W'))}
    from `PathDecomposition.by_length()`; full: None or the full Jacobian (N, W, W')."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    fib = [1, 1]
    while len(fib) < max(layers):
        fib.append(fib[-1] + fib[-2])
    left.semilogy(layers, counts, "o", label="count_gradient_paths (model graph)")
    left.semilogy(layers, [fib[L - 1] for L in layers], "-", color="gray", label="Fibonacci F(L)")
    left.set_xlabel("layers L (skip edges l-1 -> l and l-2 -> l)")
    left.set_ylabel("paths from layer L to layer 1")
    left.set_title("gradient paths on the layer graph")
    left.legend()
    lengths = list(by_length)
    norms = [np.mean(np.linalg.norm(by_length[k][1], axis=(-2, -1))) for k in lengths]
    bars = right.bar(lengths, norms, color="C1", log=True)
    right.set_xticks(lengths)
    if full is not None:
        right.axhline(np.mean(np.linalg.norm(full, axis=(-2, -1))), color="gray", ls="--",
                      label="full Jacobian (all paths)")
        right.legend(fontsize=8)
    for bar, k in zip(bars, lengths):
        count = by_length[k][0]
        right.annotate(f"{count} path{'s' * (count > 1)}", (bar.get_x() + bar.get_width() / 2,
                       bar.get_height()), ha="center", va="bottom", fontsize=8)
    right.set_xlabel("path length (edges)")
    right.set_ylabel("||sum of path Jacobians|| (Frobenius)")
    right.set_title("contribution of each path length")
    return save(fig, path)


def plot_auxiliary_comparison(results, path):
    """One panel per regime: the norm of each layer's parameter gradient with and without
    auxiliary losses (log scale). results: {regime: {"without": (L,), "with": (L,), "ratio": r}}
    (from `minirnn.auxiliary.compare_auxiliary_losses`)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(4.5 * len(results), 3.8), squeeze=False)
    for ax, (regime, r) in zip(axes[0], results.items()):
        layers = np.arange(1, len(r["without"]) + 1)
        ax.semilogy(layers, r["without"], "o-", label="top loss only")
        ax.semilogy(layers, r["with"], "s-", label="with auxiliary losses")
        ax.set_title(f"{regime}\nlayer 1: x{r['ratio']:.3g}", fontsize=10)
        ax.set_xlabel("layer")
        ax.set_ylabel("||dLoss/d params of layer||")
        ax.legend(fontsize=8)
    return save(fig, path)
