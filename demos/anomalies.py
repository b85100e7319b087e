"""Anomalies on several timescales: does a stacked LSTM's fast layer flag sharp spikes and its
slow layer slow drifts?

The applications text: anomalies come on several timescales (a sudden spike, a slow creep); a
stack of recurrent layers, "each acting as a filter with a different characteristic timescale",
catches both once the alarms of all layers are combined. Tested with a forecaster,
Stacked LSTM [16, 16, 16] -> Dense(1), trained with `fit` to predict the next step of the
normal part of a series (the first train_end steps) and nothing else. Each layer l then scores
every step t in two ways, both fitted on the normal part only:

    surprise_l(t) = (h_l(t) - m_l)^T S_l^-1 (h_l(t) - m_l)    how unusual the layer's state is
                    (m_l, S_l: the mean and covariance of h_l over the normal part)
    readout_l(t)  = (z_t - w_l . h_l(t-1) - b_l)^2            the error of a least-squares
                    one-step readout from the layer

each divided by its 99th percentile over the normal part, so 1 is the edge of normal. The
combined alarm of a kind is the largest of its layers' scores (an alarm when any layer alarms).
Each layer's impulse-response time constant tau_h (minirnn.analysis.impulse_response: a unit
kick on windows of the normal part) says which layer of a trained stack is fast and which slow.
Baselines, scaled the same way: a moving-average residual |z_t - mean(z_{t-10} .. z_{t-1})| and
a brute-force nearest-neighbour discord (the distance of the z-normalised length-m window
centred on each step to its nearest non-overlapping window of the normal part; m: the series'
period, read off the normal part).

Three series, each split into a normal part (train) and a held-out test part (scored):
    synthetic  minirnn.data.multiscale_anomalies: 8 one-step spikes of size 1 and 4 drifts (a
               slow rise and fall of 0.5 over 200 steps) in the test part
    UCR 135    InternalBleeding16 (aeon): train 0..1199, test 1200..7500, anomaly 4187..4198
    MIT-BIH    ECG excerpt (sktime): train 0..2499 (our split), test 2500..7499, anomaly
               6936..7287 (a premature beat and the pause after it)
On the synthetic series, per detector: precision at k for each kind (the share of its k events
that the k highest peaks of the score find), and the score as an alarm above its largest value
on the normal part (the share of events of each kind it sounds near, and of other test steps it
sounds on). The claim is judged for each trained stack: its fastest layer (smallest tau_h)
should find spikes, its slowest drifts, each better than the other layer by a margin in
precision at k. The real series are scored the UCR way: a detector hits when its top-scoring
test step lies in the labelled window +- 100 steps.

    python demos/anomalies.py OUTPUT_DIR [--seeds 5] [--first-seed 0] [--epochs 40]

Shape legend: T time steps of a series, N training windows, H units of a layer, L layers.

Prints the time constants, the table (model vs baselines), the verdict per stack and overall;
writes synthetic_precision.png, synthetic_scores.png, ucr_scores.png, mitbih_scores.png and
results.json.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from minirnn import StackedRNN, data
from minirnn.analysis import impulse_response
from minirnn.layers import Dense
from minirnn.losses import mean_squared_error
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.plot import add_note, describe_networks, pyplot, save
from minirnn.threads import thread_limit
from minirnn.train import fit

HIDDEN = [16, 16, 16]
WARMUP = 50            # steps of each run from zero states left out of every normal statistic
QUANTILE = 0.99        # a score is divided by this quantile of its values on the normal part
MA_WIDTH = 10          # the moving-average baseline's window, not tuned
TOLERANCE = 100        # the UCR rule: the top step within the labelled window +- 100 steps
IMPULSE_STEPS, IMPULSE_T0 = 200, 50
SCORE_KINDS = ("surprise", "readout")
BASELINES = ("moving-average residual", "nearest-neighbour discord")
KINDS = {"spike": 1, "drift": 2}                 # data.ANOMALY_KINDS ids
PEAK_RADIUS = {"spike": 20, "drift": 100}        # non-maximum suppression between top peaks
EVENT_TOLERANCE = 20                             # a peak finds an event within 20 steps of it
MARGIN = 0.25          # "layer a flags kind K more than layer b": precision higher by this much
SYNTHETIC = {"spike_size": 1.0, "drift_size": 0.5}  # inside the signal's range; a slow creep
TRAINING = {"synthetic": (160, 10), "ucr": (200, 20), "mitbih": (300, 25)}  # window, stride
TITLES = {"synthetic": "synthetic (multiscale_anomalies)",
          "ucr": "UCR 135 InternalBleeding16", "mitbih": "MIT-BIH ECG excerpt"}


# ---------------------------------------------------------------- the forecaster and its scores

def standardise(series, train_end):
    """The series in units of the normal part's mean and standard deviation."""
    normal = series[:train_end]
    return (series - normal.mean()) / normal.std()


