"""Figures, one function per figure. Each takes the numbers to draw and a file path, writes a PNG
with matplotlib's Agg backend (imported here, inside the functions, so `import minirnn` never needs
matplotlib) and returns the path.

Every figure is meant to be read without the source: titles and axis labels are rendered maths
(matplotlib's mathtext), a note under the figure defines each symbol, and `about` (a line the
caller writes, usually `describe_networks(nets, x.shape)`) says which networks and data it shows.
"""
import os
import re

import numpy as np

INIT_TEXT = {"uniform": r"init: every weight and bias from $\mathcal{U}(\pm 1/\sqrt{H})$",
             "orthogonal": r"init: orthogonal $W_h$ blocks, $W_x$ and $b$ from "
                           r"$\mathcal{U}(\pm 1/\sqrt{H})$"}


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


def rendered_length(text):
    """Roughly how many characters text takes once mathtext has rendered it."""
    text = re.sub(r"[${}_^]|\\,", "", text)
    return len(re.sub(r"\\[a-zA-Z]+", "x", text))  # \partial is one symbol


def wrap(text, width):
    """Break text into lines of at most `width` rendered characters, at spaces, never inside
    $...$ (one mathtext expression)."""
    pieces = text.split("$")
    glued = "$".join(p.replace(" ", "\0") if i % 2 else p for i, p in enumerate(pieces))
    lines, line = [], ""
    for word in glued.split(" "):
        longer = f"{line} {word}" if line else word
        if line and rendered_length(longer) > width:
            lines.append(line)
            line = word
        else:
            line = longer
    return "\n".join(lines + [line]).replace("\0", " ")


def add_note(fig, *lines):
    """Write the non-empty lines under the figure, wrapped to its width (saved with it: `save`
    crops to what is drawn)."""
    width = int(14 * fig.get_figwidth())  # characters of 8.5 pt text per inch
    text = "\n".join(wrap(line, width) for line in lines if line)
    if text:
        fig.text(0.01, -0.01, text, ha="left", va="top", fontsize=8.5, linespacing=1.5)


# ---- what a figure shows ----------------------------------------------------------------------
def skip_text(edges, num_layers):
    """The skip edges [[src, dst], ...] in words; the 'l-2' pattern by its rule."""
    if edges == [[l - 2, l] for l in range(3, num_layers + 1)]:
        return r"skip edges $l-2 \to l$"
    return "skip edges " + ", ".join(rf"${src} \to {dst}$" for src, dst in edges)


def network_parts(net):
    """The phrases that describe a StackedRNN, read from net.config: cell, widths, direction,
    skip edges, initialisation, forget-gate bias."""
    c = net.config
    sizes = c["hidden_sizes"]
    widths = (f"$H = {sizes[0]}$" if len(set(sizes)) == 1
              else f"$H_l$ = {', '.join(map(str, sizes))}")
    parts = [f"cell {c['cell']!r}", f"{len(sizes)} layer{'s' * (len(sizes) > 1)}", widths,
             "bidirectional" if c["bidirectional"] else None,
             skip_text(c["skip"], len(sizes)) if c["skip"] else None,
             INIT_TEXT[c["init"]],
             f"forget-gate bias +{c['forget_bias']:g}" if c["forget_bias"] else None]
    return [part for part in parts if part]


def describe_networks(nets, x_shape=None):
    """One line for a figure's `about`: what the networks drawn have in common (cell, layer
    widths, skip edges, initialisation), then the input's batch N, length T and size D from
    x_shape (N, T, D). What differs between the networks is left to the panel titles or legend."""
    described = [network_parts(net) for net in nets]
    shared = [part for part in described[0] if all(part in other for other in described[1:])]
    if x_shape is not None:
        N, T, D = x_shape
        shared.append(f"input: batch $N = {N}$, $T = {T}$ steps, input size $D = {D}$")
    return "; ".join(shared)


def times(ratio):
    """A factor in mathtext: ×8.04, ×2.27, ×12,181."""
    return rf"$\times${ratio:,.0f}" if ratio >= 100 else rf"$\times${ratio:.3g}"


