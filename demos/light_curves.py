"""Light curves: a flare or a transit? A stacked BiGRU against logistic regression on window
statistics, tested on held-out orbits and a held-out Kepler quarter; then where the network
looks, layer by layer.

Shape legend: N windows, T points per window, L layers, F window statistics.

Data: minirnn.data.load_light_curve_windows: windows of 128 points of TESS (2-min) and Kepler /
K2 (30-min) light curves labelled quiet / flare / transit by the rule in
minirnn/data/light_curves.py (flares: >= 3 points above 3 sigma of the trend, peaking above
10 sigma; transits: WASP-6 b's fitted ephemeris). Test split: Kepler quarter 5 of
KIC 10002792 and one TESS orbit of each TESS star; training split: the rest. Each step's input is
arcsinh(z / s): z the flux's excess over its trend in noise units, s the window's own noise level
(so quiet 2-min and 30-min windows scatter alike); arcsinh puts a 1,000-sigma flare and a
10-sigma dip on one scale.
    BiGRU [12, 12, 12] -> Dense(3) at every step -> each class's logit is its maximum over the
    window (max pooling: no position in the window is favoured, unlike a final-state readout)
Training windows are resampled so that each class is seen equally often.
Baseline: multinomial logistic regression on the window's min, max, sd, skewness, kurtosis.

The claim (the applications text): for a flare the saliency is concentrated in time and carried
by the lower layers; for a transit it is spread out and the upper layers matter more. Measured on
the correctly classified test windows: the share of each layer's saliency ||d logit / d h_t^l||
(minirnn.analysis.saliency, the window's own class logit) in its top 10% of steps; and the
accuracy per class with each layer's recurrence lesioned (minirnn.analysis.lesion_recurrence,
memoryless: the layer keeps nothing from step to step).

    python demos/light_curves.py OUTPUT_DIR [--epochs 20] [--seeds 3]

Prints the tables and the verdict and writes sample_windows.png, saliency_maps.png and
results.json to OUTPUT_DIR.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.stats import kurtosis, skew

from minirnn import StackedRNN
from minirnn.analysis import lesion_recurrence, saliency
from minirnn.data import light_curves as lc
from minirnn.layers import Dense
from minirnn.losses import softmax_cross_entropy
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.plot import add_note, describe_networks, pyplot, save
from minirnn.threads import set_num_threads
from minirnn.train import accuracy, fit, predict

HIDDEN, LAYERS = 12, 3
TOP_SHARE = 0.1
SCORES = ("all", *lc.CLASSES)


# ---- data and the baseline ----------------------------------------------------------------------
def network_input(z):
    """z (N, T) -> (N, T, 1): arcsinh(z / s), s each window's noise level (lc.noise_sigma)."""
    return np.arcsinh(z / lc.noise_sigma(z)[:, None])[..., None]


def part_name(curve, part):
    star, _, mission, _ = lc.CURVES[curve]
    return f"{star} ({mission}{', orbit ' + str(part) if mission.startswith('TESS') else ''})"


def split_text(windows):
    """'test: ...; train: ...', the parts of each split."""
    parts = {split: sorted({part_name(c, p) for c, p in zip(windows[f"curve_{split}"],
                                                            windows[f"part_{split}"])})
             for split in ("test", "train")}
    return "; ".join(f"{split}: {', '.join(names)}" for split, names in parts.items())


def balanced(y, rng):
    """Indices that resample every class (with replacement) to the size of the largest."""
    largest = np.bincount(y).max()
    return np.concatenate([np.flatnonzero(y == c) if np.sum(y == c) == largest else
                           rng.choice(np.flatnonzero(y == c), largest) for c in np.unique(y)])


def window_statistics(x):
    """x (N, T, 1) -> (N, F): min, max, sd, skewness and kurtosis of each window."""
    x = x[..., 0]
    return np.stack([x.min(axis=1), x.max(axis=1), x.std(axis=1), skew(x, axis=1),
                     kurtosis(x, axis=1)], axis=1)