def next_step_windows(z, length, stride):
    """Inputs (N, length, 1) and next-step targets (N, length, 1) from windows of z (T,)."""
    starts = range(0, len(z) - length, stride)
    x = np.stack([z[s:s + length] for s in starts])[..., None]
    y = np.stack([z[s + 1:s + length + 1] for s in starts])[..., None]
    return x, y


def train_forecaster(z_normal, length, stride, epochs, seed):
    """A stacked LSTM forecaster trained on windows of the normal part only; returns the net."""
    net = StackedRNN("lstm", 1, HIDDEN, seed=seed)
    model = Sequential([("lstm", Recurrent(net)), ("head", Dense(HIDDEN[-1], 1, seed=seed))])
    fit(model, mean_squared_error, next_step_windows(z_normal, length, stride), None,
        Adam(lr=0.003), epochs=epochs, batch_size=16, clip_norm=1.0, seed=seed,
        progress=False, num_threads=1)
    return net


def normalised(score, train_end):
    """score (T,) divided by its QUANTILE over the normal part (after the warm-up)."""
    return score / np.quantile(score[WARMUP:train_end], QUANTILE)


def state_surprise(h, train_end):
    """(T,) squared Mahalanobis distance of each state h_t (T, H) from the normal part's states."""
    normal = h[WARMUP:train_end]
    covariance = np.cov(normal, rowvar=False) + 1e-6 * np.eye(h.shape[1])  # floor: dead units
    centred = h - normal.mean(axis=0)
    return np.einsum("th,th->t", centred, np.linalg.solve(covariance, centred.T).T)


def readout_error(h, z, train_end):
    """(T,) squared error of predicting z_t from h_{t-1} (T, H) with a least-squares readout fitted
    on the normal part; 0 at t = 0."""
    features = np.concatenate([h, np.ones((len(h), 1))], axis=1)  # the readout's bias
    weights = np.linalg.lstsq(features[WARMUP:train_end - 1], z[WARMUP + 1:train_end],
                              rcond=None)[0]
    error = np.zeros(len(z))
    error[1:] = (z[1:] - features[:-1] @ weights) ** 2
    return error


def layer_scores(net, z, train_end):
    """{"surprise": (L, T), "readout": (L, T)}: each layer's normalised scores over the series
    (one run from zero states over all of z: the test part is read after the normal part)."""
    _, _, cache = net.forward(z[None, :, None])
    states = [cache.outputs[l][0] for l in range(1, net.num_layers + 1)]  # (T, H) each
    return {"surprise": np.array([normalised(state_surprise(h, train_end), train_end)
                                  for h in states]),
            "readout": np.array([normalised(readout_error(h, z, train_end), train_end)
                                 for h in states])}


