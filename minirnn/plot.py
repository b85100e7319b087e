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


# ---- probes (minirnn.analysis) ----------------------------------------------------------------
def plot_frequency_response(response, path):
    """Gain (left) and per-layer transfer (right) against frequency, one line per layer."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, table, title in ((left, response.gain, "gain: response / network input"),
                             (right, response.transfer, "transfer: response / layer input")):
        for l, row in enumerate(table, start=1):
            ax.loglog(response.frequencies, row, marker=".", label=f"layer {l}")
        ax.set_xlabel("frequency w (rad / step)")
        ax.set_title(title)
        ax.legend()
    left.set_ylabel(f"amplitude of {response.state!r}")
    return save(fig, path)


def plot_impulse_response(response, path):
    """Each layer's distance from the unperturbed run, normalised by its peak, log scale."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for l, (d, tau) in enumerate(zip(response.distance, response.time_constant), start=1):
        peak = d.max()
        if peak > 0:
            ax.semilogy(d / peak, label=f"layer {l}: tau = {tau:.3g} ({response.kinds[l - 1]})")
    ax.axvline(response.t0, color="gray", linestyle=":")
    ax.axhline(1 / np.e, color="gray", linestyle="--", linewidth=0.8)
    ax.set_ylim(1e-6, 2)
    ax.set_xlabel("time step")
    ax.set_ylabel(f"||{response.state}' - {response.state}|| / peak")
    ax.set_title(f"impulse at t0 = {response.t0}")
    ax.legend()
    return save(fig, path)


def plot_lesions(study, path):
    """Change in task loss (left) and impulse time constants per layer (right) per lesion."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    names = study.names[1:]
    left.barh(names, study.delta_loss[1:])
    left.set_xlabel("change in task loss")
    left.invert_yaxis()
    taus = np.where(np.isfinite(study.time_constant), study.time_constant, np.nan)
    L = taus.shape[1]
    width = 0.8 / len(study.names)
    for r, name in enumerate(study.names):
        right.bar(np.arange(1, L + 1) + (r - len(study.names) / 2) * width, taus[r], width,
                  label=name)
    right.set_xlabel("layer")
    right.set_ylabel("impulse time constant (steps; inf not drawn)")
    right.legend(fontsize=7)
    return save(fig, path)


def plot_fixed_points(points, path, states=None):
    """Left: the points (and optionally visited states (M, S)) on their first two principal
    axes, coloured by stability. Right: their eigenvalues with the unit circle."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    colours = {"stable": "tab:blue", "unstable": "tab:red", "saddle": "tab:orange",
               "marginal": "tab:green"}
    cloud = np.array([p.state for p in points]) if points else np.zeros((0, 1))
    basis_from = cloud if states is None else np.asarray(states)
    centre = basis_from.mean(axis=0)
    _, _, vt = np.linalg.svd(basis_from - centre, full_matrices=False)
    axes = vt[:2].T if vt.shape[0] >= 2 else np.eye(basis_from.shape[1], 2)
    if states is not None:
        shown = (np.asarray(states) - centre) @ axes
        left.scatter(shown[:, 0], shown[:, 1], s=2, color="lightgray", label="visited")
    for p in points:
        xy = (p.state - centre) @ axes
        left.scatter(*xy[:2], color=colours[p.stability], marker="o" if p.fixed else "x",
                     s=40, label=p.stability)
        right.scatter(p.eigenvalues.real, p.eigenvalues.imag, color=colours[p.stability], s=12)
    handles, labels = left.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    left.legend(unique.values(), unique.keys())
    left.set_title("fixed (o) and slow (x) points")
    angle = np.linspace(0, 2 * np.pi, 200)
    right.plot(np.cos(angle), np.sin(angle), color="gray", linewidth=0.8)
    right.set_aspect("equal")
    right.set_title("eigenvalues of the step Jacobian")
    return save(fig, path)


def plot_saliency(result, path):
    """The (time x layer) saliency map: column 0 the input, column l layer l."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    image = ax.imshow(result.map.T, aspect="auto", origin="lower", cmap="viridis")
    ax.set_yticks(range(result.map.shape[1]))
    ax.set_yticklabels(["input"] + [f"layer {l}" for l in range(1, result.map.shape[1])])
    ax.set_xlabel("time step")
    ax.set_title("|d output / d state| (batch mean)")
    fig.colorbar(image, ax=ax)
    return save(fig, path)


def plot_probe(probe, features, target, path, max_points=2000):
    """Probe prediction against the target, with its held-out R^2. features (..., F),
    target (...) or (..., 1)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    predicted = probe.predict(np.asarray(features)).reshape(-1)[:max_points]
    actual = np.asarray(target, dtype=float).reshape(-1)[:max_points]
    ax.scatter(actual, predicted, s=4, alpha=0.5)
    low, high = actual.min(), actual.max()
    ax.plot([low, high], [low, high], color="gray", linewidth=0.8)
    ax.set_xlabel("target")
    ax.set_ylabel("linear probe")
    ax.set_title(f"held-out R^2 = {probe.r2_test:.4f}")
    return save(fig, path)


# ---- training --------------------------------------------------------------------------------
def plot_learning_curves(histories, path, metric_name="metric"):
    """Loss (dashed train, solid validation; log scale) and, where recorded, the validation
    metric per epoch. histories: {label: history from `minirnn.train.fit`}."""
    plt = pyplot()
    with_metric = any(any(v is not None for v in h.get("val_metric", [])) for h in histories.values())
    fig, axes = plt.subplots(1, 2 if with_metric else 1, figsize=(11 if with_metric else 6, 4),
                             squeeze=False)
    loss_ax = axes[0, 0]
    for label, h in histories.items():
        epochs = np.arange(1, len(h["train_loss"]) + 1)
        line, = loss_ax.plot(epochs, h["train_loss"], "--", alpha=0.7)
        if h.get("val_loss"):
            loss_ax.plot(epochs, h["val_loss"], color=line.get_color(), label=label)
        if with_metric and h.get("val_metric"):
            axes[0, 1].plot(epochs, h["val_metric"], color=line.get_color(), label=label)
    loss_ax.set(title="loss (dashed train, solid validation)", xlabel="epoch", yscale="log")
    loss_ax.legend(fontsize=8)
    if with_metric:
        axes[0, 1].set(title=f"validation {metric_name}", xlabel="epoch")
    return save(fig, path)