def logistic_regression(train_features, train_y, test_features, steps=3000, lr=0.5, l2=1e-3):
    """Multinomial logistic regression by full-batch gradient descent on features standardised
    with the training windows' mean and sd; returns the test logits (N, 3)."""
    mean, sd = train_features.mean(axis=0), train_features.std(axis=0)
    a, b = (train_features - mean) / sd, (test_features - mean) / sd
    W, bias = np.zeros((a.shape[1], 3)), np.zeros(3)
    for _ in range(steps):
        _, dlogits = softmax_cross_entropy(a @ W + bias, train_y)
        W -= lr * (a.T @ dlogits + l2 * W)
        bias -= lr * dlogits.sum(axis=0)
    return b @ W + bias


# ---- the network --------------------------------------------------------------------------------
def build(seed):
    net = StackedRNN("gru", 1, [HIDDEN] * LAYERS, bidirectional=True, seed=seed)
    return Sequential([("gru", Recurrent(net)), ("dense", Dense(2 * HIDDEN, 3, seed=seed))])


def max_pooled_cross_entropy(out, labels, mask=None):
    """Softmax cross-entropy of the time-max of the per-step logits out (N, T, 3): each class's
    logit is its largest over the window, and its gradient goes to that step."""
    loss, dlogits = softmax_cross_entropy(out.max(axis=1), labels)
    dout = np.zeros_like(out)
    np.put_along_axis(dout, out.argmax(axis=1)[:, None, :], dlogits[:, None, :], axis=1)
    return loss, dout


def max_pooled_accuracy(out, labels, mask=None):
    return accuracy(out.max(axis=1), labels)


def classify(model, x):
    """(N,) each window's class: the largest time-max logit."""
    return predict(model, x).max(axis=1).argmax(axis=-1)


def train(windows, epochs, seed):
    rows = balanced(windows["y_train"], np.random.default_rng(seed))
    model = build(seed)
    fit(model, max_pooled_cross_entropy,
        (network_input(windows["x_train"])[rows], windows["y_train"][rows]),
        optimizer=Adam(lr=0.01), epochs=epochs, batch_size=32, metric=max_pooled_accuracy,
        clip_norm=5.0, seed=seed, progress=False, num_threads=1)
    return model


def class_accuracies(predicted, y):
    """{'all': accuracy, class name: accuracy on that class's windows}."""
    scores = {"all": float(np.mean(predicted == y))}
    scores.update({name: float(np.mean(predicted[y == c] == c))
                   for c, name in enumerate(lc.CLASSES)})
    return scores


def layer_saliency(model, x, labels):
    """(N, T, L + 1): ||d logit / d x_t|| (column 0) and ||d logit / d h_t^l|| (the total
    derivative, minirnn.analysis.saliency) of each window's logit for its label (x: (N, T, 1))."""
    net, head = model.layers["gru"].net, model.layers["dense"].params["W"]
    steps = predict(model, x)[np.arange(len(x)), :, labels].argmax(axis=1)   # where the max is
    dy = np.zeros((len(x), x.shape[1], head.shape[0]))   # d logit / d y: the head's column there
    dy[np.arange(len(x)), steps] = head[:, labels].T
    result = saliency(net, x, dy=dy)
    columns = [np.linalg.norm(result.input_gradient, axis=-1)]
    columns += [np.linalg.norm(result.state_gradients[l]["h"], axis=-1)
                for l in range(1, LAYERS + 1)]
    return np.stack(columns, axis=-1)


def top_share(maps):
    """maps (N, T, L + 1) -> (N, L + 1): the share of each column's sum in its top TOP_SHARE of
    steps (TOP_SHARE for a flat map, 1 for a single step)."""
    k = int(np.ceil(TOP_SHARE * maps.shape[1]))
    ordered = np.sort(maps, axis=1)[:, ::-1]
    return ordered[:, :k].sum(axis=1) / ordered.sum(axis=1)