# ---- gradients and Jacobians (minirnn.jacobians, minirnn.auxiliary) ---------------------------
def plot_gradient_flow(maps, path, title=r"gradient flow: $\log_{10}\|\partial\mathcal{L}/"
                                         r"\partial h_t^l\|$", about=None):
    """Heatmaps of gradient-flow maps (from `minirnn.jacobians.gradient_flow`), one panel each,
    on a shared log10 color scale: time on the x axis, layer 1 at the bottom.
    maps: {panel title: (L, T) array}. about: a line under the figure (networks, input)."""
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
        ax.set_xlabel("time step $t$")
        ax.set_ylabel("layer $l$")
        ax.set_yticks(range(1, L + 1))
    for ax in axes.ravel()[len(maps):]:
        ax.axis("off")
    fig.colorbar(image, ax=axes.ravel().tolist(),
                 label=r"$\log_{10}\|\partial\mathcal{L}/\partial h_t^l\|$")
    fig.suptitle(title)
    add_note(fig, r"$h_t^l$: the output of layer $l$ at step $t$.   "
                  r"$\|\partial\mathcal{L}/\partial h_t^l\|$: the total derivative of the loss "
                  r"$\mathcal{L}$ (through the later steps and the layers above), the mean over "
                  r"the batch of each sequence's Euclidean norm.", about)
    return save(fig, path)


def singular_value_label(label, count, state_names):
    """'lstm: 2H = 64 singular values, state (h, c)': one per number in the cell's state."""
    if state_names is None:
        return f"{label}: {count} singular values"
    k = len(state_names)
    state = state_names[0] if k == 1 else f"({', '.join(state_names)})"
    return f"{label}: ${'' if k == 1 else k}H = {count}$ singular values, state ${state}$"


