"""One figure per probe, written to a file. matplotlib (Agg backend) is imported inside each
function, so importing minirnn.analysis never needs it. Each function returns the path written."""
import numpy as np


def new_figure(*args, **kwargs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt, *plt.subplots(*args, **kwargs)


def save(plt, fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_frequency_response(response, path):
    """Gain (left) and per-layer transfer (right) against frequency, one line per layer."""
    plt, fig, (left, right) = new_figure(1, 2, figsize=(10, 4))
    for ax, table, title in ((left, response.gain, "gain: response / network input"),
                             (right, response.transfer, "transfer: response / layer input")):
        for l, row in enumerate(table, start=1):
            ax.loglog(response.frequencies, row, marker=".", label=f"layer {l}")
        ax.set_xlabel("frequency w (rad / step)")
        ax.set_title(title)
        ax.legend()
    left.set_ylabel(f"amplitude of {response.state!r}")
    return save(plt, fig, path)


def plot_impulse_response(response, path):
    """Each layer's distance from the unperturbed run, normalised by its peak, log scale."""
    plt, fig, ax = new_figure(figsize=(7, 4))
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
    return save(plt, fig, path)


def plot_lesions(study, path):
    """Change in task loss (left) and impulse time constants per layer (right) per lesion."""
    plt, fig, (left, right) = new_figure(1, 2, figsize=(11, 4))
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
    return save(plt, fig, path)


def plot_fixed_points(points, path, states=None):
    """Left: the points (and optionally visited states (M, S)) on their first two principal
    axes, coloured by stability. Right: their eigenvalues with the unit circle."""
    plt, fig, (left, right) = new_figure(1, 2, figsize=(10, 4.5))
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
    return save(plt, fig, path)


def plot_saliency(result, path):
    """The (time x layer) saliency map: column 0 the input, column l layer l."""
    plt, fig, ax = new_figure(figsize=(7, 4))
    image = ax.imshow(result.map.T, aspect="auto", origin="lower", cmap="viridis")
    ax.set_yticks(range(result.map.shape[1]))
    ax.set_yticklabels(["input"] + [f"layer {l}" for l in range(1, result.map.shape[1])])
    ax.set_xlabel("time step")
    ax.set_title("|d output / d state| (batch mean)")
    fig.colorbar(image, ax=ax)
    return save(plt, fig, path)


def plot_probe(probe, features, target, path, max_points=2000):
    """Probe prediction against the target, with its held-out R^2. features (..., F),
    target (...) or (..., 1)."""
    plt, fig, ax = new_figure(figsize=(5, 5))
    predicted = probe.predict(np.asarray(features)).reshape(-1)[:max_points]
    actual = np.asarray(target, dtype=float).reshape(-1)[:max_points]
    ax.scatter(actual, predicted, s=4, alpha=0.5)
    low, high = actual.min(), actual.max()
    ax.plot([low, high], [low, high], color="gray", linewidth=0.8)
    ax.set_xlabel("target")
    ax.set_ylabel("linear probe")
    ax.set_title(f"held-out R^2 = {probe.r2_test:.4f}")
    return save(plt, fig, path)