def run_seed(windows, epochs, seed):
    """One trained model, its test predictions and saliency maps, the per-class top-10% share
    (mean over the correctly classified test windows) and per-class accuracy with each layer
    lesioned."""
    model = train(windows, epochs, seed)
    x, y = network_input(windows["x_test"]), windows["y_test"]
    predicted = classify(model, x)
    maps = layer_saliency(model, x, y)
    right, shares = predicted == y, top_share(maps)
    concentration = {name: shares[right & (y == c)].mean(axis=0).tolist()
                     for c, name in enumerate(lc.CLASSES) if np.any(right & (y == c))}
    lesions = {"intact": class_accuracies(predicted, y)}
    for l in range(1, LAYERS + 1):
        net = lesion_recurrence(model.layers["gru"].net, l, memoryless=True)
        lesioned = Sequential([("gru", Recurrent(net)), ("dense", model.layers["dense"])])
        lesions[f"layer {l}"] = class_accuracies(classify(lesioned, x), y)
    return {"model": model, "predicted": predicted, "maps": maps, "concentration": concentration,
            "lesions": lesions}


# ---- the report: each part prints its table and returns its numbers ----------------------------
def count_table(windows):
    """Windows per class and split (distinct flares and transits in brackets), as lines."""
    lines = [f"{'split':<7}{'quiet':>7}{'flare':>16}{'transit':>16}"]
    for split in ("train", "test"):
        y, events = windows[f"y_{split}"], windows[f"event_time_{split}"]
        lines.append(f"{split:<7}{np.sum(y == 0):>7}" + "".join(
            f"{np.sum(y == c):>7} ({len(np.unique(events[y == c]))} events)" for c in (1, 2)))
    return lines


def mean_sd(values):
    return {"mean": float(np.mean(values)), "sd": float(np.std(values))}


def report_accuracy(windows, baseline, runs):
    """Table 1: test accuracy of the baseline and the BiGRU (mean +- sd over seeds), overall,
    per class and per test part."""
    y = windows["y_test"]
    names = [part_name(c, p) for c, p in zip(windows["curve_test"], windows["part_test"])]
    parts = {name: np.array(names) == name for name in sorted(set(names))}

    def scores(predicted):
        out = class_accuracies(predicted, y)
        out.update({name: float(np.mean(predicted[rows] == y[rows]))
                    for name, rows in parts.items()})
        return out
    table = {"logistic regression": scores(baseline),
             "BiGRU": {k: mean_sd([scores(r["predicted"])[k] for r in runs])
                       for k in (*SCORES, *parts)}}
    print(f"\nTest accuracy ({len(y)} windows of held-out parts); BiGRU mean +- sd over "
          f"{len(runs)} seeds")
    print(f"{'':<44}{'logistic regression':>20}{'BiGRU ' + str([HIDDEN] * LAYERS):>22}")
    for k in (*SCORES, *parts):
        label = f"windows: {k}" if k in SCORES else f"part: {k}"
        gru = table["BiGRU"][k]
        print(f"{label:<44}{table['logistic regression'][k]:>20.3f}"
              f"{gru['mean']:>15.3f} +- {gru['sd']:.3f}")
    return table


def report_concentration(runs):
    """Table 2: per class and layer, the share of the saliency in the top 10% of steps, mean over
    seeds."""
    table = {name: np.mean([r["concentration"][name] for r in runs if name in r["concentration"]],
                           axis=0).tolist()
             for name in lc.CLASSES if any(name in r["concentration"] for r in runs)}
    print(f"\nShare of the saliency in the top {TOP_SHARE:.0%} of the {runs[0]['maps'].shape[1]} "
          f"steps (flat {TOP_SHARE:.2f}, one step 1.00); correctly classified test windows, mean "
          f"over seeds")
    print(f"{'class':<10}{'input':>10}" + "".join(f"{'layer ' + str(l):>10}"
                                                 for l in range(1, LAYERS + 1)))
    for name, shares in table.items():
        print(f"{name:<10}" + "".join(f"{s:>10.3f}" for s in shares))
    return table