def time_constants(net, z, train_end, state):
    """(L,) each layer's decay time constant of `state` ('h' or 'c') after a unit kick at step
    IMPULSE_T0 of windows of the normal part (the batch mean distance)."""
    starts = range(0, train_end - IMPULSE_STEPS + 1, IMPULSE_STEPS // 2)
    x = np.stack([z[s:s + IMPULSE_STEPS] for s in starts])[..., None]
    return impulse_response(net, t0=IMPULSE_T0, x=x, state=state).time_constant


# ---------------------------------------------------------------- baselines

def moving_average_residual(z, width=MA_WIDTH):
    """(T,) |z_t - mean(z_{t-width} .. z_{t-1})|; 0 for the first width steps."""
    sums = np.concatenate([[0.0], np.cumsum(z)])
    score = np.zeros(len(z))
    score[width:] = np.abs(z[width:] - (sums[width:-1] - sums[:-width - 1]) / width)
    return score


def dominant_period(z):
    """The lag of the largest autocorrelation of z after the autocorrelation first turns
    negative: the period of a periodic series, in steps."""
    centred = z - z.mean()
    autocorrelation = np.correlate(centred, centred, "full")[len(z) - 1:len(z) + len(z) // 2]
    first_negative = int(np.argmax(autocorrelation < 0))
    return first_negative + int(np.argmax(autocorrelation[first_negative:]))


def znormalised_windows(z, length):
    """(T - length + 1, length): every window of z, less its mean, over its standard deviation."""
    windows = np.lib.stride_tricks.sliding_window_view(z, length)
    centred = windows - windows.mean(axis=1, keepdims=True)
    return centred / np.maximum(centred.std(axis=1, keepdims=True), 1e-12)


def discord_scores(z, length, chunk=1024, reference_end=None):
    """(T,) the nearest-neighbour distance of every window of z (T,): the Euclidean distance from
    its z-normalised shape to the nearest z-normalised window lying wholly in z[:reference_end]
    (the normal part; default all of z) and not overlapping it (the matrix profile's exclusion
    zone), written at the window's centre step; 0 where no window is centred.

    Brute force: for z-normalised windows a, b, ||a - b||^2 = 2 length (1 - a.b / length), so
    each chunk of windows needs one matrix product with all the reference windows."""
    windows = znormalised_windows(z, length)
    reference_end = len(z) if reference_end is None else reference_end
    reference = windows[:reference_end - length + 1]               # (R, length)
    nearest = np.empty(len(windows))
    for first in range(0, len(windows), chunk):
        correlation = windows[first:first + chunk] @ reference.T / length
        rows = np.arange(first, first + len(correlation))[:, None]
        correlation[np.abs(rows - np.arange(len(reference))) < length] = -np.inf  # overlaps
        nearest[first:first + chunk] = correlation.max(axis=1)
    score = np.zeros(len(z))
    score[length // 2:length // 2 + len(windows)] = np.sqrt(
        np.maximum(2 * length * (1 - nearest), 0))
    return score


def baseline_scores(z, train_end):
    """{baseline name: (T,) normalised score} and the discord's window length (the period)."""
    length = dominant_period(z[:train_end])
    scores = {BASELINES[0]: moving_average_residual(z),
              BASELINES[1]: discord_scores(z, length, reference_end=train_end)}
    return {name: normalised(score, train_end) for name, score in scores.items()}, length


# ---------------------------------------------------------------- scoring rules

def top_step(score, train_end):
    """The test step (t >= train_end) with the highest score."""
    return train_end + int(np.argmax(score[train_end:]))


def ucr_hit(step, window, tolerance=TOLERANCE):
    """The UCR archive's rule: step lies in the labelled window (start, end) (end exclusive),
    widened by `tolerance` steps on each side."""
    start, end = window
    return start - tolerance <= step < end + tolerance


def top_peaks(score, k, radius, train_end):
    """The steps of the k highest test-part peaks of score (T,), greedily: take the highest step,
    drop every step within `radius` of it, repeat."""
    remaining = np.asarray(score, dtype=np.float64).copy()
    remaining[:train_end] = -np.inf
    peaks = []
    while len(peaks) < k and np.isfinite(remaining).any():
        step = int(np.argmax(remaining))
        peaks.append(step)
        remaining[max(0, step - radius):step + radius + 1] = -np.inf
    return peaks


def precision_at_k(score, events, kind, train_end, radius, tolerance=EVENT_TOLERANCE):
    """The fraction of the events of `kind` (rows (start, end, kind) of `events`) that the
    k = (their number) highest peaks of score find, a peak finding an event when it lies within
    `tolerance` steps of it; each event counts once."""
    chosen = events[events[:, 2] == kind]
    peaks = np.array(top_peaks(score, len(chosen), radius, train_end))
    found = [np.any((peaks >= start - tolerance) & (peaks < end + tolerance))
             for start, end, _ in chosen]
    return float(np.mean(found))


def alarm_rates(score, events, train_end, tolerance=EVENT_TOLERANCE):
    """The score as an alarm that sounds above its largest value on the normal part (after the
    warm-up): {"spike", "drift": the share of those events it sounds within `tolerance` steps
    of; "false": the share of the other test steps on which it sounds}."""
    alarm = score > score[WARMUP:train_end].max()
    near = np.zeros(len(score), dtype=bool)
    rates = {}
    for kind, kind_id in KINDS.items():
        caught = []
        for start, end, _ in events[events[:, 2] == kind_id]:
            near[max(start - tolerance, 0):end + tolerance] = True
            caught.append(alarm[max(start - tolerance, 0):end + tolerance].any())
        rates[kind] = float(np.mean(caught))
    near[:train_end] = True
    rates["false"] = float(alarm[~near].mean())
    return rates


def synthetic_row(score, task):
    """One detector on the synthetic series: precision at k and alarm rates per kind."""
    events, train_end = task["events"], task["normal_steps"]
    row = {f"P@k {kind}": precision_at_k(score, events, kind_id, train_end, PEAK_RADIUS[kind])
           for kind, kind_id in KINDS.items()}
    row.update({f"alarm {key}": value
                for key, value in alarm_rates(score, events, train_end).items()})
    return row


def detectors(scores, baselines):
    """{detector name: (T,) score}: every layer's score of each kind, the combined alarm of each
    kind (the largest layer score), then the baselines."""
    named = {}
    for kind in SCORE_KINDS:
        for l, score in enumerate(scores[kind], start=1):
            named[f"layer {l} {kind}"] = score
        named[f"combined {kind}"] = scores[kind].max(axis=0)
    return named | baselines


# ---------------------------------------------------------------- one series, all seeds

def run_series(name, series, train_end, seeds, epochs):
    """Train one forecaster per seed (seeds: a range) on the normal part and score the series.
    Returns {"z", "period", "net" (the last seed's), "runs": [{"seed", "scores": {detector:
    (T,)}, "tau_h", "tau_c": (L,)}]}."""
    z = standardise(series, train_end)
    baselines, period = baseline_scores(z, train_end)
    runs = []
    for seed in seeds:
        net = train_forecaster(z[:train_end], *TRAINING[name], epochs, seed)
        runs.append({"seed": seed,
                     "scores": detectors(layer_scores(net, z, train_end), baselines),
                     "tau_h": time_constants(net, z, train_end, "h"),
                     "tau_c": time_constants(net, z, train_end, "c")})
    return {"z": z, "runs": runs, "period": period, "net": net}


def mean_rows(tables):
    """The mean over seeds of per-seed tables {detector: {column: value}}."""
    return {detector: {column: float(np.mean([t[detector][column] for t in tables]))
                       for column in row} for detector, row in tables[0].items()}


def real_hits(result, labelled):
    """{detector: {"hits": seeds whose top step hits, "top_steps": [one per seed]}}."""
    table = {}
    for detector in result["runs"][0]["scores"]:
        steps = [top_step(run["scores"][detector], labelled["train_end"])
                 for run in result["runs"]]
        table[detector] = {"hits": sum(ucr_hit(s, labelled["window"]) for s in steps),
                           "top_steps": steps}
    return table


OUTCOMES = ("did not hold", "partly held", "held")
READINGS = ("by tau_h", "by depth")   # which layer of a stack counts as fast and which as slow


def fast_and_slow(taus, reading):
    """(fast layer, slow layer), numbered from 1: by tau_h the layers with the smallest and the
    largest time constant taus (L,); by depth layer 1 and layer L (the text's picture)."""
    if reading == "by tau_h":
        return int(np.argmin(taus)) + 1, int(np.argmax(taus)) + 1
    return 1, len(taus)


def claim_outcome(table, fast, slow, kind):
    """Did the claim hold for one trained stack and one score kind? The fast layer should find
    spikes better than the slow layer, and the slow layer drifts better than the fast one, each
    by at least MARGIN in precision at k: both parts 2 ('held'), one part 1 ('partly held'),
    none 0. table: {detector: synthetic_row}; fast, slow: layer numbers."""
    fast_row, slow_row = table[f"layer {fast} {kind}"], table[f"layer {slow} {kind}"]
    spikes = fast_row["P@k spike"] - slow_row["P@k spike"]
    drifts = slow_row["P@k drift"] - fast_row["P@k drift"]
    outcome = 0 if fast == slow else int(spikes >= MARGIN) + int(drifts >= MARGIN)
    return {"outcome": outcome, "fast layer": fast, "slow layer": slow,
            "spikes: fast minus slow": spikes, "drifts: slow minus fast": drifts}


def claim_verdict(outcomes):
    """The median outcome over the trained stacks, in words, with the count of each."""
    counts = [sum(o["outcome"] == k for o in outcomes) for k in (2, 1, 0)]
    median = sorted(o["outcome"] for o in outcomes)[len(outcomes) // 2]
    return (f"{OUTCOMES[median]} here (held in {counts[0]}, partly in {counts[1]}, not in "
            f"{counts[2]} of {len(outcomes)} trained stacks)")


# ---------------------------------------------------------------- printing

def print_time_constants(results, seeds):
    print(f"\nimpulse-response time constants, steps (median of {seeds} seeds): tau of h / "
          "tau of c")
    print(f"{'':<10}" + "".join(f"{TITLES[name][:24]:>26}" for name in results))
    for l in range(len(HIDDEN)):
        cells = [" / ".join(f"{np.median([run[tau][l] for run in res['runs']]):.1f}"
                            for tau in ("tau_h", "tau_c")) for res in results.values()]
        print(f"layer {l + 1:<4}" + "".join(f"{cell:>26}" for cell in cells))


def print_table(synthetic, hits, seeds):
    """One row per detector: the synthetic series' numbers (mean of the seeds) and the hits on
    the real series (seeds whose top step hits; yes/no for the baselines, which have no seed)."""
    print(f"\n{'':<27}{'synthetic: P@k':>16}{'alarm above normal max':>26}"
          f"{'UCR 135':>9}{'MIT-BIH':>9}")
    print(f"{'detector':<27}{'spikes':>8}{'drifts':>8}{'spikes':>9}{'drifts':>8}{'false':>9}"
          f"{'hits':>9}{'hits':>9}")
    for detector, row in synthetic.items():
        cells = [("yes" if hits[name][detector]["hits"] else "no") if detector in BASELINES
                 else f"{hits[name][detector]['hits']}/{seeds}" for name in hits]
        print(f"{detector:<27}{row['P@k spike']:>8.2f}{row['P@k drift']:>8.2f}"
              f"{row['alarm spike']:>9.2f}{row['alarm drift']:>8.2f}{row['alarm false']:>9.3f}"
              + "".join(f"{cell:>9}" for cell in cells))


def print_verdicts(outcomes, verdicts, runs):
    """Per trained stack: its tau_h and, for each reading of fast / slow and each score kind, the
    two differences of precision at k; then the verdicts."""
    print('\nThe claim "fast layers flag spikes, slow layers flag drifts" on the synthetic series: '
          f"a part holds when the fast layer's spike P@k beats the slow layer's by {MARGIN}, the "
          "other when the slow layer's drift P@k beats the fast layer's by as much.")
    print(f"{'stack':<8}{'tau_h of layers':<20}{'reading':<10}{'fast/slow':>10}"
          + "".join(f"{kind + ': spikes, drifts':>28}" for kind in SCORE_KINDS))
    for index, run in enumerate(runs):
        for reading in READINGS:
            first = outcomes[f"{SCORE_KINDS[0]} {reading}"][index]
            cells = [f"{o['spikes: fast minus slow']:+.2f}, {o['drifts: slow minus fast']:+.2f}"
                     for o in (outcomes[f"{kind} {reading}"][index] for kind in SCORE_KINDS)]
            stack, taus = (f"seed {run['seed']}", " ".join(f"{tau:.1f}" for tau in run["tau_h"])
                           ) if reading == READINGS[0] else ("", "")
            print(f"{stack:<8}{taus:<20}{reading:<10}{first['fast layer']:>5} / "
                  f"{first['slow layer']}" + "".join(f"{cell:>28}" for cell in cells))
    print("Verdict:")
    for key, text in verdicts.items():
        print(f"  {key}: the claim {text}")


# ---------------------------------------------------------------- figures

def shade_events(ax, marks):
    """marks: rows (start, end, kind): kind 0 a labelled anomaly of a real series (shaded, and
    +- the UCR tolerance lighter), 1 a spike (a line), 2 a drift (shaded)."""
    for start, end, kind in marks:
        if kind == 0:
            ax.axvspan(start - TOLERANCE, end + TOLERANCE, color="tab:red", alpha=0.08, lw=0)
            ax.axvspan(start, end, color="tab:red", alpha=0.3, lw=0)
        elif kind == KINDS["spike"]:
            ax.axvline(start, color="tab:red", alpha=0.35, lw=0.8)
        else:
            ax.axvspan(start, end, color="tab:orange", alpha=0.25, lw=0)


def plot_scores(title, z, train_end, scores, marks, marks_text, path, note):
    """The series, then each detector's score over the test part (seed 0), its top step marked;
    marks: rows (start, end, kind) shaded by `shade_events`, which marks_text explains."""
    plt = pyplot()
    rows = [d for d in scores if d.startswith("layer")] + list(BASELINES)
    fig, axes = plt.subplots(len(rows) + 1, 1, figsize=(9, 0.75 * (len(rows) + 1) + 0.6),
                             sharex=True, layout="constrained")
    t = np.arange(len(z))
    axes[0].plot(t[:train_end], z[:train_end], color="gray", lw=0.6)
    axes[0].plot(t[train_end:], z[train_end:], color="k", lw=0.6)
    axes[0].set_title(f"{title}: normal part (gray, trained on) and test part (black)",
                      fontsize=10)
    axes[0].set_ylabel("$z_t$")
    block = max(1, (len(z) - train_end) // 400)  # about 400 points a line
    starts = np.arange(train_end, len(z), block)
    for ax, detector in zip(axes[1:], rows):
        score = np.maximum(scores[detector], 1e-3)
        top = top_step(score, train_end)
        ax.semilogy(starts, np.maximum.reduceat(score[train_end:], starts - train_end), lw=0.6,
                    color="tab:purple" if detector in BASELINES else "tab:blue")
        ax.plot(top, score[top], "v", color="tab:red", ms=6)
        ax.axhline(1.0, color="gray", ls=":", lw=0.8)
        ax.minorticks_off()  # (saves most of the drawing time of a log axis)
        ax.set_ylabel("\n".join(detector.rsplit(" ", 1)), fontsize=7, rotation=0, ha="right",
                      va="center")
    for ax in axes:
        shade_events(ax, marks)
    axes[-1].set_xlabel("step $t$")
    add_note(fig, f"Scores over the test part (log scale, seed 0; the largest of each {block} "
                  "steps), each in units of its 99th percentile over the normal part (dotted "
                  "line: 1); red triangle: its top step. "
                  + marks_text, note)
    return save(fig, path)


def plot_precision(tables, taus, path, note):
    """Grouped bars: each detector's precision at k for spikes and for drifts, the mean over
    the per-seed tables, each seed a dot."""
    plt = pyplot()
    names = list(tables[0])
    fig, ax = plt.subplots(figsize=(10, 3.8), layout="constrained")
    x = np.arange(len(names))
    for offset, (kind, color) in zip((-0.2, 0.2), (("spike", "tab:red"), ("drift", "tab:orange"))):
        values = np.array([[table[n][f"P@k {kind}"] for n in names] for table in tables])
        ax.bar(x + offset, values.mean(axis=0), 0.4, color=color, label=f"{kind}s")
        for seed_values in values:
            ax.plot(x + offset, seed_values, ".", color="k", ms=3)
    labels = [n.replace(" surprise", "\nsurprise").replace(" readout", "\nreadout")
              .replace("moving-average ", "moving-avg.\n").replace("nearest-neighbour ", "NN\n")
              for n in names]
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("precision at $k$")
    ax.set_title("synthetic series: which detector finds which kind of anomaly "
                 rf"(median $\tau_h$ of layers 1..{len(taus)}: "
                 + ", ".join(f"{tau:.1f}" for tau in taus) + " steps)", fontsize=10)
    ax.legend()
    add_note(fig, "Precision at $k$: the share of the $k$ events of a kind (8 spikes, 4 drifts) "
                  "found by the $k$ highest peaks of a score over the test part (a peak within "
                  f"{EVENT_TOLERANCE} steps of an event finds it); bars: mean over seeds, dots: "
                  "each seed.", note)
    return save(fig, path)


# ---------------------------------------------------------------- main

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.epochs < 0 or args.first_seed < 0:
        parser.error(f"--seeds must be >= 1, --epochs and --first-seed >= 0; got --seeds "
                     f"{args.seeds}, --epochs {args.epochs}, --first-seed {args.first_seed}")
    return args


def main(argv=None):
    args = parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    task = data.multiscale_anomalies(**SYNTHETIC)
    labelled = {"ucr": data.load_ucr_internal_bleeding(), "mitbih": data.load_mitbih_ecg()}
    splits = {"synthetic": (task["series"], task["normal_steps"])}
    splits.update({name: (d["series"], d["train_end"]) for name, d in labelled.items()})
    with thread_limit(1):  # one BLAS thread: the machine is shared (threads.py)
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        results = {name: run_series(name, series, train_end, seeds, args.epochs)
                   for name, (series, train_end) in splits.items()}
    print("held-out test parts (models, readouts and normal statistics fitted on the part "
          "before):")
    for name, (series, train_end) in splits.items():
        print(f"  {TITLES[name]}: train steps 0..{train_end - 1}, test {train_end}.."
              f"{len(series) - 1}" + (f", labelled {labelled[name]['window'][0]}.."
                                      f"{labelled[name]['window'][1] - 1}"
                                      if name in labelled else
                                      f", {len(task['events'])} events"))
    print_time_constants(results, args.seeds)
    runs = results["synthetic"]["runs"]
    tables = [{detector: synthetic_row(score, task) for detector, score in run["scores"].items()}
              for run in runs]
    synthetic = mean_rows(tables)
    hits = {name: real_hits(results[name], labelled[name]) for name in labelled}
    print_table(synthetic, hits, args.seeds)
    outcomes = {f"{kind} {reading}": [
        claim_outcome(table, *fast_and_slow(run["tau_h"], reading), kind)
        for table, run in zip(tables, runs)] for reading in READINGS for kind in SCORE_KINDS}
    verdicts = {key: claim_verdict(value) for key, value in outcomes.items()}
    print_verdicts(outcomes, verdicts, runs)
    note = (f"Model: {describe_networks([results['synthetic']['net']])} $\\to$ Dense(1), trained "
            f"({args.epochs} epochs, Adam lr 0.003) to predict the next step of the normal part; "
            f"seeds {seeds[0]}..{seeds[-1]}, one network each.")
    taus = np.median([run["tau_h"] for run in runs], axis=0)
    figures = [plot_precision(tables, taus, args.output_dir / "synthetic_precision.png", note),
               plot_scores(TITLES["synthetic"], results["synthetic"]["z"], task["normal_steps"],
                           results["synthetic"]["runs"][0]["scores"], task["events"],
                           "Red lines: the injected spikes; orange bands: the injected drifts.",
                           args.output_dir / "synthetic_scores.png", note)]
    for name, d in labelled.items():
        figures.append(plot_scores(TITLES[name], results[name]["z"], d["train_end"],
                                   results[name]["runs"][0]["scores"], [(*d["window"], 0)],
                                   "Red band: the labelled anomaly; pale: $\\pm$100 steps "
                                   "around it (the UCR rule).",
                                   args.output_dir / f"{name}_scores.png", note))
    summary = {
        "settings": {"synthetic": SYNTHETIC, "hidden": HIDDEN, "epochs": args.epochs,
                     "seeds": list(seeds),
                     "training_windows": TRAINING, "moving_average_width": MA_WIDTH,
                     "tolerance": TOLERANCE, "event_tolerance": EVENT_TOLERANCE,
                     "peak_radius": PEAK_RADIUS, "margin": MARGIN},
        "series": {name: {"length": len(series), "train_end": int(train_end),
                          "discord_length": int(results[name]["period"]),
                          "window": labelled[name]["window"] if name in labelled else None}
                   for name, (series, train_end) in splits.items()},
        "synthetic_events": task["events"].tolist(),
        "time_constants": {name: {"tau_h": [r["tau_h"].tolist() for r in res["runs"]],
                                  "tau_c": [r["tau_c"].tolist() for r in res["runs"]]}
                           for name, res in results.items()},
        "synthetic": synthetic, "synthetic_per_seed": tables, "hits": hits,
        "outcomes": outcomes, "verdicts": verdicts,
        "figures": [str(f) for f in figures], "seconds": time.time() - start}
    (args.output_dir / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"figures and results.json in {args.output_dir}; total {time.time() - start:.0f} s")
    return summary


if __name__ == "__main__":
    main()