def plot_vanishing_products(curves, path, start=-1, about=None):
    """Left: norms of the product of one-step temporal Jacobians against the span (log scale),
    spectral solid and Frobenius dashed, the geometric mean over the batch. Right: the singular
    values of the one-step Jacobians (median over steps and batch), largest first.
    curves: {label: {"span": (K,), "spectral": (N, K), "frobenius": (N, K),
                     "singular_values": (..., S), optional "state_names": the cell's states}}
    (from `product_norms` and `singular_values`; `net.spec.state_names`).
    start: the state u the spans start from (`product_norms`' start; -1 the initial state).
    about: a line under the figure (networks, input)."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    for k, (label, c) in enumerate(curves.items()):
        color = f"C{k}"
        for kind, style, norm in (("spectral", "-", r"$\|\cdot\|_2$"),
                                  ("frobenius", "--", r"$\|\cdot\|_F$")):
            mean = np.exp(np.mean(np.log(c[kind]), axis=0))
            left.semilogy(c["span"], mean, style, color=color, label=f"{label} {kind} {norm}")
        sv = np.median(c["singular_values"].reshape(-1, c["singular_values"].shape[-1]), axis=0)
        right.semilogy(np.arange(1, sv.size + 1), sv, "o-", color=color, ms=3,
                       label=singular_value_label(label, sv.size, c.get("state_names")))
    left.set_xlabel(rf"span $k$: steps from $s_u$ to $s_{{u+k}}$ ($u = {start}$)")
    left.set_ylabel(r"$\|\partial s_{u+k}/\partial s_u\|$")
    left.set_title("vanishing products of one-step Jacobians")
    left.legend(fontsize=8)
    right.axhline(1.0, color="gray", lw=0.8)
    right.set_xlabel("index $i$ (largest first)")
    right.set_ylabel(r"singular value $\sigma_i$")
    right.set_title(r"singular values of one step $\partial s_t/\partial s_{t-1}$ (median)")
    right.legend(fontsize=8)
    add_note(fig, r"$s_t$: the layer's state after step $t$, $s_{-1}$ the initial state. It is "
                  r"$h_t$, or for the LSTM the pair $(h_t, c_t)$: $2H$ numbers, so the LSTM's "
                  r"one-step Jacobian has $2H$ singular values.",
             r"$\partial s_{u+k}/\partial s_u = J_{u+k} \cdots J_{u+1}$: the product of the $k$ "
             r"one-step Jacobians $J_t = \partial s_t/\partial s_{t-1}$ after step $u$ (left: "
             r"the geometric mean of its norm over the batch).   Right: the median over steps "
             r"$t$ and the batch; gray line $\sigma = 1$, a direction neither shrunk nor "
             r"stretched.", about)
    return save(fig, path)


def path_length_ticks(ax, by_length):
    """x ticks 'k edges / n paths' for the path lengths k of `PathDecomposition.by_length()`."""
    ax.set_xticks(list(by_length), [f"{k}\n{count} path{'s' * (count > 1)}"
                                    for k, (count, _) in by_length.items()])


def plot_gradient_paths(layers, counts, by_length, path, full=None, about=None):
    """Left: the number of gradient paths from layer L to layer 1 against L, counted on real
    models, with the Fibonacci numbers for reference. Right: the contribution of each path length
    to a path decomposition, ||sum of the products of the paths with k edges|| (mean over the
    batch), labelled with the number of such paths, and the norm of the full Jacobian.
    layers, counts: sequences; by_length: {k: (number of paths, summed products (N, W, W'))}
    from `PathDecomposition.by_length()`; full: None or the full Jacobian (N, W, W').
    about: a line under the figure (the decomposed network, its input and the step t)."""
    from matplotlib.ticker import MaxNLocator

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    fib = [1, 1]
    while len(fib) < max(layers):
        fib.append(fib[-1] + fib[-2])
    left.semilogy(layers, counts, "o", label="count_gradient_paths (on the model's layer graph)")
    left.semilogy(layers, [fib[L - 1] for L in layers], "-", color="gray",
                  label=r"Fibonacci $F_L$ ($F_1 = F_2 = 1$)")
    left.set_xlabel(r"layers $L$ (edges $l-1 \to l$ and skip edges $l-2 \to l$)")
    left.set_ylabel("paths from layer $L$ down to layer 1")
    left.set_title("gradient paths on the layer graph")
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.legend(loc="upper left")
    norms = [np.mean(np.linalg.norm(subtotal, axis=(-2, -1))) for _, subtotal in by_length.values()]
    right.bar(list(by_length), norms, color="C1", log=True)
    path_length_ticks(right, by_length)
    if full is not None:
        full_norm = np.mean(np.linalg.norm(full, axis=(-2, -1)))
        right.axhline(full_norm, color="gray", ls="--",
                      label=r"full Jacobian $\partial h_t^{top}/\partial h_t^1$ (all paths)")
        right.set_ylim(top=10 * max(norms + [full_norm]))  # room for the legend above the line
        right.legend(fontsize=8, loc="upper right")
    right.set_xlabel("path length $k$ (edges)")
    right.set_ylabel(r"$\|\Sigma_{|p| = k}\,J_p\|_F$")
    right.set_title("contribution of each path length")
    add_note(fig, r"A gradient path $p$ goes down the layer graph from the top layer to layer 1, "
                  r"one edge at a time; $J_p$: the product of its edge Jacobians "
                  r"$\partial h_t^{l}/\partial h_t^{src}$ at one step $t$.",
             r"Right: for each length $k$, the Frobenius norm of the sum of $J_p$ over the paths "
             r"with $k$ edges (mean over the batch); the sums over all $k$ add up to the full "
             r"Jacobian.", about)
    return save(fig, path)


def plot_auxiliary_comparison(results, path, about=None):
    """One panel per regime: the norm of each layer's parameter gradient with and without
    auxiliary losses (log scale); the title gives layer 1's gain, with / without.
    results: {regime: {"without": (L,), "with": (L,), "ratio": r}} (from
    `minirnn.auxiliary.compare_auxiliary_losses`). about: a line under the figure."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(4.5 * len(results), 3.8), squeeze=False,
                             layout="constrained")
    for ax, (regime, r) in zip(axes[0], results.items()):
        layers = np.arange(1, len(r["without"]) + 1)
        ax.semilogy(layers, r["without"], "o-", label="top loss only")
        ax.semilogy(layers, r["with"], "s-", label="with auxiliary losses")
        ax.set_title(f"{regime}\nlayer 1's gradient {times(r['ratio'])} with auxiliary losses",
                     fontsize=10)
        ax.set_xlabel("layer $l$")
        ax.set_ylabel(r"$\|\partial\mathcal{L}/\partial\theta_l\|$")
        ax.legend(fontsize=8)
    add_note(fig, r"$\theta_l$: all the parameters of layer $l$ ($W_x$, $W_h$, $b$), one "
                  r"Euclidean norm.   Top loss: a linear readout and a mean squared error on the "
                  r"top layer; auxiliary losses: the same kind of head on lower layers, adding "
                  r"their gradient there.", about)
    return save(fig, path)


# ---- probes (minirnn.analysis) ----------------------------------------------------------------
def plot_frequency_response(response, path, about=None):
    """Gain (left) and per-layer transfer (right) against frequency, one line per layer.
    about: a line under the figure (the network)."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for ax, table, title in (
            (left, response.gain, r"gain $\|P_l(\omega)\|\,/\,A$: response to the network input"),
            (right, response.transfer,
             r"transfer $\|P_l(\omega)\|\,/\,\|P_{in_l}(\omega)\|$: to the layer's input")):
        for l, row in enumerate(table, start=1):
            ax.loglog(response.frequencies, row, marker=".", label=f"layer {l}")
        ax.set_xlabel(r"frequency $\omega$ (rad / step)")
        ax.set_title(title, fontsize=10)
        ax.legend()
    left.set_ylabel("gain")
    right.set_ylabel("transfer")
    add_note(fig, rf"The input is a sinusoid $x_t = A\cos(\omega t)$.   $P_l(\omega)$: the "
                  rf"amplitude of layer $l$'s state ${response.state}$ at $\omega$ (its units "
                  rf"fitted by $a\cos\omega t + b\sin\omega t + m$ after the transient); "
                  rf"$in_l$: layer $l$'s input.", about)
    return save(fig, path)


def plot_impulse_response(response, path, about=None):
    """Each layer's distance from the unperturbed run, normalised by its peak, log scale.
    about: a line under the figure (the network)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    for l, (d, tau) in enumerate(zip(response.distance, response.time_constant), start=1):
        peak = d.max()
        if peak > 0:
            ax.semilogy(d / peak, label=rf"layer {l}: $\tau$ = {tau:.3g} ({response.kinds[l - 1]})")
    ax.axvline(response.t0, color="gray", linestyle=":")
    ax.axhline(1 / np.e, color="gray", linestyle="--", linewidth=0.8)
    ax.set_ylim(1e-6, 2)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel(r"$d_l(t)\,/\,\max_t\, d_l(t)$")
    ax.set_title(f"impulse response: a kick to the input at $t_0 = {response.t0}$")
    ax.legend()
    s = response.state
    add_note(fig, rf"$d_l(t) = \|{s}'_t - {s}_t\|$: how far layer $l$'s state ${s}$ is from the "
                  r"run without the kick (batch mean); dotted line: $t_0$.",
             r"$\tau$: steps from the peak until $d_l$ stays below peak$/e$ (dashed line); "
             r"a pure exponential $a^t$ has $\tau = -1/\ln a$.   A layer is filtering when "
             rf"$\tau < {response.threshold:g}$ steps, accumulating (it integrates) otherwise.",
             about)
    return save(fig, path)


def plot_lesions(study, path, about=None):
    """Change in task loss (left) and impulse time constants per layer (right) per lesion.
    about: a line under the figure (the network and what each lesion removes)."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    names = study.names[1:]
    left.barh(names, study.delta_loss[1:])
    left.set_xlabel(r"$\Delta\mathcal{L}$ = task loss after the lesion $-$ intact")
    left.set_title("what each lesion costs")
    left.invert_yaxis()
    taus = np.where(np.isfinite(study.time_constant), study.time_constant, np.nan)
    L = taus.shape[1]
    width = 0.8 / len(study.names)
    for r, name in enumerate(study.names):  # one bar per lesion, centred on each layer
        right.bar(np.arange(1, L + 1) + (r - (len(study.names) - 1) / 2) * width, taus[r], width,
                  label=name)
    right.set_xticks(range(1, L + 1))
    right.set_xlabel("layer $l$")
    right.set_ylabel(r"impulse time constant $\tau$ (steps)")
    right.set_title(r"$\tau$ per layer ($\infty$ and no response not drawn)")
    right.legend(fontsize=7)
    add_note(fig, r"$\tau$: steps from the peak of the layer's response to a kick in the input "
                  r"until it stays below peak$/e$ (see the impulse-response figure).", about)
    return save(fig, path)


def plot_fixed_points(points, path, states=None, about=None):
    """Left: the points (and optionally visited states (M, S)) on their first two principal
    axes, coloured by stability. Right: their eigenvalues with the unit circle.
    about: a line under the figure (the network and layer)."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained")
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
    left.set(title="fixed (o) and slow (x) points", xlabel="principal axis 1",
             ylabel="principal axis 2")
    angle = np.linspace(0, 2 * np.pi, 200)
    right.plot(np.cos(angle), np.sin(angle), color="gray", linewidth=0.8)
    right.set_aspect("equal")
    right.set(title=r"eigenvalues $\lambda$ of the step Jacobian $\partial s_t/\partial s_{t-1}$",
              xlabel=r"$\mathrm{Re}\,\lambda$", ylabel=r"$\mathrm{Im}\,\lambda$")
    add_note(fig, r"A fixed point $s^*$ maps to itself under one step; a slow point nearly does. "
                  r"It is stable when every $|\lambda| < 1$ (inside the gray unit circle).", about)
    return save(fig, path)


def plot_saliency(result, path, about=None):
    """The (time x layer) saliency map: column 0 the input, column l layer l.
    about: a line under the figure (the network and the output)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    image = ax.imshow(result.map.T, aspect="auto", origin="lower", cmap="viridis")
    ax.set_yticks(range(result.map.shape[1]))
    ax.set_yticklabels(["input $x_t$"] + [f"layer {l}" for l in range(1, result.map.shape[1])])
    ax.set_xlabel("time step $t$")
    ax.set_title(r"saliency $\|\partial o/\partial h_t^l\|$ (batch mean)")
    fig.colorbar(image, ax=ax)
    add_note(fig, r"$o = \sum dy \cdot y$: the output studied (by default one unit of $y$ at one "
                  r"step, summed over the batch); $h_t^l$: layer $l$'s state at step $t$ (the input's "
                  r"row: $\partial o/\partial x_t$); the total derivative, through the later "
                  r"steps and the layers above.", about)
    return save(fig, path)


def plot_probe(probe, features, target, path, max_points=2000, about=None):
    """Probe prediction against the target, with its held-out R^2. features (..., F),
    target (...) or (..., 1). about: a line under the figure (which state, which target)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
    predicted = probe.predict(np.asarray(features)).reshape(-1)[:max_points]
    actual = np.asarray(target, dtype=float).reshape(-1)[:max_points]
    ax.scatter(actual, predicted, s=4, alpha=0.5)
    low, high = actual.min(), actual.max()
    ax.plot([low, high], [low, high], color="gray", linewidth=0.8)
    ax.set_xlabel("target")
    ax.set_ylabel("linear probe's prediction")
    ax.set_title(f"held-out $R^2 = {probe.r2_test:.4f}$")
    add_note(fig, r"A linear probe: target $\approx$ state $\cdot\, W + b$, least squares; "
                  r"$R^2 = 1$ on held-out sequences: an exact linear readout.", about)
    return save(fig, path)


# ---- training --------------------------------------------------------------------------------
def plot_learning_curves(histories, path, metric_name="metric", about=None):
    """Loss (dashed train, solid validation; log scale) and, where recorded, the validation
    metric per epoch. histories: {label: history from `minirnn.train.fit`}.
    about: a line under the figure (the models and data)."""
    plt = pyplot()
    with_metric = any(any(v is not None for v in h.get("val_metric", [])) for h in histories.values())
    fig, axes = plt.subplots(1, 2 if with_metric else 1, figsize=(11 if with_metric else 6, 4),
                             squeeze=False, layout="constrained")
    loss_ax = axes[0, 0]
    for label, h in histories.items():
        epochs = np.arange(1, len(h["train_loss"]) + 1)
        line, = loss_ax.plot(epochs, h["train_loss"], "--", alpha=0.7)
        if h.get("val_loss"):
            loss_ax.plot(epochs, h["val_loss"], color=line.get_color(), label=label)
        if with_metric and h.get("val_metric"):
            axes[0, 1].plot(epochs, h["val_metric"], color=line.get_color(), label=label)
    loss_ax.set(title="loss (dashed train, solid validation)", xlabel="epoch", ylabel="loss",
                yscale="log")
    loss_ax.legend(fontsize=8)
    if with_metric:
        axes[0, 1].set(title=f"validation {metric_name}", xlabel="epoch", ylabel=metric_name)
    add_note(fig, about)
    return save(fig, path)