def report_lesions(runs):
    """Table 3: per-class test accuracy with each layer's recurrence lesioned, mean over seeds."""
    table = {lesion: {k: float(np.mean([r["lesions"][lesion][k] for r in runs])) for k in SCORES}
             for lesion in runs[0]["lesions"]}
    print("\nTest accuracy with one layer made memoryless (Wh = 0, GRU update gate closed: the "
          "layer keeps nothing from step to step), mean over seeds")
    print(f"{'lesion':<10}" + "".join(f"{k:>10}" for k in SCORES))
    for lesion, row in table.items():
        print(f"{lesion:<10}" + "".join(f"{row[k]:>10.3f}" for k in SCORES))
    return table


def verdict(concentration, lesions):
    """Four checks of the claim, two on the saliency and two on the lesions (each lesion's cost:
    the drop in a class's accuracy). 'held' if all pass, 'did not hold here' if none, else
    'partly'. Returns (verdict, {check: passed})."""
    if not {"flare", "transit"} <= set(concentration):
        return "not measured (no correctly classified flare or transit)", {}
    flare, transit = np.array(concentration["flare"]), np.array(concentration["transit"])
    cost = {lesion: {c: lesions["intact"][c] - lesions[lesion][c] for c in ("flare", "transit")}
            for lesion in lesions}
    top = f"layer {LAYERS}"
    checks = {
        "the input saliency is more concentrated in time for flares than transits":
            bool(flare[0] > transit[0]),
        "so is every layer's": bool(np.all(flare > transit)),
        "the layer-1 lesion costs flares more than transits":
            bool(cost["layer 1"]["flare"] > cost["layer 1"]["transit"]),
        f"the top layer's ({top}) lesion costs transits more than flares":
            bool(cost[top]["transit"] > cost[top]["flare"])}
    passed = list(checks.values())
    return "held" if all(passed) else "partly" if any(passed) else "did not hold here", checks


# ---- figures ------------------------------------------------------------------------------------
def plot_sample_windows(windows, path, seed=0):
    """Every flare and transit (one window each, the middle one of its windows) and, for each
    split and light curve, one quiet window drawn at random."""
    rng = np.random.default_rng(seed)
    picks = []
    for c in (1, 2, 0):
        for split in ("train", "test"):
            y, curves = windows[f"y_{split}"], windows[f"curve_{split}"]
            events = windows[f"event_time_{split}"] if c else curves
            for event in np.unique(events[y == c]):
                rows = np.flatnonzero((y == c) & (events == event))
                picks.append((split, rows[len(rows) // 2] if c else rng.choice(rows)))
    plt = pyplot()
    columns = 6
    rows = int(np.ceil(len(picks) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.1 * columns, 1.35 * rows),
                             layout="constrained", squeeze=False)
    colours = {0: "0.4", 1: "tab:red", 2: "tab:blue"}
    for ax, (split, row) in zip(axes.ravel(), picks):
        label, event = windows[f"y_{split}"][row], windows[f"event_time_{split}"][row]
        ax.plot(network_input(windows[f"x_{split}"][row:row + 1])[0, :, 0],
                color=colours[label], linewidth=0.7, antialiased=False)
        when = f" at {event:.2f}" if label else ""
        ax.set_title(f"{lc.CLASSES[label]}{when} ({split})\n" + part_name(
            windows[f"curve_{split}"][row], windows[f"part_{split}"][row]), fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in axes.ravel()[len(picks):]:
        ax.axis("off")
    add_note(fig, "Each panel: one window of 128 points as the network reads it, arcsinh(z / s): "
                  "z the flux's excess over its trend in noise units, s the window's noise level "
                  "(2-min TESS windows span 4.3 hours, 30-min Kepler / K2 windows 2.6 days). "
                  "Every "
                  "flare and transit the rule found is shown once (the time of its peak or "
                  "mid-transit: BTJD for TESS, BKJD for Kepler and K2); quiet: one window at "
                  "random per light curve and split. Rule: minirnn/data/light_curves.py.")
    return save(fig, path)


def plot_saliency_maps(windows, run, path):
    """For the test flare and transit windows the seed-0 model gets right with the largest
    layer-1 saliency peak: the input, and its class logit's saliency per layer over time (each
    row scaled to its maximum)."""
    y, right = windows["y_test"], run["predicted"] == windows["y_test"]
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(12, 5), layout="constrained", sharex=True,
                             gridspec_kw={"height_ratios": [1, 1.3]})
    x = network_input(windows["x_test"])[..., 0]
    for column, c in enumerate((1, 2)):
        rows = np.flatnonzero(right & (y == c))
        if not len(rows):
            continue
        n = rows[np.argmax(run["maps"][rows, :, 1].max(axis=1))]
        axes[0, column].plot(x[n], color="k", linewidth=0.8)
        name = part_name(windows["curve_test"][n], windows["part_test"][n])
        axes[0, column].set(title=f"test {lc.CLASSES[c]}: {name}", ylabel="input arcsinh(z / s)")
        scaled = run["maps"][n] / run["maps"][n].max(axis=0)
        axes[1, column].imshow(scaled.T, aspect="auto", origin="lower", cmap="viridis",
                               interpolation="nearest")
        axes[1, column].set_yticks(range(LAYERS + 1),
                                   ["input"] + [f"layer {l}" for l in range(1, LAYERS + 1)])
        axes[1, column].set_xlabel("step $t$ in the window")
    add_note(fig, r"Bottom: $\|\partial\,\mathrm{logit}/\partial h_t^l\|$, the total derivative "
                  r"of the window's class logit (its maximum over the window) with respect to "
                  r"layer $l$'s state at step $t$ (input row: $\partial/\partial x_t$), each row "
                  r"divided by its maximum.",
             f"Model: {describe_networks([run['model'].layers['gru'].net])} $\\to$ Dense(3) "
             f"per step, max over the window (seed 0). Data: {split_text(windows)}.")
    return save(fig, path)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    set_num_threads(1)   # one BLAS thread per process: the machine is shared (minirnn/threads.py)
    start = time.time()
    windows = lc.load_light_curve_windows()
    counts = count_table(windows)
    print(f"Windows of 128 points ({split_text(windows)})\n" + "\n".join(counts))
    features = {split: window_statistics(network_input(windows[f"x_{split}"]))
                for split in ("train", "test")}
    baseline = logistic_regression(features["train"], windows["y_train"],
                                   features["test"]).argmax(axis=-1)
    runs = [run_seed(windows, args.epochs, seed) for seed in range(args.seeds)]
    summary = {"counts": counts, "split": split_text(windows),
               "accuracy": report_accuracy(windows, baseline, runs),
               "concentration": report_concentration(runs), "lesions": report_lesions(runs)}
    summary["verdict"], summary["checks"] = verdict(summary["concentration"], summary["lesions"])
    print(f"\nVerdict on the claim: {summary['verdict']}\n" + "\n".join(
        f"  [{'x' if ok else ' '}] {check}" for check, ok in summary["checks"].items()))
    figures = [plot_sample_windows(windows, args.output_dir / "sample_windows.png"),
               plot_saliency_maps(windows, runs[0], args.output_dir / "saliency_maps.png")]
    summary.update(epochs=args.epochs, seeds=args.seeds, seconds=time.time() - start)
    (args.output_dir / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"figures ({', '.join(Path(f).name for f in figures)}) and results.json in "
          f"{args.output_dir}; total {time.time() - start:.0f} s")
    return summary


if __name__ == "__main__":
    main()
